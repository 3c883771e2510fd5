// The sidebar's search box: `client.search()` over the user's channels, results newest first with a
// "More results" button that pages with `before`. A result opens its channel by clicking that channel's
// button in the channel list (the ChatView owns the selection). Text goes in through textContent only.
import { type ChatClient, ChatClientError, type Message } from '@chat/client';
import { $, h } from './dom.js';

const PAGE = 20;

export class SearchPanel {
  readonly #client: ChatClient;
  readonly #dom = new AbortController();
  readonly #el = {
    form: $('#search', HTMLFormElement),
    input: $('#search-input', HTMLInputElement),
    status: $('#search-status', HTMLElement),
    results: $('#search-results', HTMLOListElement),
    more: $('#search-more', HTMLButtonElement),
  };
  /** The query of the results shown, and the last id (the `before` of the next page). */
  #query = '';
  #last: string | undefined;
  /** Bumped by every search: an answer to an older one is dropped. */
  #generation = 0;

  constructor(client: ChatClient) {
    this.#client = client;
    const signal = this.#dom.signal;
    this.#el.form.addEventListener('submit', (ev) => this.#onSubmit(ev), { signal });
    this.#el.more.addEventListener('click', () => void this.#load(false), { signal });
  }

  /** Stops listening and clears what it showed (at logout). */
  stop(): void {
    this.#dom.abort();
    this.#generation++;
    this.#el.input.value = '';
    this.#el.status.textContent = '';
    this.#el.results.replaceChildren();
    this.#el.more.hidden = true;
  }

  #onSubmit(ev: SubmitEvent): void {
    ev.preventDefault();
    const q = this.#el.input.value.trim();
    if (!q) return;
    this.#query = q;
    this.#last = undefined;
    this.#el.results.replaceChildren();
    void this.#load(true);
  }

  async #load(first: boolean): Promise<void> {
    const generation = ++this.#generation;
    const e = this.#el;
    e.more.hidden = true;
    e.status.textContent = 'Searching…';
    try {
      const page = await this.#client.search(this.#query, {
        limit: PAGE,
        ...(this.#last ? { before: this.#last } : {}),
      });
      if (generation !== this.#generation) return;
      e.results.append(...page.map((m) => this.#row(m)));
      this.#last = page.at(-1)?.id ?? this.#last;
      const shown = e.results.children.length;
      e.status.textContent =
        shown === 0
          ? 'No messages found.'
          : `${shown} message${shown === 1 ? '' : 's'}${page.length === PAGE ? ' so far' : ''}`;
      e.more.hidden = page.length < PAGE;
    } catch (err) {
      if (generation !== this.#generation) return;
      e.status.textContent = err instanceof ChatClientError ? err.message : `Search failed: ${(err as Error).message}`;
      e.more.hidden = first;
    }
  }

  #row(m: Message): HTMLLIElement {
    const channel = this.#channelButton(m.channel_id);
    const where = channel?.querySelector('.name')?.textContent ?? `channel ${m.channel_id}`;
    const when = new Date(m.timestamp).toLocaleString();
    const open = h(
      'button',
      { class: 'search-hit', attrs: { type: 'button', 'data-message-id': m.id } },
      h('span', { class: 'search-where small', text: `${where} · ${m.author.username} · ${when}` }),
      h('span', { class: 'search-content', text: m.content }),
    );
    open.addEventListener('click', () => this.#channelButton(m.channel_id)?.click(), { signal: this.#dom.signal });
    return h('li', {}, open);
  }

  #channelButton(channelId: string): HTMLButtonElement | null {
    return document.querySelector<HTMLButtonElement>(
      `#channel-list button[data-channel-id="${CSS.escape(channelId)}"]`,
    );
  }
}
