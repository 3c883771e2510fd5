// Runs the RabbitMQ CLI tools straight from the Debian install. The /usr/sbin wrappers switch to
// the rabbitmq user through `su -c` and re-quote arguments; calling /usr/lib/rabbitmq/bin as
// root with a HOME that holds the right .erlang.cookie avoids both.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { RabbitCommandError } from '../errors.js';

export const RABBITMQ_BIN_DIR = '/usr/lib/rabbitmq/bin';
/** The node the Debian package runs (NODENAME in /etc/rabbitmq/rabbitmq-env.conf). */
export const SYSTEM_NODE = 'rabbit@localhost';
const SYSTEM_HOME = '/var/lib/rabbitmq';

/** Which node a CLI call talks to and how. */
export interface CtlTarget {
  /** Erlang node name. Default: 'rabbit@localhost', the system node. */
  node?: string;
  /**
   * Environment of the CLI process, merged over process.env. Default: HOME=/var/lib/rabbitmq (the
   * system node's cookie, readable by root) for the system node, or when HOME has no .erlang.cookie.
   */
  env?: NodeJS.ProcessEnv;
  /** Kill the CLI process after this long. Default: 60_000 ms. */
  timeoutMs?: number;
}

export type CliTool = 'rabbitmqctl' | 'rabbitmq-queues' | 'rabbitmq-diagnostics';

function defaultEnv(node: string): NodeJS.ProcessEnv {
  // The system node's cookie is the one in its own home. A root HOME may hold another cookie
  // (Erlang writes a random one there the first time a CLI tool runs without HOME set otherwise),
  // which the system node would refuse: for the system node, always use its home.
  if (node === SYSTEM_NODE && readable(join(SYSTEM_HOME, '.erlang.cookie'))) return { HOME: SYSTEM_HOME };
  const home = process.env.HOME;
  if (home && readable(join(home, '.erlang.cookie'))) return {};
  return readable(join(SYSTEM_HOME, '.erlang.cookie')) ? { HOME: SYSTEM_HOME } : {};
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<tool> -n <node> ...args` and resolves with its stdout; rejects with its stderr in the message. */
export function runCli(tool: CliTool, args: readonly string[], target: CtlTarget = {}): Promise<string> {
  const node = target.node ?? SYSTEM_NODE;
  const fullArgs = ['-n', node, ...args];
  const env = { ...process.env, ...(target.env ?? defaultEnv(node)) };
  const command = `${tool} ${fullArgs.join(' ')}`;
  return new Promise((resolve, reject) => {
    execFile(
      join(RABBITMQ_BIN_DIR, tool),
      fullArgs,
      { env, timeout: target.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        const exitCode = typeof error.code === 'number' ? error.code : null;
        const why = error.killed ? 'timed out' : `exited with ${exitCode ?? error.code}`;
        const detail = (stderr.trim() || stdout.trim()).slice(0, 4000);
        reject(
          new RabbitCommandError(
            `${command} ${why}: ${detail}`,
            { command, exitCode, stdout, stderr },
            { cause: error },
          ),
        );
      },
    );
  });
}

/** Encodes a string as an Erlang binary literal of its UTF-8 bytes, so no quoting can break `eval` code. */
export function erlangBinary(value: string): string {
  return `<<${[...Buffer.from(value, 'utf8')].join(',')}>>`;
}

/** Parses the output of a CLI command run with `--formatter json`: an array of objects. */
export function parseJsonRows(out: string, what: string): Record<string, unknown>[] {
  const text = out.trim();
  if (text === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`unexpected output from ${what}: ${text.slice(0, 500)}`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new Error(`unexpected output from ${what}: ${text.slice(0, 500)}`);
  return parsed as Record<string, unknown>[];
}
