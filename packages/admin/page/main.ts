// The admin page (served by nginx at /admin/): logs in with POST /api/v1/sessions, keeps the token in
// this tab's sessionStorage, and shows the operator's view — gateways, queues, dead letters with
// requeue and discard buttons — from the admin API of the same origin. Every value is put in the page
// as text (never as HTML). A non-admin sees the API's 403 `forbidden` in the status line.
import { AdminApi, AdminApiError, type DeadLetter } from '../src/api.js';
import {
  DEAD_LETTER_COLUMNS,
  deadLetterCells,
  GATEWAY_COLUMNS,
  gatewayCells,
  QUEUE_COLUMNS,
  queueCells,
} from '../src/rows.js';

const TOKEN_KEY = 'chat-admin-token';
const WHO_KEY = 'chat-admin-username';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const login = $<HTMLFormElement>('login');
const view = $('view');
let api: AdminApi | undefined;

function say(text: string, ok = false): void {
  status.textContent = text;
  status.className = ok ? 'ok' : '';
}

function failed(err: unknown): void {
  if (err instanceof AdminApiError && err.status === 401) logOut();
  say(err instanceof Error ? err.message : String(err));
}

/** Fills `table` with a header row and one row per entry; a cell is text or an element. */
function fill(table: HTMLTableElement, headers: string[], rows: Array<Array<string | number | null | Node>>): void {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of headers) head.appendChild(document.createElement('th')).textContent = h;
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of r) {
      const td = tr.insertCell();
      if (c instanceof Node) td.appendChild(c);
      else td.textContent = c === null ? '-' : String(c);
    }
  }
}

function button(label: string, onClick: () => Promise<void>): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', () => {
    b.disabled = true;
    onClick()
      .catch(failed)
      .finally(() => {
        b.disabled = false;
      });
  });
  return b;
}

function cell(text: string, className: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = text;
  span.className = className;
  return span;
}

async function act(letter: DeadLetter, what: 'requeue' | 'discard'): Promise<void> {
  if (!api) return;
  const done = what === 'requeue' ? await api.requeue(letter.id) : await api.discard(letter.id);
  say(`${what === 'requeue' ? 'Requeued' : 'Discarded'} ${done.id} (${done.reason})`, true);
  await refresh();
}

async function refresh(): Promise<void> {
  if (!api) return;
  const [gateways, queues, dead] = await Promise.all([api.gateways(), api.queues(), api.deadLetters(100)]);
  fill(
    $('gateways'),
    [...GATEWAY_COLUMNS, 'bound keys'],
    gateways.map((g) => [...gatewayCells(g), cell(`${g.bound_key_count}: ${g.bound_keys.join(' ')}`, 'keys')]),
  );
  fill($('queues'), QUEUE_COLUMNS, queues.queues.map(queueCells));
  $('dead-total').textContent = `(${dead.dead_letters.length} shown of ${dead.total})`;
  fill(
    $('dead-letters'),
    [...DEAD_LETTER_COLUMNS, 'body', ''],
    dead.dead_letters.map((l) => {
      const actions = document.createElement('span');
      actions.append(
        button('Requeue', () => act(l, 'requeue')),
        ' ',
        button('Discard', () => act(l, 'discard')),
      );
      return [...deadLetterCells(l), cell(l.body, 'body'), actions];
    }),
  );
  for (const t of ['gateways', 'queues', 'dead-letters']) $(t).dataset.loaded = 'true';
}

function show(username: string): void {
  login.hidden = true;
  view.hidden = false;
  $('refresh').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = username;
}

function logOut(): void {
  api = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(WHO_KEY);
  login.hidden = false;
  view.hidden = true;
  $('refresh').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
}

login.addEventListener('submit', (e) => {
  e.preventDefault();
  const form = new FormData(login);
  const username = String(form.get('username'));
  AdminApi.login('', username, String(form.get('password')))
    .then(async (a) => {
      api = a;
      sessionStorage.setItem(TOKEN_KEY, a.token);
      sessionStorage.setItem(WHO_KEY, username);
      say('');
      await refresh();
      show(username);
    })
    .catch((err: unknown) => {
      api = undefined;
      failed(err);
    });
});
$('refresh').addEventListener('click', () => {
  refresh().then(() => say('Refreshed', true), failed);
});
$('logout').addEventListener('click', logOut);

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  api = new AdminApi('', saved);
  show(sessionStorage.getItem(WHO_KEY) ?? '');
  refresh().catch(failed);
}
