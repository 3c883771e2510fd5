// The chat API as one command table: method → ChatService call → result. WebSocket REQUESTs
// (session.ts) and the HTTP API (http-api.ts) both look commands up here; they differ only in where
// params come from (a REQUEST's `params`, checked against the command's `params` schema; an HTTP body
// checked against its route's body schema, plus path ids and query: http-routes.ts) and how a result or
// an error is framed. Guarantees: params are validated against @chat/protocol's schemas before `run`
// is called (the transport does it, docs/protocol.md §5.4 and §6.1); `run` reaches the broker only
// through ChatService (durable writes are answered after the broker's confirm); a `durable` command is
// one that passes admission control on either transport; the commands with `params` are exactly the
// WebSocket REQUEST methods, and every command but typing has an HTTP route.
import { type RequestMethod, requestParams, type Validator } from '@chat/protocol';
import type { Store } from '@chat/store';
import { ADMIN_COMMANDS } from './admin-commands.js';
import type { AdminService } from './admin-service.js';
import type { TokenService } from './auth.js';
import type { AuthBudgets } from './budgets.js';
import type { Author, ChatService } from './chat-service.js';
import { ApiError } from './errors.js';
import type { SharedRateLimiter } from './guards.js';
import type { ReadStateService } from './read-states.js';
import { checkId } from './validation.js';

/** What commands call. */
export interface CommandServices {
  chat: ChatService;
  store: Store;
  tokens: TokenService;
  budgets: AuthBudgets;
  /** Unread counts and acks. */
  reads: ReadStateService;
  /** The operator's view (admins only). */
  admin: AdminService;
}

/** The caller of a command that takes no token (register, login). */
export const NOBODY: Author = Object.freeze({ id: '', username: '' });

export interface Command {
  /**
   * A WebSocket REQUEST method's params schema (docs/protocol.md §5.4: exact, unknown fields refused);
   * undefined for a command only HTTP serves (its route's body schema checks it: http-routes.ts).
   */
  readonly params: Validator<unknown> | undefined;
  /** A token is required (the caller is its user); false: the caller is NOBODY. */
  readonly auth: boolean;
  /** A durable write: passes admission control on either transport. */
  readonly durable: boolean;
  /**
   * Runs the command with params that passed validation; `address` is the client's (abuse budgets),
   * `sessionId` the WebSocket session's that sent it (absent over HTTP).
   */
  run(s: CommandServices, caller: Author, params: Params, address: string, sessionId?: string): Promise<unknown>;
}

// The schemas guarantee the fields below (optional ones may be null); the table reads them without
// re-checking.
// biome-ignore lint/suspicious/noExplicitAny: params are typed by the schemas
type Params = any;

/** Takes one from a budget; `rate_limited` (429 with Retry-After) when it is spent. */
async function spend(budget: SharedRateLimiter, scope: string, what: string): Promise<void> {
  const d = await budget.hit(scope);
  if (!d.ok) throw new ApiError('rate_limited', `too many ${what}; retry later`, { retryAfterMs: d.retryAfterMs });
}

/** A command; by default it needs a token, is no durable write and is no WebSocket REQUEST method. */
function command(c: Pick<Command, 'run'> & Partial<Command>): Command {
  return { params: undefined, auth: true, durable: false, ...c };
}

/** The params schema of a WebSocket REQUEST method. */
const socketParams = (method: RequestMethod): Validator<unknown> => requestParams[method];

/** Every command, by method name. */
export const COMMANDS = {
  'user.register': command({
    auth: false,
    async run(s, _caller, p) {
      await spend(s.budgets.signup, 'all', 'sign-ups');
      return s.chat.register(p.username, p.password);
    },
  }),
  'session.create': command({
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
    run: (s, caller) => s.chat.revokeTokens(caller.id),
  }),
  'user.get': command({
    async run(s, caller) {
      const u = await s.store.accounts.get(caller.id);
      if (!u) throw new ApiError('unauthorized', 'the user of this token no longer exists');
      return u;
    },
  }),
  'channel.list': command({
    run: (s, caller) => s.reads.channelsOf(caller.id),
  }),
  'channel.create': command({
    run: (s, caller, p) =>
      s.chat.createChannel(caller, p.kind, p.name ?? undefined, p.recipients ?? [], p.invite ?? undefined),
  }),
  'member.add': command({
    run: (s, caller, p) => s.chat.addMember(caller.id, p.channel_id, checkId(p.user_id, 'user')),
  }),
  'member.remove': command({
    run: (s, caller, p) => s.chat.removeMember(caller.id, p.channel_id, p.user_id),
  }),
  'message.create': command({
    params: socketParams('message.create'),
    durable: true,
    run: (s, caller, p) => s.chat.sendMessage(caller, p.channel_id, p.content, p.nonce, p.reply_to),
  }),
  'message.update': command({
    params: socketParams('message.update'),
    durable: true,
    run: (s, caller, p) => s.chat.editMessage(caller.id, p.channel_id, p.message_id, p.content),
  }),
  'message.delete': command({
    params: socketParams('message.delete'),
    durable: true,
    run: (s, caller, p) => s.chat.deleteMessage(caller.id, p.channel_id, p.message_id),
  }),
  'typing.start': command({
    params: socketParams('typing.start'),
    run: (s, caller, p) => s.chat.typing(caller, p.channel_id),
  }),
  'history.get': command({
    params: socketParams('history.get'),
    run: (s, caller, p) =>
      s.chat.history(caller.id, p.channel_id, {
        before: p.before ?? undefined,
        after: p.after ?? undefined,
        limit: p.limit ?? undefined,
      }),
  }),
  'message.search': command({
    params: socketParams('message.search'),
    run: (s, caller, p) =>
      s.chat.search(caller.id, {
        q: p.q,
        channelId: p.channel_id ?? undefined,
        before: p.before ?? undefined,
        limit: p.limit ?? undefined,
      }),
  }),
  'replies.get': command({
    run: (s, caller, p) => s.chat.replies(caller.id, p.channel_id, p.message_id, { before: p.before, limit: p.limit }),
  }),
  'read.ack': command({
    params: socketParams('read.ack'),
    run: (s, caller, p, _address, sessionId) => s.reads.ack(caller.id, p.channel_id, p.message_id, sessionId),
  }),
  ...ADMIN_COMMANDS,
};

export type Method = keyof typeof COMMANDS;

/** A command that is a WebSocket REQUEST method: one with a params schema. */
export type SocketCommand = Command & { readonly params: Validator<unknown> };

const SOCKET_COMMANDS: ReadonlyMap<string, SocketCommand> = new Map(
  Object.entries(COMMANDS).filter((e): e is [string, SocketCommand] => e[1].params !== undefined),
);

/** The WebSocket REQUEST method's command; undefined for an unknown method or one the socket does not offer. */
export function socketCommand(method: string): SocketCommand | undefined {
  return SOCKET_COMMANDS.get(method);
}
