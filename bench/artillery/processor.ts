// Artillery processor of the chat scenarios (w1.yml, w2.yml): each virtual user is one client of
// the gateway protocol (docs/protocol.md §5) on Artillery's WebSocket engine. It IDENTIFYs with the token
// of its CSV row, keeps the connection alive with heartbeats, waits for the common start, sends
// message.create on its channel at the scenario's pace (open loop: a send never waits for the
// previous ack), and stays connected until every sender of its worker is done, so it receives all
// messages. The engine records no latency for WebSockets, so this records them as custom metrics:
//   histograms  chat.send_to_receive (ms, every copy a recipient receives), chat.ack (ms, RESPONSE ok)
//   counters    chat.sent, chat.acked, chat.refused.overloaded, chat.refused.other, chat.received,
//               chat.identified, chat.unacked (no answer before the end), chat.closed.<code>
// Each message's content carries `<step>|<sent at, epoch ms>|<sender id>|` so that a recipient
// measures send → receive without any shared state (Artillery's workers are threads), tells its own
// echo from a copy it receives, and ignores messages of another step or run.
// Frames are matched with string operations, not JSON.parse: in W2 every member receives every
// message, and the generator must stay cheaper than the system it measures.

/** The parts of the `ws` WebSocket that the engine puts on `context.ws`. */
interface Socket {
  readyState: number;
  send(data: string): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'close', listener: (code: number) => void): void;
}

/** Artillery's per-VU event emitter: custom metrics go through it. */
interface Events {
  emit(type: 'counter' | 'histogram', name: string, value: number): void;
}

interface Context {
  ws: Socket;
  vars: Record<string, unknown>;
}

interface Client {
  userId: string;
  channelId: string;
  tag: string;
  events: Events;
  /** Request id → send time (epoch ms) of every message.create not yet answered (bounded). */
  pending: Map<string, number>;
  nextId: number;
  startAt: number;
  endAt: number;
  heartbeat: NodeJS.Timeout | undefined;
  finished: boolean;
}

const OPEN = 1;
/** Requests outstanding per client beyond which a send is skipped and counted (a stalled server). */
const MAX_PENDING = 10_000;
const IDENTIFY_TIMEOUT_MS = 30_000;
/** How long `finish` waits past the end for answers still outstanding. */
const ACK_GRACE_MS = 10_000;

