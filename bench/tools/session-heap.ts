// Profiling aid for W3: the V8 heap that the gateway's own per-connection state costs (Session, the
// LocalIndex, the sessions set), without uWS, sockets or services: N sessions of U users identify
// through a stub host (READY listing the default group and `--channels` more), then the heap after a
// forced GC is compared with the heap before. RSS-level costs (uWS, malloc, V8's young generation) are
// W3's business; this isolates what the TypeScript code keeps.
//
//   node --expose-gc --conditions=@chat/source --import tsx bench/tools/session-heap.ts [sockets] [socketsPerUser] [channels]
import { LocalIndex } from '../../packages/gateway/src/local-index.js';
import { Session, type SessionHost, type SocketPort } from '../../packages/gateway/src/session.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 10_000);
const PER_USER = Number(process.argv[3] ?? 1);
const EXTRA_CHANNELS = Number(process.argv[4] ?? 0);

/** READY frames sent, all sockets together (counted here: a per-socket field would be measured too). */
let readies = 0;

class NullSocket implements SocketPort {
  send(text: string): boolean {
    if (text.startsWith('{"op":0,"t":"READY"')) readies++;
    return true;
  }
  end(): void {}
  bufferedAmount(): number {
    return 0;
  }
  cork(fn: () => void): void {
    fn();
  }
}

const counter = { inc() {}, observe() {} };
const index = new LocalIndex();

/** The channels each session is a member of (READY and RESUME alike here). */
function channelList() {
  return [{ id: '1', kind: 'group', name: 'official', owner_id: null, created_at: new Date(0).toISOString() }].concat(
    Array.from({ length: EXTRA_CHANNELS }, (_, i) => ({
      id: String(2 + i),
      kind: 'group',
      name: `g${i}`,
      owner_id: null,
      created_at: new Date(0).toISOString(),
    })),
  );
}

const host = {
  serverId: 'probe',
  heartbeatIntervalMs: 30_000,
  identifyTimeoutMs: 10_000,
  maxFrameBytes: 16_384,
  rateFrames: 120,
  rateWindowMs: 60_000,
  rateBurst: 20,
  maxBackpressureBytes: 1 << 20,
  slowConsumerGraceMs: 5000,
  resumeMax: 1000,
  attachTimeoutMs: 15_000,
  attachMaxMs: 60_000,
  verifyToken: async (t: unknown) => {
    const n = String(t).slice(1);
    return { userId: `${1_000_000_000_000_000 + Number(n)}`, username: `u${n}` };
  },
  attach: async () => {},
  detach: () => {},
  channelsOf: async () => channelList(),
  memberChannels: async () => channelList(),
  changesSince: async () => ({ events: [], truncated: false }),
  userRate: async () => ({ ok: true, retryAfterMs: 0 }),
  services: {},
  index,
  metrics: new Proxy({}, { get: () => counter }),
  logger: { debug() {}, info() {}, warn() {}, error() {} },
} as unknown as SessionHost;

const sessions = new Set<Session>();
const enc = new TextEncoder();
async function run(): Promise<void> {
  gc!();
  await new Promise((r) => setTimeout(r, 100));
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    const s = new Session(new NullSocket(), host);
    sessions.add(s);
    s.open();
    const user = Math.floor(i / PER_USER);
    s.message(enc.encode(JSON.stringify({ op: 2, d: { token: `t${user}` } })).buffer as ArrayBuffer, false);
  }
  await new Promise((r) => setTimeout(r, 500));
  const ready = readies;
  gc!();
  gc!();
  const after = process.memoryUsage().heapUsed;
  for (const s of sessions) s.closed();
  sessions.clear();
  gc!();
  gc!();
  const closed = process.memoryUsage().heapUsed;
  console.log(
    JSON.stringify({
      sockets: N,
      perUser: PER_USER,
      channels: 1 + EXTRA_CHANNELS,
      ready,
      heapBytesPerSocket: Math.round((after - before) / N),
      heapAfterCloseMinusBeforeKiB: Math.round((closed - before) / 1024),
      users: index.users,
    }),
  );
}
void run();
