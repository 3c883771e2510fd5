// Errors the RabbitMQ helpers, node launcher and leak check throw. Each has a stable `code`;
// the list is mirrored in packages/testkit/README.md.

export abstract class TestkitError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A RabbitMQ CLI tool (rabbitmqctl, rabbitmq-queues) exited non-zero or timed out; the message holds its stderr. */
export class RabbitCommandError extends TestkitError {
  readonly code = 'TESTKIT_RABBIT_COMMAND_FAILED';
  /** The command line that failed. */
  readonly command: string;
  /** The tool's exit code, or null when it was killed (timeout). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    message: string,
    details: { command: string; exitCode: number | null; stdout: string; stderr: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** A testkit RabbitMQ node did not boot, did not join its cluster, or did not stop in time. */
export class RabbitNodeError extends TestkitError {
  readonly code = 'TESTKIT_RABBIT_NODE_FAILED';
}

/** AMQP connections or channels were still open when a leak check ran. */
export class AmqpLeakError extends TestkitError {
  readonly code = 'TESTKIT_AMQP_LEAK';
  /** One line per open connection or channel, with where it was opened. */
  readonly details: readonly string[];

  constructor(message: string, details: readonly string[]) {
    super(message);
    this.details = details;
  }
}