const clients = new WeakMap<Socket, Client>();
/** Arrival of this worker's first virtual user: the common start is counted from it. */
let firstArrival = 0;

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function num(vars: Record<string, unknown>, name: string, fallback: number): number {
  const raw = vars[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`variable ${name} must be a number ≥ 0, got ${String(raw)}`);
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function clientOf(context: Context): Client {
  const c = clients.get(context.ws);
  if (!c) throw new Error('identify must run before the other steps');
  return c;
}

function startHeartbeats(c: Client, ws: Socket, intervalMs: number): void {
  if (c.heartbeat) clearInterval(c.heartbeat);
  // Well inside the two-interval deadline; the ack is not awaited.
  c.heartbeat = setInterval(() => {
    if (ws.readyState === OPEN) ws.send('{"op":1,"d":null}');
  }, intervalMs * 0.75);
  c.heartbeat.unref();
}

function onMessageCreate(c: Client, text: string): void {
  const at = text.indexOf('"content":"');
  if (at < 0) return;
  const start = at + 11;
  if (!text.startsWith(`${c.tag}|`, start)) return;
  const [, sentText, senderId] = text.slice(start, text.indexOf('"', start)).split('|', 3);
  if (senderId === c.userId) return; // the sender's own copy
  c.events.emit('counter', 'chat.received', 1);
  c.events.emit('histogram', 'chat.send_to_receive', epochMs() - Number(sentText));
}

function onResponse(c: Client, text: string): void {
  const idAt = text.indexOf('"id":"');
  if (idAt < 0) return;
  const id = text.slice(idAt + 6, text.indexOf('"', idAt + 6));
  const sentAt = c.pending.get(id);
  if (sentAt === undefined) return;
  c.pending.delete(id);
  if (text.includes('"ok":true')) {
    c.events.emit('counter', 'chat.acked', 1);
    c.events.emit('histogram', 'chat.ack', epochMs() - sentAt);
  } else if (text.includes('"code":"overloaded"')) {
    c.events.emit('counter', 'chat.refused.overloaded', 1);
  } else {
    c.events.emit('counter', 'chat.refused.other', 1);
  }
}

/**
 * Step 1: IDENTIFY with the row's token and wait for READY (the engine has opened the socket; the
 * server sent HELLO on open, so IDENTIFY may go at once). Sets `sends` for the loop: `messages` for
 * a sender row, 0 otherwise.
 */
export async function identify(context: Context, events: Events): Promise<void> {
  const { ws, vars } = context;
  const arrival = Date.now();
  if (firstArrival === 0) firstArrival = arrival;
  const rampMs = num(vars, 'rampS', 0) * 1000;
  const startAt = firstArrival + rampMs + num(vars, 'settleMs', 2000);
  const messages = num(vars, 'messages', 0);
  const c: Client = {
    userId: String(vars.user_id),
    channelId: String(vars.channel_id),
    tag: String(vars.step ?? 'run'),
    events,
    pending: new Map(),
    nextId: 0,
    startAt,
    endAt: startAt + messages * num(vars, 'thinkMs', 1000) + num(vars, 'drainMs', 5000),
    heartbeat: undefined,
    finished: false,
  };
  clients.set(ws, c);
  vars.sends = String(vars.sender) === '1' ? messages : 0;

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no READY within 30 s')), IDENTIFY_TIMEOUT_MS);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text.startsWith('{"op":0,"t":"MESSAGE_CREATE"')) onMessageCreate(c, text);
      else if (text.startsWith('{"op":21')) onResponse(c, text);
      else if (text.startsWith('{"op":10')) {
        const m = /"heartbeat_interval":(\d+)/.exec(text);
        startHeartbeats(c, ws, m ? Number(m[1]) : 30_000);
      } else if (text.startsWith('{"op":0,"t":"READY"')) {
        clearTimeout(timer);
        events.emit('counter', 'chat.identified', 1);
        resolve();
      } else if (text.startsWith('{"op":9')) {
        clearTimeout(timer);
        reject(new Error(`INVALID_SESSION: ${text.slice(0, 200)}`));
      }
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (c.heartbeat) clearInterval(c.heartbeat);
      if (!c.finished) events.emit('counter', `chat.closed.${code}`, 1);
      reject(new Error(`closed with ${code} before READY`));
    });
    ws.send(JSON.stringify({ op: 2, d: { token: String(vars.token) } }));
    // Beat from now on, in case HELLO came before this listener; HELLO's interval replaces this one.
    if (!c.heartbeat) startHeartbeats(c, ws, num(vars, 'heartbeatMs', 30_000));
  });
}

/** Step 2: wait for the common start; a sender then waits a random part of its period, so that sends spread. */
export async function awaitStart(context: Context): Promise<void> {
  const c = clientOf(context);
  const jitter = Number(context.vars.sends) > 0 ? Math.random() * num(context.vars, 'thinkMs', 1000) : 0;
  await sleep(c.startAt + jitter - Date.now());
}

/** Loop body (with `think: "{{ thinkMs }}ms"` after it): one message.create on the row's channel. */
export function sendMessage(context: Context, _events: Events, done: () => void): void {
  const c = clientOf(context);
  if (context.ws.readyState !== OPEN) {
    c.events.emit('counter', 'chat.not_sent.closed', 1);
  } else if (c.pending.size >= MAX_PENDING) {
    c.events.emit('counter', 'chat.not_sent.backlog', 1);
  } else {
    const id = String(c.nextId++);
    const now = epochMs();
    c.pending.set(id, now);
    const content = `${c.tag}|${now.toFixed(2)}|${c.userId}|`;
    context.ws.send(
      `{"op":20,"d":{"id":"${id}","method":"message.create","params":{"channel_id":"${c.channelId}","content":"${content}"}}}`,
    );
    c.events.emit('counter', 'chat.sent', 1);
  }
  done();
}

/** Last step: stay connected until every sender is done (plus the drain), then until answers arrive. */
export async function finish(context: Context): Promise<void> {
  const c = clientOf(context);
  await sleep(c.endAt - Date.now());
  const deadline = Date.now() + ACK_GRACE_MS;
  while (c.pending.size > 0 && Date.now() < deadline && context.ws.readyState === OPEN) await sleep(50);
  if (c.pending.size > 0) c.events.emit('counter', 'chat.unacked', c.pending.size);
  c.finished = true;
  if (c.heartbeat) clearInterval(c.heartbeat);
}
