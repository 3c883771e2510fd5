// The demo page's entry: the login form, then one ChatView per session. The SDK talks to the page's
// own origin (nginx sends /api/ and /ws to the gateways). The token lives in sessionStorage, so a
// reload in the same tab skips the login and a new tab asks again.
import { AuthenticationFailedError, ChatApiError, type ChatClient, ChatClientError, createClient } from '@chat/client';
import { ChatView } from './chat-view.js';
import { $ } from './dom.js';
import { SearchPanel } from './search-panel.js';

const TOKEN_KEY = 'chat-demo.token';

const authView = $('#auth-view', HTMLElement);
const authForm = $('#auth-form', HTMLFormElement);
const username = $('#auth-username', HTMLInputElement);
const password = $('#auth-password', HTMLInputElement);
const authError = $('#auth-error', HTMLElement);
const chatView = $('#chat-view', HTMLElement);

let view: ChatView | null = null;
let search: SearchPanel | null = null;

function showAuth(message = ''): void {
  chatView.hidden = true;
  authView.hidden = false;
  authError.textContent = message;
  for (const b of authForm.querySelectorAll('button')) b.disabled = false;
  (username.value ? password : username).focus();
}

async function start(client: ChatClient): Promise<void> {
  view = new ChatView(client, {
    onLogout: () => void logout(),
    onAuthLost: () => void logout('Your session ended: please log in again.'),
  });
  search?.stop(); // one left by a start that failed
  search = new SearchPanel(client);
  authView.hidden = true;
  chatView.hidden = false;
  await view.start();
}

async function logout(message = ''): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  search?.stop();
  search = null;
  const v = view;
  view = null;
  await v?.stop();
  password.value = '';
  showAuth(message);
}

authForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const action = (event.submitter as HTMLButtonElement | null)?.value === 'register' ? 'register' : 'login';
  if (!authForm.reportValidity()) return;
  const buttons = authForm.querySelectorAll('button');
  for (const b of buttons) b.disabled = true;
  authError.textContent = action === 'register' ? 'Creating your account…' : 'Logging in…';
  const client = createClient({ baseUrl: location.origin });
  try {
    if (action === 'register') await client.register(username.value, password.value);
    const { token } = await client.login(username.value, password.value);
    sessionStorage.setItem(TOKEN_KEY, token);
    await start(client);
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    const v = view;
    view = null;
    await (v ? v.stop() : client.close()).catch(() => {});
    showAuth(describeAuthError(err, action));
  }
});

function describeAuthError(err: unknown, action: 'login' | 'register'): string {
  if (err instanceof ChatApiError) {
    if (err.status === 401) return 'Wrong username or password.';
    if (err.status === 409) return 'That username is taken: pick another or log in.';
    if (err.status === 429) return `Too many attempts: try again in ${err.retryAfter ?? 60} s.`;
    if (err.status === 400) return err.message;
  }
  if (err instanceof ChatClientError && err.retryable) return 'The server cannot be reached right now: try again.';
  return `Could not ${action === 'register' ? 'create the account' : 'log in'}: ${(err as Error).message}`;
}

// A token from earlier in this tab: reconnect without asking.
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  start(createClient({ baseUrl: location.origin, token: saved })).catch((err: unknown) => {
    void logout(
      err instanceof AuthenticationFailedError
        ? 'Your session expired: please log in again.'
        : `Could not reconnect: ${(err as Error).message}`,
    );
  });
} else {
  showAuth();
}
