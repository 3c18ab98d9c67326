// Whether the nodes of a cluster run different versions, as each published its own when it
// joined. During a rolling upgrade a difference is expected and harmless between adjacent
// versions (docs/clustering.md); outside one it is a node somebody forgot, which an operator
// wants to see on /status, in the console and from `xmppd cluster status`.
import type { ClusterMember } from './cluster-manager.ts';

const versionsOf = (m: ClusterMember): string => `xmppd ${m.version ?? 'unknown'}, plugin ${m.pluginVersion ?? 'unknown'}`;

/** A sentence naming the versions in use when the members differ; null when they agree (or there is one). */
export function versionSkew(members: readonly ClusterMember[]): string | null {
  const byVersions = new Map<string, string[]>();
  for (const m of members) {
    const key = versionsOf(m);
    byVersions.set(key, [...(byVersions.get(key) ?? []), m.nodeId]);
  }
  if (byVersions.size < 2) return null;
  return `nodes run different versions: ${[...byVersions].map(([v, nodes]) => `${nodes.join(', ')} ${v}`).join('; ')}`;
}
