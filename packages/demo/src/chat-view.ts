// One logged-in session on the page: the channel list, the selected channel's messages (history on
// select, then live events), the composer with its typing notices, and the connection indicator.
// The DOM skeleton is index.html's; this class fills it and removes its listeners on stop().
import {
  type Author,
  type Channel,
  type ChannelWithReadState,
  ChatApiError,
  type ChatClient,
  ChatClientError,
  ChatRequestError,
  type ConnectionState,
  compareIds,
  createNonce,
  type Message,
  type ReferencedMessage,
  RequestTimeoutError,
  type Snowflake,
  type TypingStartPayload,
  type User,
} from '@chat/client';
import { Acker } from './acker.js';
import { $, h } from './dom.js';
import { MessageLog } from './message-log.js';
import { describeTyping, TypingTracker } from './typing-tracker.js';

/** docs/protocol.md §4: content is 1..4000 code points after trimming. */
const MAX_CONTENT = 4000;
const HISTORY_PAGE = 50;
/** `typing()` at most this often per channel: the server shows a TYPING_START for a few seconds. */
const TYPING_EVERY_MS = 3000;
const SEND_TIMEOUT_MS = 20_000;

export interface ChatViewHooks {
  /** The user pressed "Log out". */
  onLogout(): void;
  /** The server refused the token while reconnecting (expired, or the secret changed). */
  onAuthLost(): void;
}

/** A message on its way: shown greyed until the server confirms the durable write. */
interface Pending {
  readonly nonce: string;
  readonly channelId: Snowflake;
  readonly content: string;
  /** The message this one answers (docs/protocol.md §4.1). */
  readonly replyTo?: Message;
  state: 'sending' | 'failed';
  error?: string;
}

const STATE_LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Online',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

export class ChatView {
  readonly #client: ChatClient;
  readonly #hooks: ChatViewHooks;
  /** Removes every DOM listener at once. */
  readonly #dom = new AbortController();
  readonly #unsubscribe: Array<() => void> = [];
  #me: User | null = null;
  #started = false;

