// A small typed event emitter that works the same in Node and browsers. A listener that throws
// does not break the client: the error is re-thrown on a fresh task, where the host reports it
// (an uncaught exception in Node, window.onerror in a browser), as EventTarget does.

/** Event name → the listener's argument list. */
export type EventMap<E> = { [K in keyof E]: unknown[] };
export type Listener<A extends unknown[]> = (...args: A) => void;

type AnyListener = (...args: unknown[]) => void;

export class Emitter<E extends EventMap<E>> {
  readonly #listeners = new Map<keyof E, Set<AnyListener>>();
  readonly #onListenerError: (err: unknown) => void;

  /** `onListenerError` receives what a listener threw; default: re-thrown on a fresh task. */
  constructor(onListenerError: (err: unknown) => void = rethrowLater) {
    this.#onListenerError = onListenerError;
  }

  /** Calls `fn` on every `event`; returns the function that unsubscribes it. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(fn as unknown as AnyListener);
    return () => this.off(event, fn);
  }

  /** Calls `fn` on the next `event` only; returns the function that unsubscribes it. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => {
      off();
      fn(...args);
    }) as Listener<E[K]>);
    return off;
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(fn as unknown as AnyListener);
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}

function rethrowLater(err: unknown): void {
  setTimeout(() => {
    throw err;
  }, 0);
}
