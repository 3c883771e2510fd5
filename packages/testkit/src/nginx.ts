// Runs Debian's nginx (not as a daemon) with the shipped template of infra/nginx rendered for
// local ports, in a private prefix directory: for tests, benchmarks and the local runner.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const NGINX_TEMPLATE = fileURLToPath(
  new URL('../../../infra/nginx/templates/chat.conf.template', import.meta.url),
);

/** The admin page as `npm run build` leaves it. */
const ADMIN_PAGE = fileURLToPath(new URL('../../admin/dist/page', import.meta.url));

export interface NginxOptions {
  port: number;
  gateways: ReadonlyArray<{ host?: string; port: number }>;
  demoRoot: string;
  /** The admin page's directory (served at /admin/). Default: packages/admin/dist/page of this repository. */
  adminRoot?: string;
  /**
   * Per-address limits of the template. Defaults are high (tests and benchmarks connect thousands of
   * sockets from a few loopback addresses); compose sets production values.
   */
  wsConnPerIp?: number;
  apiReqPerSecond?: number;
  apiBurst?: number;
  /** nginx binary. Default /usr/sbin/nginx. */
  binary?: string;
}

/** The shipped template with its variables substituted (what envsubst does in the nginx image). */
export function renderChatConf(
  o: Pick<
    NginxOptions,
    'port' | 'gateways' | 'demoRoot' | 'wsConnPerIp' | 'apiReqPerSecond' | 'apiBurst' | 'adminRoot'
  >,
): string {
  const servers = o.gateways
    .map((g) => `server ${g.host ?? '127.0.0.1'}:${g.port} max_fails=1 fail_timeout=5s;`)
    .join('\n    ');
  const values: Record<string, string> = {
    NGINX_PORT: `127.0.0.1:${o.port}`,
    GATEWAY_SERVERS: servers,
    DEMO_ROOT: o.demoRoot,
    ADMIN_ROOT: o.adminRoot ?? ADMIN_PAGE,
    NGINX_WS_CONN_PER_IP: String(o.wsConnPerIp ?? 65_000), // nginx's limit_conn takes at most 65535
    NGINX_API_REQ_PER_S: String(o.apiReqPerSecond ?? 100_000),
    NGINX_API_BURST: String(o.apiBurst ?? 100_000),
  };
  // As envsubst: $-brace NAME placeholders; one the template gains without a value here fails loudly.
  return readFileSync(NGINX_TEMPLATE, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx template variable ${name} has no value in renderChatConf`);
    return value;
  });
}

/** A whole nginx.conf around the rendered server block, writing only under `prefix`. */
export function renderNginxConf(o: NginxOptions, prefix: string): string {
  return [
    // As root, workers would drop to `nobody` and could not read a private temp dir or write the
    // prefix's temp paths; this nginx is a local, loopback-only process, so keep the current user.
    ...(process.getuid?.() === 0 ? ['user root root;'] : []),
    'worker_processes 1;',
    'daemon off;',
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events { worker_connections 16384; }',
    'http {',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    `  access_log ${join(prefix, 'access.log')};`,
    `  client_body_temp_path ${join(prefix, 'body')};`,
    `  proxy_temp_path ${join(prefix, 'proxy')};`,
    `  fastcgi_temp_path ${join(prefix, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(prefix, 'uwsgi')};`,
    `  scgi_temp_path ${join(prefix, 'scgi')};`,
    renderChatConf(o),
    '}',
    '',
  ].join('\n');
}

export interface Nginx {
  readonly url: string;
  readonly port: number;
  readonly confPath: string;
  /** `nginx -t` on the rendered configuration: resolves with its output, rejects on failure. */
  test(): string;
  stop(): Promise<void>;
}

function nginxBinary(o: NginxOptions): string {
  const bin = o.binary ?? '/usr/sbin/nginx';
  if (!existsSync(bin)) throw new Error(`nginx not found at ${bin}: apt-get install nginx`);
  return bin;
}

/** Starts nginx in the foreground in a temporary prefix; resolves once it accepts connections. */
export async function startNginx(o: NginxOptions): Promise<Nginx> {
  const bin = nginxBinary(o);
  const prefix = mkdtempSync(join(tmpdir(), 'testkit-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, d));
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, renderNginxConf(o, prefix));
  const test = () => {
    const r = spawnSync(bin, ['-t', '-p', prefix, '-c', confPath], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nginx -t failed:\n${r.stderr}`);
    return r.stderr;
  };
  test();
  const child: ChildProcess = spawn(bin, ['-p', prefix, '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(o.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start:\n${stderr}`);
    }
    await sleep(25);
  }
  return {
    url: `http://127.0.0.1:${o.port}`,
    port: o.port,
    confPath,
    test,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill('SIGQUIT');
        await Promise.race([gone, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      process.removeListener('exit', killOnExit);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
