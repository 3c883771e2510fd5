// The chat API as one command table: method → params shape → ChatService call → result. WebSocket
// REQUESTs (session.ts) and the HTTP API (http-api.ts) both look commands up here; they differ only in
// where params come from (a REQUEST's `params`; an HTTP body plus path and query) and how a result or
// an error is framed. Guarantees: `params` are validated against `shape` before `run` is called (the
// transport does it, docs/protocol.md §5.4 and §6.1); `run` reaches the broker only through ChatService
// (durable writes are answered after the broker's confirm); a `durable` command is one that passes
// admission control on either transport; only `socket` commands are WebSocket REQUEST methods, and
// every command but typing has an HTTP route.
import type { Store } from '@chat/store';
import type { TokenService } from './auth.js';
import type { AuthBudgets } from './budgets.js';
import type { Author, ChatService } from './chat-service.js';
import { ApiError } from './errors.js';
import type { SharedRateLimiter } from './guards.js';
import { checkId, type Shape } from './validation.js';

/** What commands call. */
export interface CommandServices {
  chat: ChatService;
  store: Store;
  tokens: TokenService;
  budgets: AuthBudgets;
}

/** The caller of a command that takes no token (register, login). */
export const NOBODY: Author = Object.freeze({ id: '', username: '' });

export interface Command {
  /** The exact params (unknown fields refused). An HTTP route takes its path ids out of it. */
  readonly shape: Shape;
  /** A token is required (the caller is its user); false: the caller is NOBODY. */
  readonly auth: boolean;
  /** A durable write: passes admission control on either transport. */
  readonly durable: boolean;
  /** A WebSocket REQUEST method (docs/protocol.md §5.4). HTTP serves the commands http-routes.ts maps. */
  readonly socket: boolean;
  /** Runs the command with params that passed `shape`; `address` is the client's (abuse budgets). */
  run(s: CommandServices, caller: Author, params: Params, address: string): Promise<unknown>;
}

// The shapes guarantee the fields below; the table reads them without re-checking.
// biome-ignore lint/suspicious/noExplicitAny: params are typed by each command's shape
type Params = any;

/** Takes one from a budget; `rate_limited` (429 with Retry-After) when it is spent. */
async function spend(budget: SharedRateLimiter, scope: string, what: string): Promise<void> {
  const d = await budget.hit(scope);
  if (!d.ok) throw new ApiError('rate_limited', `too many ${what}; retry later`, { retryAfterMs: d.retryAfterMs });
}

const credentials: Shape = { username: 'string', password: 'string' };

/** A command; by default it needs a token, is no durable write and is no WebSocket REQUEST method. */
function command(c: Pick<Command, 'shape' | 'run'> & Partial<Command>): Command {
  return { auth: true, durable: false, socket: false, ...c };
}

/** Every command, by method name. */
export const COMMANDS = {
  'user.register': command({
    shape: credentials,
    auth: false,
    async run(s, _caller, p) {
      await spend(s.budgets.signup, 'all', 'sign-ups');
      return s.chat.register(p.username, p.password);
    },
  }),
  'session.create': command({
    shape: credentials,
    auth: false,
    async run(s, _caller, p, address) {
      await spend(s.budgets.loginAddress, address, 'logins from this address');
      await spend(s.budgets.login, `${address}:${p.username.slice(0, 64)}`, 'logins for this user');
      const user = await s.chat.login(p.username, p.password);
      const token = await s.tokens.sign({ userId: user.id, username: user.username });
      return { token, user: { id: user.id, username: user.username } };
    },
  }),
  // Log out everywhere: every token issued to the caller so far stops working, on every gateway
  // (HTTP at once, sockets at their next IDENTIFY or RESUME). Log in again for a new one.
  'session.delete': command({
    shape: {},
    run: (s, caller) => s.chat.revokeTokens(caller.id),
  }),
  'user.get': command({
    shape: {},
    async run(s, caller) {
      const u = await s.store.accounts.get(caller.id);
      if (!u) throw new ApiError('unauthorized', 'the user of this token no longer exists');
      return u;
    },
  }),
  'channel.list': command({
    shape: {},
    run: (s, caller) => s.chat.channelsOf(caller.id),
  }),
  'channel.create': command({
    shape: { kind: 'string', name: 'string?', recipients: 'string[]?', invite: 'string?' },
    run: (s, caller, p) => s.chat.createChannel(caller, p.kind, p.name, p.recipients ?? [], p.invite),
  }),
  'member.add': command({
    shape: { channel_id: 'snowflake', user_id: 'string' },
    run: (s, caller, p) => s.chat.addMember(caller.id, p.channel_id, checkId(p.user_id, 'user')),
  }),
  'member.remove': command({
    shape: { channel_id: 'snowflake', user_id: 'snowflake' },
    run: (s, caller, p) => s.chat.removeMember(caller.id, p.channel_id, p.user_id),
  }),
  'message.create': command({
    shape: { channel_id: 'snowflake', content: 'string', nonce: 'string?' },
    durable: true,
    socket: true,
    run: (s, caller, p) => s.chat.sendMessage(caller, p.channel_id, p.content, p.nonce),
  }),
  'message.update': command({
    shape: { channel_id: 'snowflake', message_id: 'snowflake', content: 'string' },
    durable: true,
    socket: true,
    run: (s, caller, p) => s.chat.editMessage(caller.id, p.channel_id, p.message_id, p.content),
  }),
  'message.delete': command({
    shape: { channel_id: 'snowflake', message_id: 'snowflake' },
    durable: true,
    socket: true,
    run: (s, caller, p) => s.chat.deleteMessage(caller.id, p.channel_id, p.message_id),
  }),
  'typing.start': command({
    shape: { channel_id: 'snowflake' },
    socket: true,
    run: (s, caller, p) => s.chat.typing(caller, p.channel_id),
  }),
  'history.get': command({
    shape: { channel_id: 'snowflake', before: 'snowflake?', after: 'snowflake?', limit: 'int?' },
    socket: true,
    run: (s, caller, p) => s.chat.history(caller.id, p.channel_id, p),
  }),
};

export type Method = keyof typeof COMMANDS;

const SOCKET_COMMANDS: ReadonlyMap<string, Command> = new Map(Object.entries(COMMANDS).filter(([, c]) => c.socket));

/** The WebSocket REQUEST method's command; undefined for an unknown method or one the socket does not offer. */
export function socketCommand(method: string): Command | undefined {
  return SOCKET_COMMANDS.get(method);
}
