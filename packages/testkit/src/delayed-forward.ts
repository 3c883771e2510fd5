// One direction of a proxied TCP connection, with an adjustable one-way delay: each chunk read from
// `from` is written to `to` no earlier than `delayMs()` after it was read, in the order it was read.
// With no delay and nothing held, chunks go straight through. Backpressure is kept both ways: the
// source is paused while the destination's buffer is full or while more than HELD_LIMIT bytes wait
// for their time, so a slow or delayed peer cannot make the proxy's memory grow.
import type { Socket } from 'node:net';

/** Bytes a delayed direction holds before it stops reading from its source. */
export const HELD_LIMIT = 4 * 1024 * 1024;

interface Held {
  chunk: Buffer;
  due: number;
}

export function forwardWithDelay(from: Socket, to: Socket, delayMs: () => number): void {
  const held: Held[] = [];
  let heldBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let waitingForDrain = false;

  const resumeIfRoom = () => {
    if (!waitingForDrain && heldBytes <= HELD_LIMIT && from.isPaused()) from.resume();
  };
  const write = (chunk: Buffer) => {
    if (!to.write(chunk)) {
      waitingForDrain = true;
      from.pause();
    }
  };
  const release = () => {
    timer = undefined;
    const now = Date.now();
    while (held.length > 0 && held[0]!.due <= now) {
      const { chunk } = held.shift()!;
      heldBytes -= chunk.length;
      write(chunk);
    }
    if (held.length > 0) timer = setTimeout(release, held[0]!.due - now);
    resumeIfRoom();
  };

  to.on('drain', () => {
    waitingForDrain = false;
    resumeIfRoom();
  });
  from.on('data', (chunk: Buffer) => {
    const delay = delayMs();
    if (delay <= 0 && held.length === 0) {
      write(chunk);
      return;
    }
    held.push({ chunk, due: Date.now() + Math.max(0, delay) });
    heldBytes += chunk.length;
    if (heldBytes > HELD_LIMIT) from.pause();
    timer ??= setTimeout(release, held[0]!.due - Date.now());
  });
  from.on('end', () => {
    // Half-close only once every held chunk has gone out.
    const finish = () => (held.length === 0 ? to.end() : setTimeout(finish, held[held.length - 1]!.due - Date.now()));
    finish();
  });
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    held.length = 0;
    heldBytes = 0;
  });
}
