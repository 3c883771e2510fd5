import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it, mock } from 'node:test';
import { closeInOrder, exitOnSignals } from '../../src/shutdown.js';

/** A stand-in for `process`: signals are emitted by the test, exit codes recorded. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return Object.assign(emitter, { exits, exit: (code: number) => void exits.push(code) });
}

function recordingLogger() {
  const lines: string[] = [];
  const log = (obj: object | string, msg?: string) => void lines.push(typeof obj === 'string' ? obj : (msg ?? ''));
  return { lines, logger: { warn: log, error: log } };
}

describe('graceful shutdown', () => {
  it('on the first signal runs stop once (a second signal is ignored) and exits with its code', async () => {
    const proc = fakeProcess();
    const { logger } = recordingLogger();
    const signals: string[] = [];
    let finish!: (code: number) => void;
    const shutdown = exitOnSignals({
      logger,
      process: proc,
      timeoutMs: 60_000,
      timeoutMessage: 'too slow',
      stop: (signal) => {
        signals.push(signal);
        return new Promise<number>((resolve) => {
          finish = resolve;
        });
      },
    });
    proc.emit('SIGTERM');
    proc.emit('SIGINT');
    assert.deepEqual(signals, ['SIGTERM']);
    assert.deepEqual(proc.exits, []);
    finish(3);
    await shutdown('SIGTERM');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(proc.exits, [3]);
  });

  it('a stop that throws is logged and exits with code 1', async () => {
    const proc = fakeProcess();
    const { lines, logger } = recordingLogger();
    const shutdown = exitOnSignals({
      logger,
      process: proc,
      signals: ['SIGUSR2'],
      timeoutMs: 60_000,
      timeoutMessage: 'too slow',
      stop: async () => {
        throw new Error('broken');
      },
    });
    await shutdown('SIGUSR2');
    assert.deepEqual(proc.exits, [1]);
    assert.deepEqual(lines, ['shutdown failed']);
  });

  it('exits with code 1, logging why, when stop outlasts its bound', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const proc = fakeProcess();
      const { lines, logger } = recordingLogger();
      exitOnSignals({
        logger,
        process: proc,
        timeoutMs: 1000,
        timeoutMessage: 'shutdown timed out',
        stop: () => new Promise<number>(() => {}),
      });
      proc.emit('SIGTERM');
      mock.timers.tick(999);
      assert.deepEqual(proc.exits, []);
      mock.timers.tick(1);
      assert.deepEqual(proc.exits, [1]);
      assert.deepEqual(lines, ['shutdown timed out']);
    } finally {
      mock.timers.reset();
    }
  });

  it('closeInOrder closes one after the other, in order; a failing step is logged and the next still runs', async () => {
    const { lines, logger } = recordingLogger();
    const order: string[] = [];
    await closeInOrder(
      [
        [
          'a',
          async () => {
            await new Promise((r) => setImmediate(r));
            order.push('a');
          },
        ],
        [
          'b',
          () => {
            throw new Error('b failed');
          },
        ],
        ['c', () => void order.push('c')],
      ],
      logger,
    );
    assert.deepEqual(order, ['a', 'c']);
    assert.deepEqual(lines, ['close failed during shutdown']);
  });
});
