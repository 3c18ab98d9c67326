// xmppd cluster status|check|repair: the cluster as the node running on this machine sees
// it. `status` reads the node's /status on its client HTTP listener (open to this machine by
// default, xmpp.http.status.allowed), so it needs no credentials; `check` and `repair` run
// the data consistency check through the admin listener, as an administrator
// (XMPPD_ADMIN_JID and XMPPD_ADMIN_PASSWORD), since they list users' JIDs.
import type { NodeConsistency } from '../cluster/cluster-manager.ts';
import type { NodeStatus } from '../http/node-status.ts';
import { adminRequest, requestJson, table, urlOf } from './admin-client.ts';
import { CommandError, UsageError } from './cli-errors.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const CLUSTER_USAGE: [string, string][] = [
  ['cluster status', 'the cluster as this machine\'s node sees it: nodes, versions, Hazelcast members'],
  ['cluster check', 'compare every node\'s routes with the shared ones (admin: $XMPPD_ADMIN_JID, $XMPPD_ADMIN_PASSWORD)'],
  ['cluster repair', 'the same, after every node repaired what it found'],
];

async function status(ctx: CommandContext): Promise<void> {
  const s = await requestJson<NodeStatus>(urlOf(ctx.config().http, 'http', '/status'));
  ctx.out(`node ${s.node}: ${s.state}${s.reason ? ` (${s.reason})` : ''}, xmppd ${s.version}`);
  const c = s.cluster;
  if (!c) {
    ctx.out('clustering is off: the node serves standalone');
    return;
  }
  ctx.out(`cluster: ${c.state}${c.reason ? ` (${c.reason})` : ''}${c.hazelcast ? `, Hazelcast cluster "${c.hazelcast.cluster}" at ${c.hazelcast.addresses.join(', ')}` : ''}`);
  if (c.members.length) {
    for (const line of table([['NODE', 'ADDRESS', 'JOINED', 'XMPPD', 'PLUGIN'], ...c.members.map((m) => [
      m.nodeId === s.node ? `${m.nodeId} (this node)` : m.nodeId, m.address, String(m.joinedAt), m.version ?? 'unknown', m.pluginVersion ?? 'unknown',
    ])])) ctx.out(line);
  }
  if (c.versionSkew) ctx.out(`version mismatch: ${c.versionSkew}`);
  const members = c.hazelcastMembers ?? [];
  ctx.out(members.length ? 'Hazelcast members connected to:' : 'connected to no Hazelcast member');
  for (const line of members.length ? table([['MEMBER', 'VERSION', 'UUID', 'KIND'], ...members.map((m) => [m.address, m.version ?? 'unknown', m.uuid, m.lite ? 'lite' : 'data'])]) : []) ctx.out(`  ${line}`);
}

async function consistency(ctx: CommandContext, repair: boolean): Promise<void> {
  const { nodes } = await adminRequest<{ nodes: NodeConsistency[] }>(ctx, repair ? 'POST' : 'GET', `/api/cluster/consistency${repair ? '/repair' : ''}`);
  const kinds = ['unpublished', 'stale', 'missed', 'ghosts'] as const;
  for (const line of table([['NODE', ...kinds.map((k) => k.toUpperCase())], ...nodes.map((n) => [n.node, ...kinds.map((k) => (n.error ? '?' : String(n.counts[k])))])])) ctx.out(line);
  let found = 0;
  for (const n of nodes) {
    if (n.error) ctx.out(`${n.node}: not checked: ${n.error}`);
    for (const k of kinds) {
      found += n.counts[k];
      if (n.differences[k].length) ctx.out(`${n.node} ${k}: ${n.differences[k].join(' ')}`);
    }
  }
  const failed = nodes.filter((n) => n.error).length;
  if (found || failed) throw new CommandError(`${found} difference(s)${failed ? `, ${failed} node(s) not checked` : ''}${repair ? ' left after the repair' : ''}`);
  ctx.say(repair ? 'repaired: every node agrees with the shared routes' : 'every node agrees with the shared routes');
}

export async function clusterCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args;
  switch (sub) {
    case 'status':
      expectArgs(rest, 'cluster status', 0);
      return status(ctx);
    case 'check':
      expectArgs(rest, 'cluster check', 0);
      return consistency(ctx, false);
    case 'repair':
      expectArgs(rest, 'cluster repair', 0);
      return consistency(ctx, true);
    default:
      throw new UsageError(sub === undefined ? 'cluster needs a subcommand: status, check or repair' : `unknown cluster subcommand '${sub}'`);
  }
}
