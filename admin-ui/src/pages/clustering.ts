// The cluster switch and what came of it. clustering.enabled is a system property in the
// shared database, so the one toggle here turns clustering on or off for every node; each
// node notices within seconds (its property poll) and joins or leaves while keeping its
// clients connected. Below it, this node's view of the cluster from GET /api/status,
// refreshed every few seconds, and whether a clustering plugin is installed at all.
import { ApiError, clusterConsistency, describe, nodeStatus, plugins, property, setProperty } from '../api.ts';
import type { NodeConsistency, NodeStatus, Plugin, Property } from '../api-types.ts';
import { facts, h, message, setMessage, table } from '../dom.ts';
import { time } from '../format.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';
import { stateLine } from '../state-line.ts';

const SWITCH = 'clustering.enabled';
const REFRESH_MS = 3000;

/** The switch's property, or a stand-in while nothing defines or stores it (no plugin). */
async function readSwitch(): Promise<Property> {
  try {
    return await property(SWITCH);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PROPERTY_NOT_FOUND') {
      return { name: SWITCH, defined: false, value: false, stored: null, isDefault: true, problem: null };
    }
    throw err;
  }
}

/** On when the value is true, or the text "true" as stored for a plugin not loaded here. */
function isOn(p: Property): boolean {
  return p.value === true || p.value === 'true';
}

function pluginSection(all: Plugin[]): HTMLElement {
  const cluster = all.filter((p) => p.kind === 'cluster');
  if (!cluster.length) {
    return h('section', { class: 'card wide', id: 'cluster-plugin' }, h('h2', {}, 'Clustering plugin'),
      message('info', 'No clustering plugin is installed on this node, so it stays standalone whatever the switch says.'),
      h('p', {}, 'A new installation gets it at its first start (bundled_plugins); this node\'s plugins folder does not have it. ',
        'To install the Hazelcast plugin again: run ', h('code', {}, 'npm run build'), ', which makes ',
        h('code', {}, 'dist/plugins/hazelcast.tgz'), ', then upload it on the ', h('a', { href: '#/plugins' }, 'Plugins'), ' page or run ',
        h('code', {}, 'npx xmppd plugin install dist/plugins/hazelcast.tgz'), ' on every node. The nodes also need Hazelcast members to join; docs/clustering.md tells how to run them.'),
      h('p', {}, 'The switch above works anyway: it is stored in the shared database, and nodes that have the plugin follow it.'));
  }
  return h('section', { class: 'card wide', id: 'cluster-plugin' }, h('h2', {}, 'Clustering plugin'),
    table(['Plugin', 'Version', 'State'], cluster.map((p) => [
      p.name, p.version ?? '?', h('div', {}, h('span', { class: `plugin-state plugin-state-${p.state}` }, p.state), p.reason ? h('div', { class: 'reason' }, p.reason) : null),
    ])));
}

function summary(s: NodeStatus): HTMLElement {
  const c = s.cluster;
  return h('div', {},
    stateLine(s),
    c ? facts([
      ['Cluster state', h('span', { id: 'cluster-state' }, c.state)],
      // Why a node with clustering on is not (fully) in the cluster: the last failed attempt.
      ...(c.reason ? [['Why', h('span', { id: 'cluster-reason' }, c.reason)] as [string, HTMLElement]] : []),
      // The members it reaches for, so that a wrong address or cluster name shows here.
      ...(c.hazelcast ? [['Hazelcast', h('span', { id: 'cluster-hazelcast' },
        `cluster "${c.hazelcast.cluster}" at ${c.hazelcast.addresses.join(', ')}`)] as [string, HTMLElement]] : []),
      ['This node', s.node],
      ['Senior node', c.seniorNodeId ?? 'none yet'],
      ['xmppd nodes', String(c.members.length)],
    ]) : facts([
      ['Cluster state', h('span', { id: 'cluster-state' }, 'standalone')],
      ['This node', s.node],
    ]),
    // Different versions are expected during a rolling upgrade, and a forgotten node otherwise.
    c?.versionSkew ? h('div', { id: 'cluster-version-skew' }, message('error', `Version mismatch: ${c.versionSkew}.`)) : null,
    c?.members.length
      ? table(['Node', 'Address', 'Joined', 'xmppd', 'Plugin'], c.members.map((m) => [
        m.nodeId === s.node ? `${m.nodeId} (this node)` : m.nodeId, m.address, time(m.joinedAt), m.version ?? 'unknown', m.pluginVersion ?? 'unknown',
      ]))
      : c ? (c.enabled ? h('p', { class: 'hint', id: 'cluster-not-joined' },
        'Clustering is on, but this node has not joined: it serves its own clients alone, and keeps trying (see Why above).') : null)
        : h('p', { class: 'hint' }, 'This node is not in a cluster: clustering is off, or no clustering plugin is loaded here.'),
    c?.hazelcastMembers?.length
      ? h('div', { id: 'hazelcast-members' }, h('h3', {}, 'Hazelcast members this node is connected to'),
        table(['Member', 'Version', 'UUID', 'Kind'], c.hazelcastMembers.map((m) => [m.address, m.version ?? 'unknown', m.uuid, m.lite ? 'lite' : 'data'])))
      : c?.enabled ? h('p', { class: 'hint', id: 'hazelcast-members' }, 'This node\'s client is connected to no Hazelcast member.') : null);
}

