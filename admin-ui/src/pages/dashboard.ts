// The node at a glance, from GET /api/status (the object the client listeners serve at
// /status): state with its reason, identity, uptime, connections by transport, sessions,
// traffic and memory. Refreshed every few seconds.
import { describe, nodeStatus } from '../api.ts';
import type { NodeStatus } from '../api-types.ts';
import { lineChart } from '../chart.ts';
import { facts, h, message, table } from '../dom.ts';
import { bytes, count, duration, time } from '../format.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';
import { stateLine } from '../state-line.ts';

const REFRESH_MS = 5000;
/** Samples the live chart keeps: ten minutes at one every REFRESH_MS. */
const HISTORY = 120;

/** What the live chart shows, sampled at each refresh while the dashboard is open. */
class History {
  readonly connections: number[] = [];
  readonly stanzaRate: number[] = [];
  private last: { at: number; received: number } | null = null;

  add(s: NodeStatus, at: number): void {
    const connections = Object.values(s.connections).reduce((sum, c) => sum + c.current, 0);
    push(this.connections, connections);
    const received = s.stanzas.received.total;
    // A counter that went down means the node restarted: no rate for that interval.
    if (this.last && received >= this.last.received && at > this.last.at) {
      push(this.stanzaRate, ((received - this.last.received) * 1000) / (at - this.last.at));
    }
    this.last = { at, received };
  }
}

function push(values: number[], v: number): void {
  values.push(v);
  if (values.length > HISTORY) values.shift();
}

function liveChart(history: History): HTMLElement {
  return h('section', { class: 'card wide', id: 'live-chart' }, h('h2', {}, 'Live'),
    lineChart([
      { label: 'Connections', className: 'series-connections', values: history.connections, format: (v) => count(Math.round(v)) },
      { label: 'Stanzas received per second', className: 'series-stanzas', values: history.stanzaRate, format: (v) => v.toFixed(1) },
    ], HISTORY, 'Connections and stanzas received per second over the last minutes'),
    h('p', { class: 'hint' }, `Sampled every ${REFRESH_MS / 1000} s while this page is open; each line is scaled to its own peak.`));
}

function view(s: NodeStatus, history: History): HTMLElement {
  const transports = Object.entries(s.connections);
  const received = s.stanzas.received;
  return h('div', { class: 'cards' },
    liveChart(history),
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
    const history = new History();
    return every(REFRESH_MS, async () => {
      try {
        const status = await nodeStatus();
        history.add(status, Date.now());
        body.replaceChildren(view(status, history));
        updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        body.replaceChildren(message('error', `Cannot read the node's status: ${describe(err)}`));
      }
    });
  },
};