  readonly #channels = new Map<Snowflake, Channel>();
  readonly #logs = new Map<Snowflake, MessageLog>();
  /** Channels whose latest history page has been merged since the last gap. */
  readonly #loaded = new Set<Snowflake>();
  readonly #hasOlder = new Map<Snowflake, boolean>();
  readonly #unread = new Map<Snowflake, number>();
  /** The newest message known per channel: what viewing the channel acks. */
  readonly #lastMessage = new Map<Snowflake, Snowflake>();
  /** Read acks of the channel on view (the server's unread counts, docs/protocol.md §4 Read state). */
  readonly #acker = new Acker(
    (channelId, messageId) => this.#client.ack(channelId, messageId),
    (err) => this.#notice(`Could not mark the channel read: ${describe(err)}`),
  );
  /** user id → username, learned from messages and typing events (the API has no user lookup). */
  readonly #names = new Map<Snowflake, string>();
  /** DM channel → the other member. */
  readonly #dmPeer = new Map<Snowflake, Snowflake>();
  readonly #pending = new Map<string, Pending>();
  readonly #typing = new TypingTracker({ showMs: 5000 });
  readonly #typingSentAt = new Map<Snowflake, number>();
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #selected: Snowflake | null = null;
  /** The rendered rows of the selected channel, by message id. */
  readonly #rows = new Map<Snowflake, HTMLLIElement>();
  #dialogUser: Author | null = null;
  /** The message the composer answers, chosen with a row's "Reply" (cleared on send and on channel change). */
  #replyTo: Message | null = null;

  readonly #el = {
    connection: $('#connection', HTMLElement),
    connectionLabel: $('#connection-label', HTMLElement),
    channelList: $('#channel-list', HTMLUListElement),
    newGroup: $('#new-group', HTMLFormElement),
    newGroupName: $('#new-group-name', HTMLInputElement),
    meName: $('#me-name', HTMLElement),
    meId: $('#me-id', HTMLElement),
    logout: $('#logout', HTMLButtonElement),
    title: $('#channel-title', HTMLElement),
    meta: $('#channel-meta', HTMLElement),
    addMember: $('#add-member', HTMLFormElement),
    addMemberId: $('#add-member-id', HTMLInputElement),
    notice: $('#notice', HTMLElement),
    scroller: $('#scroller', HTMLElement),
    loadOlder: $('#load-older', HTMLButtonElement),
    messages: $('#messages', HTMLOListElement),
    pending: $('#pending', HTMLUListElement),
    typing: $('#typing', HTMLElement),
    composer: $('#composer', HTMLFormElement),
    input: $('#composer-input', HTMLTextAreaElement),
    send: $('#composer button[type=submit]', HTMLButtonElement),
    replying: $('#replying', HTMLElement),
    replyingLabel: $('#replying-label', HTMLElement),
    replyingCancel: $('#replying-cancel', HTMLButtonElement),
    dialog: $('#user-dialog', HTMLDialogElement),
    dialogTitle: $('#user-dialog-title', HTMLElement),
    dialogId: $('#user-dialog-id', HTMLElement),
    dialogDm: $('#user-dialog-dm', HTMLButtonElement),
    dialogAdd: $('#user-dialog-add', HTMLButtonElement),
  };

  constructor(client: ChatClient, hooks: ChatViewHooks) {
    this.#client = client;
    this.#hooks = hooks;
  }

  /** Connects (HELLO → IDENTIFY → READY), loads the channel list and opens "official" or the first channel. */
  async start(): Promise<void> {
    this.#reset();
    this.#listenToClient();
    this.#listenToDom();
    const ready = await this.#client.connect();
    this.#me = ready.user;
    this.#names.set(ready.user.id, ready.user.username);
    this.#el.meName.textContent = ready.user.username;
    this.#el.meId.textContent = ready.user.id;
    for (const c of ready.channels) this.#channels.set(c.id, c);
    this.#takeReadState(ready.channels);
    await this.#refreshChannels();
    this.#started = true;
    const first = [...this.#channels.values()].find((c) => c.name === 'official') ?? this.#sortedChannels()[0];
    if (first) this.#select(first.id);
    else this.#renderChannels();
  }

  /** Closes the session (1000) and detaches from the page. */
  async stop(): Promise<void> {
    this.#dom.abort();
    for (const off of this.#unsubscribe.splice(0)) off();
    clearTimeout(this.#typingTimer);
    clearTimeout(this.#noticeTimer);
    if (this.#el.dialog.open) this.#el.dialog.close();
    this.#reset(); // drop the rows and buttons that still point at this session
    await this.#client.close();
  }

  // ── wiring ─────────────────────────────────────────────────────────────────────────────────

  #reset(): void {
    const e = this.#el;
    e.channelList.replaceChildren();
    e.messages.replaceChildren();
    e.pending.replaceChildren();
    e.typing.textContent = '';
    e.title.textContent = 'No channel';
    e.meta.textContent = '';
    e.addMember.hidden = true;
    e.loadOlder.hidden = true;
    e.notice.hidden = true;
    e.input.value = '';
    this.#setComposerEnabled(false);
    this.#renderState(this.#client.state === 'closed' ? 'connecting' : this.#client.state);
  }

  #listenToClient(): void {
    const c = this.#client;
    this.#unsubscribe.push(
      c.on('state', (s) => this.#renderState(s)),
      c.on('ready', () => {
        // A READY after the first one follows a re-IDENTIFY: events may have been missed.
        if (this.#started) this.#resync();
      }),
      c.on('resumed', ({ truncated }) => {
        if (truncated) this.#resync();
      }),
      c.on('messageCreate', (m) => this.#onMessage(m)),
      c.on('messageUpdate', (m) => this.#onMessage(m)),
      c.on('messageDelete', ({ id, channel_id }) => this.#onDelete(channel_id, id)),
      c.on('typingStart', (d) => this.#onTyping(d)),
      c.on('channelCreate', (ch) => {
        const peer = ch.kind === 'dm' ? ch.member_ids?.find((id) => id !== this.#me?.id) : undefined;
        if (peer) this.#dmPeer.set(ch.id, peer);
        this.#addChannel(ch);
      }),
      c.on('channelMemberAdd', (d) => {
        if (d.user_id === this.#me?.id && d.channel) this.#addChannel(d.channel);
      }),
      c.on('channelMemberRemove', (d) => {
        if (d.user_id === this.#me?.id) this.#removeChannel(d.channel_id);
      }),
      c.on('ack', (a) => {
        // Read in another tab: take its count (the open channel has none shown).
        if (a.channel_id === this.#selected) return;
        if (a.unread_count > 0) this.#unread.set(a.channel_id, a.unread_count);
        else this.#unread.delete(a.channel_id);
        this.#renderChannels();
      }),
      c.on('error', (err) => {
        if (err.code === 'CLIENT_AUTHENTICATION_FAILED' && this.#started) this.#hooks.onAuthLost();
      }),
    );
  }

  #listenToDom(): void {
    const e = this.#el;
    const signal = this.#dom.signal;
    e.logout.addEventListener('click', () => this.#hooks.onLogout(), { signal });
    e.newGroup.addEventListener('submit', (ev) => this.#onNewGroup(ev), { signal });
    e.addMember.addEventListener('submit', (ev) => this.#onAddMember(ev), { signal });
    e.loadOlder.addEventListener('click', () => void this.#loadHistory(this.#selected, true), { signal });
    e.composer.addEventListener('submit', (ev) => this.#onSubmit(ev), { signal });
    e.replyingCancel.addEventListener('click', () => this.#setReplyTo(null), { signal });
    e.input.addEventListener(
      'keydown',
      (ev) => {
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          e.composer.requestSubmit();
        }
      },
      { signal },
    );
    e.input.addEventListener('input', () => this.#onInput(), { signal });
    e.dialogDm.addEventListener('click', () => void this.#openDm(), { signal });
    e.dialogAdd.addEventListener('click', () => void this.#addDialogUser(), { signal });
  }

  // ── channels ───────────────────────────────────────────────────────────────────────────────

  /**
   * The server's read state of `channels` (READY, or the list after a gap): unread badges, and the newest
   * message of each, which viewing the channel acks. The open channel is being read: it is acked instead.
   */
  #takeReadState(channels: readonly ChannelWithReadState[]): void {
    for (const c of channels) {
      if (c.last_message_id) this.#lastMessage.set(c.id, c.last_message_id);
      if (c.id === this.#selected) {
        if (c.last_message_id && c.unread_count > 0) this.#acker.seen(c.id, c.last_message_id);
      } else if (c.unread_count > 0) this.#unread.set(c.id, c.unread_count);
      else this.#unread.delete(c.id);
    }
  }

  async #refreshChannels(readState = false): Promise<void> {
    try {
      const list = await this.#client.channels();
      const ids = new Set(list.map((c) => c.id));
      for (const id of this.#channels.keys()) if (!ids.has(id)) this.#channels.delete(id);
      for (const c of list) this.#channels.set(c.id, c);
      // Live counts are kept from events; after a gap the server's replace them.
      if (readState) this.#takeReadState(list);
    } catch (err) {
      this.#notice(`Could not load the channel list: ${describe(err)}`);
    }
    this.#renderChannels();
  }

  #addChannel(c: Channel): void {
    this.#channels.set(c.id, c);
    this.#renderChannels();
  }

  #removeChannel(id: Snowflake): void {
    this.#channels.delete(id);
    this.#acker.forget(id);
    this.#lastMessage.delete(id);
    this.#unread.delete(id);
    this.#logs.delete(id);
    this.#loaded.delete(id);
    if (this.#selected === id) {
      const next = this.#sortedChannels()[0];
      this.#selected = null;
      if (next) this.#select(next.id);
    }
    this.#renderChannels();
  }

  /** After a gap (re-IDENTIFY, truncated RESUME): reload the channel list and the open channel's history. */
  #resync(): void {
    this.#loaded.clear();
    void this.#refreshChannels(true);
    if (this.#selected) void this.#loadHistory(this.#selected, false);
  }

  /** The default group first, then groups by name, then DMs. */
  #sortedChannels(): Channel[] {
    const rank = (c: Channel) => (c.name === 'official' ? 0 : c.kind === 'group' ? 1 : 2);
    return [...this.#channels.values()].sort(
      (a, b) => rank(a) - rank(b) || this.#label(a).localeCompare(this.#label(b)),
    );
  }

  #label(c: Channel): string {
    if (c.kind === 'group') return c.name ?? `group ${c.id}`;
    const peer = this.#dmPeer.get(c.id);
    return (peer && this.#names.get(peer)) ?? 'direct message';
  }

  #renderChannels(): void {
    const items = this.#sortedChannels().map((c) => {
      const unread = this.#unread.get(c.id) ?? 0;
      const button = h(
        'button',
        { class: 'channel', attrs: { type: 'button', 'data-channel-id': c.id } },
        h('span', { class: 'sigil', text: c.kind === 'group' ? '#' : '@', attrs: { 'aria-hidden': 'true' } }),
        h('span', { class: 'name', text: this.#label(c) }),
        unread > 0 && h('span', { class: 'badge', text: String(unread), attrs: { 'aria-label': `${unread} unread` } }),
      );
      if (c.id === this.#selected) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => this.#select(c.id, true));
      return h('li', {}, button);
    });
    this.#el.channelList.replaceChildren(...items);
    if (items.length === 0) this.#el.channelList.append(h('li', { class: 'muted small', text: 'No channels yet.' }));
  }

  #select(id: Snowflake, focus = false): void {
    const c = this.#channels.get(id);
    if (!c) return;
    this.#selected = id;
    this.#unread.delete(id);
    this.#setReplyTo(null);
    // Viewing the channel reads it: ack its newest message (the server's count drops to 0).
    const last = this.#lastMessage.get(id);
    if (last) this.#acker.seen(id, last);
    const e = this.#el;
    e.notice.hidden = true; // it was about the channel we left
    const label = this.#label(c);
    e.title.textContent = c.kind === 'group' ? `# ${label}` : `@ ${label}`;
    e.meta.textContent = c.kind === 'group' ? `group · id ${c.id}` : 'direct message';
    // Only a group's owner adds members, unless it lets every member (the gateway refuses anyone else).
    e.addMember.hidden = c.kind !== 'group' || (c.owner_id !== this.#me?.id && c.invite !== 'members');
    e.input.placeholder = c.kind === 'group' ? `Message #${label}` : `Message @${label}`;
    e.input.setAttribute('aria-label', e.input.placeholder);
    this.#setComposerEnabled(true);
    this.#renderChannels();
    this.#renderMessages();
    this.#renderTyping();
    if (focus) e.input.focus();
    if (!this.#loaded.has(id)) void this.#loadHistory(id, false);
  }

  async #onNewGroup(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const name = this.#el.newGroupName.value.trim();
    if (!name || name.length > 100) {
      this.#notice('A group name is 1–100 characters.');
      this.#el.newGroupName.focus();
      return;
    }
    try {
      const channel = await this.#client.createChannel({ kind: 'group', name });
      this.#el.newGroupName.value = '';
      this.#addChannel(channel);
      this.#select(channel.id, true);
      this.#notice(`Created #${name}. Add people with their user id.`, 'info');
    } catch (err) {
      this.#notice(`Could not create the group: ${describe(err)}`);
    }
  }

  async #onAddMember(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const id = this.#el.addMemberId.value.trim();
    if (!/^[0-9]{1,20}$/.test(id)) {
      this.#notice('A user id is a number: the person sees theirs at the bottom left.');
      this.#el.addMemberId.focus();
      return;
    }
    if (await this.#addMember(id)) this.#el.addMemberId.value = '';
  }

  async #addMember(userId: Snowflake): Promise<boolean> {
    const channel = this.#selected ? this.#channels.get(this.#selected) : undefined;
    if (channel?.kind !== 'group') return false;
    try {
      await this.#client.addMember(channel.id, userId);
      const who = this.#names.get(userId) ?? `user ${userId}`;
      this.#notice(`${who} is now a member of #${this.#label(channel)}.`, 'info');
      return true;
    } catch (err) {
      this.#notice(`Could not add the member: ${describe(err)}`);
      return false;
    }
  }

  // ── people ─────────────────────────────────────────────────────────────────────────────────

  #openUserDialog(author: Author): void {
    const e = this.#el;
    this.#dialogUser = author;
    e.dialogTitle.textContent = author.username;
    e.dialogId.textContent = author.id;
    const channel = this.#selected ? this.#channels.get(this.#selected) : undefined;
    e.dialogAdd.hidden = channel?.kind !== 'group';
    e.dialog.showModal();
  }

  async #openDm(): Promise<void> {
    const user = this.#dialogUser;
    this.#el.dialog.close();
    if (!user) return;
    try {
      const channel = await this.#client.createChannel({ kind: 'dm', recipients: [user.id] });
      this.#dmPeer.set(channel.id, user.id);
      this.#addChannel(channel);
      this.#select(channel.id, true);
    } catch (err) {
      this.#notice(`Could not open the conversation: ${describe(err)}`);
    }
  }

  async #addDialogUser(): Promise<void> {
    const user = this.#dialogUser;
    this.#el.dialog.close();
    if (user) await this.#addMember(user.id);
  }

  // ── messages ───────────────────────────────────────────────────────────────────────────────

  #log(channelId: Snowflake): MessageLog {
    let log = this.#logs.get(channelId);
    if (!log) {
      log = new MessageLog();
      this.#logs.set(channelId, log);
    }
    return log;
  }

  async #loadHistory(channelId: Snowflake | null, older: boolean): Promise<void> {
    if (!channelId) return;
    const log = this.#log(channelId);
    const before = older ? log.oldest?.id : undefined;
    if (older && !before) return;
    this.#el.loadOlder.disabled = true;
    try {
      const page = await this.#client.history(channelId, { limit: HISTORY_PAGE, ...(before ? { before } : {}) });
      for (const m of page) {
        this.#learn(channelId, m.author);
        log.upsert(m);
      }
      if (!older) this.#loaded.add(channelId);
      if (older || !this.#hasOlder.has(channelId)) this.#hasOlder.set(channelId, page.length === HISTORY_PAGE);
      if (this.#selected === channelId) this.#renderMessages(older ? 'keep' : 'bottom');
    } catch (err) {
      if (this.#selected === channelId) this.#notice(`Could not load the history: ${describe(err)}`);
    } finally {
      this.#el.loadOlder.disabled = false;
    }
  }

  #onMessage(m: Message): void {
    this.#learn(m.channel_id, m.author);
    this.#typing.stop(m.channel_id, m.author.id);
    if (m.author.id === this.#me?.id && m.nonce) this.#settle(m.nonce);
    if (!this.#channels.has(m.channel_id)) void this.#refreshChannels(); // its CHANNEL_CREATE went missing
    const result = this.#log(m.channel_id).upsert(m);
    if (result.kind === 'unchanged') return;
    const mine = m.author.id === this.#me?.id;
    if (result.kind === 'inserted') {
      const last = this.#lastMessage.get(m.channel_id);
      if (!last || compareIds(m.id, last) > 0) this.#lastMessage.set(m.channel_id, m.id);
      // Sending reads the channel (the server moved this user's position); seeing a message in the open one too.
      if (mine && this.#unread.delete(m.channel_id)) this.#renderChannels();
      else if (!mine && this.#selected === m.channel_id) this.#acker.seen(m.channel_id, m.id);
    }
    if (this.#selected !== m.channel_id) {
      if (result.kind === 'inserted' && m.author.id !== this.#me?.id) {
        this.#unread.set(m.channel_id, (this.#unread.get(m.channel_id) ?? 0) + 1);
        this.#renderChannels();
      }
      return;
    }
    const stick = this.#nearBottom() || m.author.id === this.#me?.id;
    const row = this.#row(m);
    if (result.kind === 'replaced') {
      this.#rows.get(m.id)?.replaceWith(row);
    } else {
      this.#el.messages.querySelector(':scope > .empty')?.remove();
      this.#el.messages.insertBefore(row, this.#el.messages.children[result.index] ?? null);
    }
    this.#rows.set(m.id, row);
    this.#renderTyping();
    if (stick) this.#scrollToBottom();
  }

  #onDelete(channelId: Snowflake, id: Snowflake): void {
    this.#logs.get(channelId)?.delete(id);
    this.#rows.get(id)?.remove();
    this.#rows.delete(id);
  }

  /** Remembers a username, and the peer of a DM. */
  #learn(channelId: Snowflake, author: Author): void {
    const known = this.#names.get(author.id);
    this.#names.set(author.id, author.username);
    const channel = this.#channels.get(channelId);
    if (channel?.kind === 'dm' && author.id !== this.#me?.id && !this.#dmPeer.has(channelId)) {
      this.#dmPeer.set(channelId, author.id);
      this.#renderChannels();
    } else if (known !== author.username && [...this.#dmPeer.values()].includes(author.id)) {
      this.#renderChannels();
    }
  }

  #renderMessages(scroll: 'bottom' | 'keep' = 'bottom'): void {
    const e = this.#el;
    const id = this.#selected;
    const fromBottom = e.scroller.scrollHeight - e.scroller.scrollTop;
    this.#rows.clear();
    const rows = id
      ? this.#log(id)
          .list()
          .map((m) => {
            const row = this.#row(m);
            this.#rows.set(m.id, row);
            return row;
          })
      : [];
    e.messages.replaceChildren(...rows);
    e.loadOlder.hidden = !id || !this.#hasOlder.get(id);
    this.#renderPending();
    if (id && this.#loaded.has(id) && rows.length === 0 && this.#pendingOf(id).length === 0) {
      e.messages.append(h('li', { class: 'empty muted', text: 'No messages yet: say hello.' }));
    }
    if (scroll === 'keep') e.scroller.scrollTop = e.scroller.scrollHeight - fromBottom;
    else this.#scrollToBottom();
  }

  #row(m: Message): HTMLLIElement {
    const mine = m.author.id === this.#me?.id;
    const when = new Date(m.timestamp);
    const author = h('button', {
      class: 'author',
      text: m.author.username,
      attrs: { type: 'button', title: mine ? 'you' : `${m.author.username} · user id ${m.author.id}` },
    });
    if (mine) author.disabled = true;
    else author.addEventListener('click', () => this.#openUserDialog(m.author));
    const avatar = h('span', { class: 'avatar', text: initial(m.author.username), attrs: { 'aria-hidden': 'true' } });
    avatar.style.setProperty('--hue', String(hue(m.author.id)));
    return h(
      'li',
      { class: mine ? 'message mine' : 'message', attrs: { 'data-id': m.id } },
      avatar,
      h(
        'div',
        { class: 'body' },
        h(
          'div',
          { class: 'meta' },
          author,
          h('time', {
            text: when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
            attrs: { datetime: m.timestamp, title: when.toLocaleString() },
          }),
          m.edited_timestamp !== null && h('span', { class: 'edited muted', text: '(edited)' }),
          this.#replyButton(m),
        ),
        m.referenced_message && referenceLine(m.referenced_message),
        h('p', { class: 'content', text: m.content }),
        m.reply_count !== undefined &&
          h('span', {
            class: 'reply-count muted small',
            text: m.reply_count === 1 ? '1 reply' : `${m.reply_count} replies`,
          }),
      ),
    );
  }

  #replyButton(m: Message): HTMLButtonElement {
    const b = h('button', {
      class: 'link reply-action small',
      text: 'Reply',
      attrs: { type: 'button', title: `Reply to ${m.author.username}` },
    });
    b.addEventListener('click', () => {
      this.#setReplyTo(m);
      this.#el.input.focus();
    });
    return b;
  }

  /** Shows (or hides) the "Replying to …" bar above the composer. */
  #setReplyTo(m: Message | null): void {
    this.#replyTo = m;
    this.#el.replying.hidden = m === null;
    this.#el.replyingLabel.textContent = m ? `Replying to ${m.author.username}: ${excerpt(m.content)}` : '';
  }

  #nearBottom(): boolean {
    const s = this.#el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  #scrollToBottom(): void {
    this.#el.scroller.scrollTop = this.#el.scroller.scrollHeight;
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────

  #onSubmit(ev: SubmitEvent): void {
    ev.preventDefault();
    const channelId = this.#selected;
    if (!channelId) return;
    const content = this.#el.input.value.trim();
    if (!content) return;
    const length = [...content].length;
    if (length > MAX_CONTENT) {
      this.#notice(`A message is at most ${MAX_CONTENT} characters (this one has ${length}).`);
      return;
    }
    this.#el.input.value = '';
    this.#resizeInput();
    this.#typingSentAt.delete(channelId);
    const replyTo = this.#replyTo?.channel_id === channelId ? this.#replyTo : undefined;
    this.#setReplyTo(null);
    const p: Pending = { nonce: createNonce(), channelId, content, state: 'sending', ...(replyTo ? { replyTo } : {}) };
    this.#pending.set(p.nonce, p);
    void this.#deliver(p);
  }

  /** Sends (or resends) a pending message. The nonce stays the same, so a retry never stores it twice. */
  async #deliver(p: Pending): Promise<void> {
    p.state = 'sending';
    delete p.error;
    this.#renderPending();
    this.#scrollToBottom();
    try {
      const m = await this.#client.send(p.channelId, p.content, {
        nonce: p.nonce,
        timeoutMs: SEND_TIMEOUT_MS,
        ...(p.replyTo ? { replyTo: p.replyTo.id } : {}),
      });
      this.#settle(p.nonce);
      this.#onMessage(m);
    } catch (err) {
      if (!this.#pending.has(p.nonce)) return; // its MESSAGE_CREATE arrived anyway
      p.state = 'failed';
      p.error = describe(err);
      this.#renderPending();
    }
  }

  #settle(nonce: string): void {
    if (this.#pending.delete(nonce)) this.#renderPending();
  }

  #pendingOf(channelId: Snowflake): Pending[] {
    return [...this.#pending.values()].filter((p) => p.channelId === channelId);
  }

  #renderPending(): void {
    const id = this.#selected;
    const rows = (id ? this.#pendingOf(id) : []).map((p) => {
      const status =
        p.state === 'sending'
          ? h('span', { class: 'status muted', text: 'sending…' })
          : h(
              'span',
              { class: 'status error' },
              `not sent: ${p.error ?? 'unknown error'} `,
              this.#pendingButton('Retry', () => void this.#deliver(p)),
              ' ',
              this.#pendingButton('Discard', () => this.#settle(p.nonce)),
            );
      return h(
        'li',
        { class: `message mine ${p.state}` },
        h('span', { class: 'avatar', text: initial(this.#me?.username ?? '?'), attrs: { 'aria-hidden': 'true' } }),
        h(
          'div',
          { class: 'body' },
          h('div', { class: 'meta' }, h('span', { class: 'author', text: this.#me?.username ?? '' }), status),
          h('p', { class: 'content', text: p.content }),
        ),
      );
    });
    this.#el.pending.replaceChildren(...rows);
  }

  #pendingButton(text: string, onClick: () => void): HTMLButtonElement {
    const b = h('button', { class: 'link', text, attrs: { type: 'button' } });
    b.addEventListener('click', onClick);
    return b;
  }

  #onInput(): void {
    this.#resizeInput();
    const channelId = this.#selected;
    if (!channelId || !this.#el.input.value.trim() || this.#client.state !== 'open') return;
    const now = Date.now();
    if (now - (this.#typingSentAt.get(channelId) ?? 0) < TYPING_EVERY_MS) return;
    this.#typingSentAt.set(channelId, now);
    this.#client.typing(channelId).catch(() => {}); // ephemeral: a lost one is not worth a word
  }

  #resizeInput(): void {
    const input = this.#el.input;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  #setComposerEnabled(enabled: boolean): void {
    this.#el.input.disabled = !enabled;
    this.#el.send.disabled = !enabled;
  }

  // ── typing, connection, notices ────────────────────────────────────────────────────────────

  #onTyping(d: TypingStartPayload): void {
    if (d.user_id === this.#me?.id) return;
    const name = d.username ?? this.#names.get(d.user_id) ?? 'someone';
    this.#typing.start(d.channel_id, d.user_id, name);
    if (d.channel_id === this.#selected) this.#renderTyping();
  }

  #renderTyping(): void {
    clearTimeout(this.#typingTimer);
    const names = this.#selected ? this.#typing.names(this.#selected) : [];
    this.#el.typing.textContent = describeTyping(names);
    // Look again when the next entry may have expired.
    if (names.length > 0) this.#typingTimer = setTimeout(() => this.#renderTyping(), 500);
  }

  #renderState(state: ConnectionState): void {
    this.#el.connection.dataset.state = state;
    this.#el.connectionLabel.textContent = STATE_LABELS[state];
  }

  #notice(text: string, kind: 'error' | 'info' = 'error'): void {
    const n = this.#el.notice;
    n.textContent = text;
    n.dataset.kind = kind;
    n.hidden = false;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (n.hidden = true), kind === 'info' ? 5000 : 10_000);
  }
}

function describe(err: unknown): string {
  if (err instanceof RequestTimeoutError) return 'no answer from the server in time';
  if (err instanceof ChatApiError || err instanceof ChatRequestError) return err.message;
  if (err instanceof ChatClientError && err.retryable) return 'the connection dropped';
  return err instanceof Error ? err.message : String(err);
}

function initial(name: string): string {
  return ([...name][0] ?? '?').toUpperCase();
}

/** A stable colour per user (FNV-1a of the id: neighbouring snowflakes get distant hues). */
function hue(id: string): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) x = Math.imul(x ^ id.charCodeAt(i), 0x01000193);
  return (x >>> 0) % 360;
}

/** The line above a reply: who and what it answers (the server's excerpt), or that the message is gone. */
function referenceLine(r: ReferencedMessage): HTMLElement {
  if (r.deleted || !r.author) return h('p', { class: 'reference muted small', text: '↪ original message was deleted' });
  return h(
    'p',
    { class: 'reference muted small' },
    '↪ ',
    h('span', { class: 'reference-author', text: r.author.username }),
    ' ',
    h('span', { class: 'reference-content', text: r.content ?? '' }),
  );
}

/** A short quote of a message for the "Replying to" bar. */
function excerpt(content: string): string {
  const points = [...content];
  return points.length > 60 ? `${points.slice(0, 60).join('')}…` : content;
}
