// docker-compose.yml as docker-compose itself reads it (`docker-compose config`; there is no Docker
// engine here, so nothing is built or run): accepted, every variable the gateway's and the
// persister's config.ts read is set for that service and documented in docs/operations.md, and the
// pieces that must agree do (ports and targets, topology names, credentials, template variables).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { REPO, yaml } from './infra-files.js';

const read = (path: string) => readFileSync(`${REPO}${path}`, 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string | null>;
  ports?: unknown[];
  container_name?: string;
  hostname?: string;
  healthcheck?: { test: string[] | string };
  restart?: string;
  /** As `docker-compose config` (v1) prints them: "source:target[:mode]". */
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  command?: string[] | string;
}
interface Compose {
  services: Record<string, Service>;
}

/** Bind mounts (absolute host path) and named volumes of a service. */
function mounts(s: Service): Array<{ source: string; target: string; bind: boolean }> {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source, target, bind: source.startsWith('/') };
  });
}

/** The variables of .env.example, with `value(name)` in place of each example value. */
function envFile(value: (name: string) => string): string {
  return read('.env.example')
    .split('\n')
    .map((line) => line.replace(/^([A-Z][A-Z0-9_]*)=.*$/, (_, name: string) => `${name}=${value(name)}`))
    .join('\n');
}

