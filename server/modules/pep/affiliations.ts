// Affiliations (XEP-0060 section 4.1) the owner gives to other JIDs on one node: a member or
// publisher may see a whitelist node's items (publishing stays the owner's), an outcast may
// not see the node under any access model. Kept in the node's configuration record under a
// key no form field has, so they need no table of their own; each node holds a bounded
// number of them.
import type { NodeConfig } from './node-config.ts';

export const AFFILIATIONS_KEY = 'xmppd#affiliations';
export const AFFILIATIONS = ['member', 'publisher', 'outcast', 'none'] as const;
export type Affiliation = (typeof AFFILIATIONS)[number];

export function affiliationsOf(config: NodeConfig): Map<string, Affiliation> {
  const raw = config[AFFILIATIONS_KEY];
  if (!raw) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(raw) as Record<string, Affiliation>));
  } catch {
    return new Map();
  }
}

export function affiliationOf(config: NodeConfig, bareJid: string): Affiliation {
  return affiliationsOf(config).get(bareJid) ?? 'none';
}

export function withAffiliations(config: NodeConfig, affiliations: Map<string, Affiliation>): NodeConfig {
  const out = { ...config };
  const kept = [...affiliations].filter(([, a]) => a !== 'none');
  if (kept.length) out[AFFILIATIONS_KEY] = JSON.stringify(Object.fromEntries(kept));
  else delete out[AFFILIATIONS_KEY];
  return out;
}
