// The exact command that produced a result, as the reader would type it.
import { relative } from 'node:path';

function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * `npm run -w @chat/bench <script> -- <args>` when started through npm (the documented way),
 * otherwise the node command line itself.
 */
export function commandLine(): string {
  const args = process.argv.slice(2).map(quote);
  const script = process.env.npm_lifecycle_event;
  if (script && process.env.npm_package_name === '@chat/bench') {
    return `npm run -w @chat/bench ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  }
  const file = relative(process.cwd(), process.argv[1] ?? '');
  return ['node', ...process.execArgv.map(quote), quote(file), ...args].join(' ');
}