/** Runs docker-compose with only the variables of `envText` (as an operator's .env): stdout, stderr and status. */
function runCompose(args: string[], envText: string | undefined): { stdout: string; stderr: string; status: number } {
  const dir = mkdtempSync(join(tmpdir(), 'compose-env-'));
  try {
    const envArgs: string[] = [];
    if (envText !== undefined) {
      writeFileSync(join(dir, '.env'), envText);
      envArgs.push('--env-file', join(dir, '.env'));
    }
    // Nothing from this machine's environment: only what the file and the env file give.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const r = spawnSync('docker-compose', [...envArgs, '-f', `${REPO}docker-compose.yml`, ...args], {
      cwd: REPO,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every secret of .env.example set to a fresh random hex value, as its instructions say. */
const SECRETS = envFile(() => randomBytes(32).toString('hex'));

/** The gateway's and the persister's environment as compose renders it with `envText`. */
function serviceEnvs(envText: string): { gateway: Record<string, string>; persister: Record<string, string> } {
  const r = runCompose(['config'], envText);
  assert.equal(r.status, 0, r.stderr);
  const services = (yaml(r.stdout) as Compose).services;
  const strings = (e: Record<string, string | null> | undefined) =>
    Object.fromEntries(Object.entries(e ?? {}).map(([k, v]) => [k, v ?? '']));
  return { gateway: strings(services.gateway!.environment), persister: strings(services.persister!.environment) };
}

/** A service's own configuration loader (its config.ts, from source) run on `env`: the config, or its error. */
function serviceConfig(
  pkg: 'gateway' | 'persister',
  env: Record<string, string>,
): { config: Record<string, unknown>; error: string } {
  const script =
    `import { loadConfig } from ${JSON.stringify(`${REPO}packages/${pkg}/src/config.ts`)};` +
    'try { console.log(JSON.stringify({ config: loadConfig(JSON.parse(process.env.CONFIG_UNDER_TEST)), error: "" })); }' +
    'catch (e) { console.log(JSON.stringify({ config: {}, error: e.message })); }';
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    env: { PATH: process.env.PATH, CONFIG_UNDER_TEST: JSON.stringify(env) },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

function composeConfig(args: string[]): string {
  const r = runCompose(args, SECRETS);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/**
 * Variables a service's config.ts reads: `env, 'NAME'` (str/int helpers) and `env.NAME` — its own, and
 * those of the @chat/service-kit readers it calls (AMQP_URL, the TLS block, the deployment settings).
 */
function configVariables(pkg: 'gateway' | 'persister'): string[] {
  const own = read(`packages/${pkg}/src/config.ts`);
  const kit = ['amqp.ts', 'deployment.ts'].map((f) => read(`packages/service-kit/src/${f}`));
  const text = [own, ...kit].join('\n');
  const names = new Set<string>();
  for (const m of text.matchAll(/\benv,\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
  for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
  return [...names].sort();
}

const LONG_RUNNING = [
  'rabbitmq-1',
  'rabbitmq-2',
  'rabbitmq-3',
  'mongo',
  'redis',
  'persister',
  'gateway',
  'nginx',
  'prometheus',
  'grafana',
];
const ONE_SHOT = ['rabbitmq-init', 'mongo-keyfile', 'mongo-init'];

describe('docker-compose.yml', () => {
  let compose: Compose;

  before(() => {
    compose = yaml(composeConfig(['config'])) as Compose;
  });

  test('docker-compose config accepts it once every secret of .env.example is set, and refuses it while one is missing', () => {
    composeConfig(['config', '-q']);
    assert.deepEqual(Object.keys(compose.services).sort(), [...LONG_RUNNING, ...ONE_SHOT].sort());
    const none = runCompose(['config', '-q'], undefined);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /set [A-Z_]+ in \.env \(see \.env\.example\)/);
    const names = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    assert.ok(names.length >= 9, names.join(', '));
    for (const missing of names) {
      const r = runCompose(
        ['config', '-q'],
        envFile((n) => (n === missing ? '' : 'x0123456789abcdef')),
      );
      assert.notEqual(r.status, 0, `accepted with ${missing} empty`);
      assert.match(r.stderr, new RegExp(`set ${missing} in \\.env`), missing);
    }
  });

  test("the services refuse .env.example's values and start with real ones", () => {
    const example = serviceEnvs(read('.env.example'));
    assert.match(serviceConfig('gateway', example.gateway).error, /^JWT_SECRET still holds an example value/);
    assert.match(serviceConfig('persister', example.persister).error, /^AMQP_URL still holds an example value/);
    const real = serviceEnvs(SECRETS);
    assert.equal(serviceConfig('gateway', real.gateway).config.declareTopology, false);
    assert.deepEqual(serviceConfig('persister', real.persister).config.writers, ['chat-gateway']);
  });

  test('nothing but nginx listens beyond the host; no open admin doors', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const port of s.ports ?? []) {
        if (name === 'nginx') continue;
        assert.match(String(port), /^127\.0\.0\.1:/, `${name} publishes ${JSON.stringify(port)} beyond 127.0.0.1`);
      }
    }
    assert.ok(!JSON.stringify(compose.services.prometheus!.command).includes('enable-lifecycle'));
    const grafana = compose.services.grafana!.environment!;
    assert.equal(grafana.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.notEqual(grafana.GF_SECURITY_ADMIN_PASSWORD, 'admin');
    assert.ok(JSON.stringify(compose.services.mongo!.command).includes('--keyFile'));
    assert.ok(compose.services.mongo!.environment!.MONGO_INITDB_ROOT_PASSWORD);
    assert.ok(JSON.stringify(compose.services.redis!.command).includes('--requirepass'));
    const cookie = compose.services['rabbitmq-1']!.environment!.RABBITMQ_ERLANG_COOKIE!;
    assert.match(cookie, /^[0-9a-f]{64}$/, 'the cookie comes from the env file');
  });

  for (const pkg of ['gateway', 'persister'] as const) {
    test(`every variable the ${pkg}'s config.ts reads is set for the ${pkg} service, and no other`, () => {
      const wanted = configVariables(pkg);
      assert.ok(wanted.length >= 15 && wanted.includes('AMQP_URL'), `parsed ${wanted.join(', ')}`);
      const env = compose.services[pkg]!.environment ?? {};
      assert.deepEqual(
        wanted.filter((name) => !(name in env)),
        [],
        `unset in docker-compose.yml for ${pkg}`,
      );
      assert.deepEqual(
        Object.keys(env)
          .filter((name) => !wanted.includes(name))
          .sort(),
        [],
        `set for ${pkg} but never read`,
      );
      for (const [name, value] of Object.entries(env)) assert.notEqual(value, null, `${name} has no value`);
    });

    test(`docs/operations.md documents every variable of the ${pkg}`, () => {
      const doc = read('docs/operations.md');
      assert.deepEqual(
        configVariables(pkg).filter((name) => !doc.includes(`\`${name}\``)),
        [],
      );
    });
  }

  test('gateways and persisters can be scaled: no container name, no host port, an id per replica', () => {
    for (const name of ['gateway', 'persister']) {
      const s = compose.services[name]!;
      assert.equal(s.container_name, undefined, name);
      assert.equal(s.ports, undefined, name);
      assert.equal(s.hostname, undefined, `${name}: Docker's per-container host name makes SERVER_ID unique`);
      // Empty means "derive from the host name and pid" in both config.ts files.
      assert.equal(s.environment?.SERVER_ID, '', name);
      assert.match(
        read(`packages/${name}/src/config.ts`),
        /str\(env, 'SERVER_ID', `[a-z]+-\$\{hostname\(\)\}-\$\{process\.pid\}`\)/,
      );
    }
  });

  test('every long-running service has a health check; the one-shot ones do not restart', () => {
    for (const name of LONG_RUNNING) assert.ok(compose.services[name]!.healthcheck?.test, `${name} has no healthcheck`);
    for (const name of ONE_SHOT) assert.equal(compose.services[name]!.restart, 'no', name);
    for (const name of ['gateway', 'persister']) {
      const deps = compose.services[name]!.depends_on ?? {};
      assert.equal(deps['rabbitmq-init']?.condition, 'service_completed_successfully', name);
      assert.equal(deps['mongo-init']?.condition, 'service_completed_successfully', name);
    }
  });

  test('the broker settings agree: cluster nodes, credentials, topology prefix, partitions and delivery limit', () => {
    const defs = JSON.parse(read('infra/rabbitmq/definitions.json')) as {
      users: Array<{ name: string }>;
      permissions: unknown[];
      queues: Array<{ name: string; arguments: Record<string, unknown> }>;
      exchanges: Array<{ name: string; type: string }>;
    };
    const conf = read('infra/rabbitmq/rabbitmq.conf');
    const rabbitServices = Object.keys(compose.services).filter((n) => /^rabbitmq-\d+$/.test(n));
    assert.equal(rabbitServices.length, 3);
    const peers = [...conf.matchAll(/^cluster_formation\.classic_config\.nodes\.\d+\s*=\s*(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(
      peers,
      rabbitServices.map((n) => `rabbit@${compose.services[n]!.hostname}`),
    );
    for (const svc of ['gateway', 'persister']) {
      const env = compose.services[svc]!.environment!;
      const urls = env.AMQP_URL!.split(',').map((u) => new URL(u));
      assert.deepEqual(urls.map((u) => u.hostname).sort(), rabbitServices.sort(), `${svc}: one URL per node`);
      // Its own account, created by init.sh (definitions.json holds no account and no password).
      assert.deepEqual([...new Set(urls.map((u) => u.username))], [`chat-${svc}`], svc);
      assert.match(read('infra/rabbitmq/init.sh'), new RegExp(`^ensure_account chat-${svc} `, 'm'));
      assert.equal(env.DECLARE_TOPOLOGY, 'false', `${svc}: its account may not declare the shared topology`);
      const prefix = env.CHAT_PREFIX!;
      const routes = defs.exchanges.filter((e) => e.name.startsWith(`${prefix}.route.`));
      assert.equal(routes.length, Number(env.CHAT_PARTITIONS), `${svc}: route exchanges for CHAT_PARTITIONS`);
      assert.ok(routes.every((e) => e.type === 'topic'));
      assert.ok(defs.queues.some((q) => q.name === `${prefix}.persist.dead`));
    }
    assert.deepEqual(defs.users, []);
    assert.deepEqual(defs.permissions, []);
    assert.equal(compose.services.persister!.environment!.PERSIST_WRITERS, 'chat-gateway');
    const persist = defs.queues.find(
      (q) => q.name === `${compose.services.persister!.environment!.CHAT_PREFIX}.persist`,
    )!;
    // The gateways declare it too, with the router's default (10): all three must agree.
    assert.equal(
      String(persist.arguments['x-delivery-limit']),
      compose.services.persister!.environment!.PERSIST_DELIVERY_LIMIT,
    );
    assert.equal(persist.arguments['x-delivery-limit'], 10);
    // The same for the bound (persistMaxLength): a different value would be PRECONDITION_FAILED.
    for (const svc of ['gateway', 'persister'])
      assert.equal(String(persist.arguments['x-max-length']), compose.services[svc]!.environment!.PERSIST_MAX_LENGTH);
    const cookies = new Set(
      [...rabbitServices, 'rabbitmq-init'].map((n) => compose.services[n]!.environment?.RABBITMQ_ERLANG_COOKIE),
    );
    assert.equal(cookies.size, 1, 'one Erlang cookie for every node and the CLI');
  });

  test('Prometheus scrapes what compose runs, on the ports the services listen on', () => {
    const prom = yaml(read('infra/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{
        job_name: string;
        metrics_path?: string;
        static_configs?: Array<{ targets: string[] }>;
        dns_sd_configs?: Array<{ names: string[]; port: number; type: string }>;
      }>;
    };
    const jobs = new Map(prom.scrape_configs.map((j) => [j.job_name, j]));
    const dns = (job: string) => jobs.get(job)!.dns_sd_configs![0]!;
    assert.deepEqual(dns('gateway').names, ['gateway']);
    assert.equal(String(dns('gateway').port), compose.services.gateway!.environment!.PORT);
    assert.deepEqual(dns('persister').names, ['persister']);
    assert.equal(String(dns('persister').port), compose.services.persister!.environment!.PERSISTER_HTTP_PORT);
    const promPort = /^prometheus\.tcp\.port\s*=\s*(\d+)/m.exec(read('infra/rabbitmq/rabbitmq.conf'))![1];
    for (const job of ['rabbitmq', 'rabbitmq-queues']) {
      const targets = jobs.get(job)!.static_configs![0]!.targets;
      assert.deepEqual(
        targets,
        ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'].map((n) => `${n}:${promPort}`),
      );
    }
    for (const target of jobs.get('rabbitmq')!.static_configs![0]!.targets) {
      assert.ok(compose.services[target.split(':')[0]!], target);
    }
    const mounted = mounts(compose.services.prometheus!).some(
      (m) => m.target === '/etc/prometheus/prometheus.yml' && m.source === `${REPO}infra/prometheus/prometheus.yml`,
    );
    assert.ok(mounted, 'prometheus.yml is mounted where the command reads it');
  });

  test('nginx gets every variable of the shipped template and reaches the gateways on their port', () => {
    const template = read('infra/nginx/templates/chat.conf.template');
    const vars = [...new Set([...template.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!))].sort();
    const env = compose.services.nginx!.environment!;
    assert.deepEqual(vars, Object.keys(env).sort());
    assert.equal(env.GATEWAY_SERVERS, `server gateway:${compose.services.gateway!.environment!.PORT};`);
    const targets = mounts(compose.services.nginx!).map((m) => m.target);
    assert.ok(targets.includes('/etc/nginx/templates/chat.conf.template'));
    assert.ok(targets.includes(env.DEMO_ROOT!));
    assert.ok(targets.includes(env.ADMIN_ROOT!));
  });

  test('the images are built by infra/docker/Dockerfile as the services it supports, and every mounted repository file exists', () => {
    const dockerfile = read('infra/docker/Dockerfile');
    for (const name of ['gateway', 'persister']) {
      const build = compose.services[name]!.build!;
      assert.ok(existsSync(`${build.context}/${build.dockerfile}`), build.dockerfile);
      assert.equal(build.args?.SERVICE, name);
    }
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m, 'a pinned Node 20 bookworm-slim');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /--omit=dev/);
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /packages\/\$\{CHAT_SERVICE\}\/dist\/main\.js/);
    assert.ok(existsSync(`${REPO}.dockerignore`));
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s).filter((m) => m.bind)) {
        // The demo page's build output is produced by its own package's build.
        if (m.source === `${REPO}packages/demo/dist`) continue;
        assert.ok(m.source.startsWith(REPO) && existsSync(m.source), `${name}: ${m.source}`);
      }
    }
  });
});
