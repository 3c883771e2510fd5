// The endpoints of the HTTP API (docs/protocol.md §6, at `<baseUrl>/api/v1/…`) as typed calls over
// HttpApi: each is one call (plus the overload retries HttpApi does) and fails with ChatApiError,
// RequestTimeoutError, NetworkError or ProtocolError. Nothing here keeps state.
import type {
  AckPayload,
  Channel,
  ChannelWithReadState,
  CreateChannelInput,
  HistoryQuery,
  LoginResult,
  Message,
  RepliesQuery,
  SearchQuery,
  Snowflake,
  User,
} from '../types.js';
import type { HttpApi } from './http-api.js';

const enc = encodeURIComponent;

export class HttpEndpoints {
  readonly #http: HttpApi;

  constructor(http: HttpApi) {
    this.#http = http;
  }

  /** `POST /api/v1/users`: creates an account. */
  register(username: string, password: string): Promise<User> {
    return this.#http.call('POST', '/api/v1/users', { username, password }, { auth: false });
  }

  /** `POST /api/v1/sessions`: a token for the account. */
  login(username: string, password: string): Promise<LoginResult> {
    return this.#http.call('POST', '/api/v1/sessions', { username, password }, { auth: false });
  }

  /** `DELETE /api/v1/sessions`: revokes every token of the user. */
  async logout(): Promise<void> {
    await this.#http.call('DELETE', '/api/v1/sessions');
  }

  /** `GET /api/v1/users/@me`. */
  me(): Promise<User> {
    return this.#http.call('GET', '/api/v1/users/@me');
  }

  /** `GET /api/v1/users/@me/channels`. */
  channels(): Promise<ChannelWithReadState[]> {
    return this.#http.call('GET', '/api/v1/users/@me/channels');
  }

  /** `POST /api/v1/channels`. */
  createChannel(input: CreateChannelInput): Promise<Channel> {
    const body: Record<string, unknown> = { kind: input.kind };
    if (input.name !== undefined) body.name = input.name;
    if (input.recipients !== undefined) body.recipients = input.recipients;
    if (input.invite !== undefined) body.invite = input.invite;
    return this.#http.call('POST', '/api/v1/channels', body);
  }

  /** `POST /api/v1/channels/:id/members`. */
  async addMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    await this.#http.call('POST', `/api/v1/channels/${enc(channelId)}/members`, { user_id: userId });
  }

  /** `DELETE /api/v1/channels/:id/members/:userId`. */
  async removeMember(channelId: Snowflake, userId: Snowflake): Promise<void> {
    await this.#http.call('DELETE', `/api/v1/channels/${enc(channelId)}/members/${enc(userId)}`);
  }

  /** `GET /api/v1/channels/:id/messages`. */
  history(channelId: Snowflake, query: HistoryQuery, timeoutMs?: number): Promise<Message[]> {
    const q = new URLSearchParams();
    if (query.before !== undefined) q.set('before', query.before);
    if (query.after !== undefined) q.set('after', query.after);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const qs = q.toString();
    const path = `/api/v1/channels/${enc(channelId)}/messages${qs ? `?${qs}` : ''}`;
    return this.#http.call('GET', path, undefined, { timeoutMs });
  }

  /** `POST /api/v1/channels/:id/messages`: answered once the write is durable. */
  send(
    channelId: Snowflake,
    content: string,
    nonce: string,
    timeoutMs?: number,
    replyTo?: Snowflake,
  ): Promise<Message> {
    const body: Record<string, unknown> = { content, nonce };
    if (replyTo !== undefined) body.reply_to = replyTo;
    return this.#http.call('POST', `/api/v1/channels/${enc(channelId)}/messages`, body, { timeoutMs });
  }

  /** `PATCH /api/v1/channels/:id/messages/:mid`. */
  edit(channelId: Snowflake, messageId: Snowflake, content: string, timeoutMs?: number): Promise<Message> {
    const path = `/api/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`;
    return this.#http.call('PATCH', path, { content }, { timeoutMs });
  }

  /** `DELETE /api/v1/channels/:id/messages/:mid`. */
  async delete(channelId: Snowflake, messageId: Snowflake, timeoutMs?: number): Promise<void> {
    const path = `/api/v1/channels/${enc(channelId)}/messages/${enc(messageId)}`;
    await this.#http.call('DELETE', path, undefined, { timeoutMs });
  }

  /** `GET /api/v1/search`: messages of the caller's channels holding every word of `q`, newest first. */
  search(text: string, query: SearchQuery, timeoutMs?: number): Promise<Message[]> {
    const q = new URLSearchParams({ q: text });
    if (query.channelId !== undefined) q.set('channel_id', query.channelId);
    if (query.before !== undefined) q.set('before', query.before);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    return this.#http.call('GET', `/api/v1/search?${q.toString()}`, undefined, { timeoutMs });
  }

  /** `GET /api/v1/channels/:id/messages/:mid/replies`: a page of a message's replies, newest first. */
  replies(channelId: Snowflake, messageId: Snowflake, query: RepliesQuery, timeoutMs?: number): Promise<Message[]> {
    const q = new URLSearchParams();
    if (query.before !== undefined) q.set('before', query.before);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const qs = q.toString();
    const path = `/api/v1/channels/${enc(channelId)}/messages/${enc(messageId)}/replies${qs ? `?${qs}` : ''}`;
    return this.#http.call('GET', path, undefined, { timeoutMs });
  }

  /** `POST /api/v1/channels/:id/ack`: the read position after the ack. */
  ack(channelId: Snowflake, messageId: Snowflake, timeoutMs?: number): Promise<AckPayload> {
    return this.#http.call('POST', `/api/v1/channels/${enc(channelId)}/ack`, { message_id: messageId }, { timeoutMs });
  }
}