const KINDS = [
  ['unpublished', 'its own sessions missing from the shared routes'],
  ['stale', 'shared entries naming it for sessions it does not have'],
  ['missed', 'other nodes\' routes it does not know'],
  ['ghosts', 'routes it knows that the cluster no longer has'],
] as const;

function consistencyTable(reports: NodeConsistency[]): HTMLElement {
  const cell = (r: NodeConsistency, kind: (typeof KINDS)[number][0]): string => {
    const n = r.counts[kind];
    const listed = r.differences[kind];
    return n ? `${n}: ${listed.join(', ')}${n > listed.length ? ', …' : ''}` : '0';
  };
  return h('div', {},
    table(['Node', ...KINDS.map(([k]) => k), 'Checked'], reports.map((r) => [
      r.node, ...(r.error ? KINDS.map(() => '?') : KINDS.map(([k]) => cell(r, k))), r.error ? `failed: ${r.error}` : `${time(r.checkedAt)}${r.repaired ? ', after a repair' : ''}`,
    ])),
    h('p', { class: 'hint' }, KINDS.map(([k, what]) => `${k}: ${what}`).join('; '), '. A difference seen once may be a change on its way; one that stays is real.'));
}

/** The data consistency check, run on request: every node's routes against the shared ones. */
function consistencySection(): HTMLElement {
  const result = h('div', { id: 'cluster-consistency-result' });
  const run = (repair: boolean): void => {
    setMessage(result, 'info', repair ? 'Repairing on every node…' : 'Checking every node…');
    clusterConsistency(repair).then((reports) => result.replaceChildren(consistencyTable(reports)),
      (err: unknown) => setMessage(result, 'error', describe(err)));
  };
  return h('section', { class: 'card wide', id: 'cluster-consistency' }, h('h2', {}, 'Data consistency'),
    h('p', {}, 'Compares each node\'s sessions and its copy of the routes with the routes the cluster shares. Each node repairs by itself after reconnecting to Hazelcast; a repair here does the same now.'),
    h('button', { type: 'button', id: 'cluster-check', onclick: () => run(false) }, 'Check'), ' ',
    h('button', { type: 'button', id: 'cluster-repair', onclick: () => run(true) }, 'Repair'),
    result);
}

export const clusteringPage: Route = {
  path: '/clustering',
  title: 'Clustering',
  render(main) {
    const pluginSlot = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const toggle = h('button', { type: 'button', role: 'switch', 'aria-checked': 'false', id: 'cluster-switch', class: 'switch', disabled: true, 'aria-labelledby': 'cluster-switch-label' },
      h('span', { class: 'switch-knob', 'aria-hidden': 'true' }),
      h('span', { class: 'switch-text' }, '…'));
    const switchMessages = h('div', { class: 'messages', id: 'cluster-switch-message' });
    const summarySlot = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const updated = h('p', { class: 'updated' });
    let current: Property | null = null;
    /** Clicks so far: a refresh that began before a change must not show the value from before it. */
    let changes = 0;
    let changing = false;

    const show = (p: Property): void => {
      current = p;
      const on = isOn(p);
      toggle.setAttribute('aria-checked', String(on));
      toggle.querySelector('.switch-text')!.textContent = on ? 'On' : 'Off';
      toggle.disabled = false;
    };

    toggle.addEventListener('click', () => {
      if (!current) return;
      const next = !isOn(current);
      changes++;
      changing = true;
      toggle.disabled = true;
      setMessage(switchMessages, 'info', next ? 'Turning clustering on…' : 'Turning clustering off…');
      // A name nothing defines here is stored only when asked for: it is, when no plugin is loaded.
      setProperty(SWITCH, next, !current.defined).then((p) => {
        show(p);
        setMessage(switchMessages, 'success', `Clustering is now ${isOn(p) ? 'on' : 'off'} for every node. Each node follows within a few seconds.`);
      }, (err: unknown) => {
        setMessage(switchMessages, 'error', describe(err));
        toggle.disabled = false;
      }).finally(() => {
        changing = false;
      });
    });

    main.append(
      h('h1', {}, 'Clustering'),
      h('section', { class: 'card wide switch-card' },
        h('h2', { id: 'cluster-switch-label' }, 'Clustering for all nodes'),
        toggle,
        switchMessages,
        h('p', {}, 'This switch is the system property ', h('code', {}, SWITCH), ', stored in the database all nodes share. ',
          'Every node checks for property changes every two seconds, so turning it on or off reaches every node within seconds. ',
          'Each node then joins or leaves the Hazelcast cluster on its own; clients stay connected either way.')),
      pluginSlot,
      h('section', { class: 'card wide' }, h('h2', {}, 'This node\'s view of the cluster'), updated, summarySlot),
      consistencySection());

    // The switch and the plugins are read again too: another administrator, or the command
    // line, may change them meanwhile.
    return every(REFRESH_MS, async () => {
      const seen = changes;
      try {
        const [p, all, status] = await Promise.all([readSwitch(), plugins(), nodeStatus()]);
        if (!changing && seen === changes) show(p);
        pluginSlot.replaceChildren(pluginSection(all));
        summarySlot.replaceChildren(summary(status));
        updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        summarySlot.replaceChildren(message('error', `Cannot read the cluster's state: ${describe(err)}`));
      }
    });
  },
};
