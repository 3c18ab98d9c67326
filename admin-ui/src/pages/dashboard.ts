// The node at a glance, from GET /api/status (the object the client listeners serve at
// /status): state with its reason, identity, uptime, connections by transport, sessions,
// traffic and memory. Refreshed every few seconds.
import { describe, nodeStatus } from '../api.ts';
import type { NodeStatus } from '../api-types.ts';
import { facts, h, message, table } from '../dom.ts';
import { bytes, count, duration, time } from '../format.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';
import { stateLine } from '../state-line.ts';

const REFRESH_MS = 5000;

function view(s: NodeStatus): HTMLElement {
  const transports = Object.entries(s.connections);
  const received = s.stanzas.received;
  return h('div', { class: 'cards' },
    h('section', { class: 'card wide' }, h('h2', {}, 'State'), stateLine(s),
      s.dependencies.length ? table(['Dependency', 'Critical', 'Available', 'Checked'], s.dependencies.map((d) => [
        d.name, d.critical ? 'yes' : 'no', h('span', { class: d.available ? 'ok' : 'bad' }, d.available ? 'yes' : 'no'), d.checkedAt ? time(d.checkedAt) : 'not yet',
      ])) : null),
    h('section', { class: 'card' }, h('h2', {}, 'Node'), facts([
      ['Node id', s.node],
      ['Domain', s.domain],
      ['Version', s.version],
      ['Uptime', duration(s.uptimeSeconds)],
      ['Started', time(s.startedAt)],
      ['Process', `pid ${s.pid}, CPU ${s.cpu.percent} %`],
      ['Cluster', s.cluster ? `${s.cluster.state}, ${s.cluster.members.length} member(s)` : 'standalone'],
    ])),
    h('section', { class: 'card' }, h('h2', {}, 'Connections'),
      table(['Transport', 'Now', 'Peak', 'Since start'], transports.map(([name, c]) => [name, count(c.current), count(c.peak), count(c.total)]), { class: 'numbers' }),
      facts([
        ['Sessions', count(s.sessions)],
        ['XMPP logins', `${count(s.logins.succeeded)} succeeded, ${count(s.logins.failed)} failed`],
      ])),
    h('section', { class: 'card' }, h('h2', {}, 'Stanzas'), facts([
      ['Received', `${count(received.total)} (${count(received.message)} messages, ${count(received.presence)} presences, ${count(received.iq)} IQs)`],
      ['Routed', count(s.stanzas.routed)],
      ['Delivered', count(s.stanzas.delivered)],
    ])),
    h('section', { class: 'card' }, h('h2', {}, 'Memory'), facts([
      ['Resident', bytes(s.memory.rssBytes)],
      ['Peak resident', bytes(s.memory.peakRssBytes)],
      ['Heap', `${bytes(s.memory.heapUsedBytes)} of ${bytes(s.memory.heapTotalBytes)}`],
    ])));
}

export const dashboardPage: Route = {
  path: '/dashboard',
  title: 'Dashboard',
  render(main) {
    const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const updated = h('p', { class: 'updated' });
    main.append(h('h1', {}, 'Dashboard'), updated, body);
    return every(REFRESH_MS, async () => {
      try {
        body.replaceChildren(view(await nodeStatus()));
        updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        body.replaceChildren(message('error', `Cannot read the node's status: ${describe(err)}`));
      }
    });
  },
};
