// The client sessions online on every node of the cluster (GET /api/online reads the routing
// table, which holds every node's routes), optionally those of one user, refreshed every few
// seconds; and disconnecting one: the node holding it ends it with a policy-violation stream
// error.
import { describe, endSession, onlineSessions } from '../api.ts';
import type { OnlineSession } from '../api-types.ts';
import { h, message, setMessage } from '../dom.ts';
import { count, time } from '../format.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';

const REFRESH_MS = 3000;
/** Typing pauses this long before the filter goes to the server. */
const FILTER_DELAY_MS = 300;

export const sessionsPage: Route = {
  path: '/sessions',
  title: 'Sessions',
  render(main) {
    const user = h('input', { id: 'session-user', type: 'search', placeholder: 'user name or bare JID', autocomplete: 'off', spellcheck: 'false' });
    const shown = h('span', { class: 'hint', id: 'sessions-count' });
    const status = h('div', { class: 'messages', id: 'sessions-message' });
    const updated = h('p', { class: 'updated' });
    const list = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    /** Reads so far: an answer that a later read overtook (a new filter, a disconnect) is dropped. */
    let reads = 0;
    let typing: ReturnType<typeof setTimeout> | undefined;

    const disconnect = async (s: OnlineSession): Promise<void> => {
      if (!window.confirm(`Disconnect ${s.jid}? The node ${s.node} ends the session at once with a policy-violation stream error. `
        + 'The client may log in again: to keep it out, change the password or delete the account on the Users page.')) return;
      setMessage(status, 'info', `Disconnecting ${s.jid}…`);
      try {
        await endSession(s.jid);
        setMessage(status, 'success', `Disconnected ${s.jid}.`);
      } catch (err) {
        // SESSION_NOT_FOUND: it ended meanwhile, which the refresh below shows.
        setMessage(status, 'error', describe(err));
      }
      await refresh();
    };

    const view = (sessions: OnlineSession[], filter: string): HTMLElement => {
      if (!sessions.length) return h('p', {}, filter ? `${filter} has no session online.` : 'No client is connected to any node.');
      return h('table', { class: 'sessions' },
        h('thead', {}, h('tr', {}, ...['JID', 'Node', 'Address', 'Connection', 'Client', 'Logged in', 'Available', 'Priority', 'Show', 'Status', '']
          .map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...sessions.map((s) => h('tr', { 'data-jid': s.jid },
          h('td', {}, h('code', {}, s.jid)),
          h('td', {}, s.node),
          h('td', { class: 'address' }, s.address ?? ''),
          h('td', { class: 'connection' }, connection(s)),
          h('td', { class: 'client' }, s.client ?? ''),
          h('td', { class: 'since' }, s.since ? time(s.since) : ''),
          // Not available: bound, but no initial presence sent (yet).
          h('td', {}, s.available ? 'yes' : h('span', { class: 'hint' }, 'no')),
          h('td', { class: 'number' }, String(s.priority)),
          h('td', {}, s.show ?? ''),
          h('td', {}, s.status ?? ''),
          h('td', {}, h('button', { type: 'button', class: 'danger', 'data-jid': s.jid, 'aria-label': `Disconnect ${s.jid}`, onclick: () => void disconnect(s) }, 'Disconnect'))))));
    };

    const refresh = async (): Promise<void> => {
      const mine = ++reads;
      const filter = user.value.trim();
      try {
        const sessions = await onlineSessions(filter);
        if (mine !== reads) return;
        // The table is drawn anew; a Disconnect button that had the focus keeps it.
        const focused = list.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.jid : undefined;
        list.replaceChildren(view(sessions, filter));
        if (focused) list.querySelector<HTMLElement>(`button[data-jid="${CSS.escape(focused)}"]`)?.focus();
        shown.textContent = `${count(sessions.length)} online`;
        updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        if (mine !== reads) return;
        list.replaceChildren(message('error', `Cannot list the sessions: ${describe(err)}`));
        shown.textContent = '';
      }
    };

    user.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => void refresh(), FILTER_DELAY_MS);
    });
    const filterForm = h('form', { class: 'inline-form', role: 'search' }, h('label', { for: 'session-user' }, 'User'), user, shown);
    filterForm.addEventListener('submit', (event) => {
      event.preventDefault();
      clearTimeout(typing);
      void refresh();
    });

    main.append(
      h('h1', {}, 'Sessions online'),
      h('p', { class: 'hint' }, 'Every client session on every node of the cluster (on a standalone node, its own), as the routing table holds them.'),
      filterForm, status, updated, list);
    const stop = every(REFRESH_MS, refresh);
    return () => {
      stop();
      clearTimeout(typing);
    };
  },
};

/** "TCP, TLS", "WebSocket, no TLS": how the client reaches the node (TLS up to a trusted proxy counts). */
function connection(s: OnlineSession): string {
  if (!s.transport) return '';
  const name = s.transport === 'tcp' ? 'TCP' : s.transport === 'websocket' ? 'WebSocket' : 'BOSH';
  return `${name}, ${s.secure ? 'TLS' : 'no TLS'}`;
}
