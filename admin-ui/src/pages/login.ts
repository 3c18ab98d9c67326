// The login form: an administrator's JID (or user name of this domain) and XMPP password,
// checked by POST /api/session. A refusal says what to do about it: retype, ask for a place in
// admin.jids, or wait as long as the server's Retry-After says.
import { ApiError, describe, logIn } from '../api.ts';
import type { Session } from '../api-types.ts';
import { h, setMessage } from '../dom.ts';
import { duration } from '../format.ts';

export function refusal(err: unknown): string {
  if (!(err instanceof ApiError)) return describe(err);
  switch (err.code) {
    case 'AUTH_FAILED':
      return 'Wrong JID or password.';
    case 'NOT_ADMIN':
      return 'This account is not an administrator. Only the accounts listed in the system property admin.jids may log in '
        + '(on the server: npx xmppd property set admin.jids you@example.com).';
    case 'TOO_MANY_ATTEMPTS':
      return 'Too many failed logins from this address or for this account. '
        + (err.retryAfter ? `Try again in ${duration(err.retryAfter)}.` : 'Try again later.');
    default:
      return err.message;
  }
}

export function drawLogin(root: HTMLElement, notice: string | null, loggedIn: (session: Session) => void): void {
  document.title = 'Log in · xmppd admin';
  const jid = h('input', { id: 'login-jid', name: 'jid', type: 'text', autocomplete: 'username', required: true, autofocus: true, spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const messages = h('div', { class: 'messages' });
  if (notice) setMessage(messages, 'info', notice);

  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'xmppd admin console'),
    h('p', { class: 'hint' }, 'Log in with the XMPP account of an administrator (listed in the property admin.jids).'),
    h('label', { for: 'login-jid' }, 'JID'),
    jid,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    messages,
    submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = 'Checking…';
    setMessage(messages, 'info', '');
    logIn(jid.value.trim(), password.value).then(loggedIn, (err: unknown) => {
      setMessage(messages, 'error', refusal(err));
      password.value = '';
      password.focus();
    }).finally(() => {
      submit.disabled = false;
      submit.textContent = 'Log in';
    });
  });
  root.replaceChildren(h('div', { class: 'login-page' }, form));
  jid.focus();
}
