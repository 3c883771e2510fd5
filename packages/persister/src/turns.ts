// Taking turns in start order: batches run concurrently, but a step that must happen in queue order
// (publishing a batch's events, applying its edits and deletes) waits for the previous batch's turn.

export interface Turn {
  /** Resolves when every earlier turn has been passed. */
  readonly ready: Promise<void>;
  /** Lets the next turn go (idempotent). Call it when this turn's ordered step is done. */
  pass(): void;
  /** Passes as soon as this turn is ready: for a batch with nothing to do in order, or one that failed. */
  passWhenReady(): void;
}

/** A queue of turns; `next()` takes the one after the last taken. */
export class Turns {
  private last: Promise<void> = Promise.resolve();

  next(): Turn {
    const ready = this.last;
    let pass!: () => void;
    this.last = new Promise<void>((resolve) => {
      pass = resolve;
    });
    return { ready, pass, passWhenReady: () => void ready.then(pass) };
  }
}
