// What `xmppd migrate --rename-domain OLD NEW` changes in a stored JID, stanza or property,
// for storage/domain-rename.ts to apply: every JID on OLD (bare, full, or OLD itself) moves
// to NEW; JIDs of other domains, subdomains of OLD included, stay as they are.
import { JID } from '../jid/jid.ts';
import type { PropertyRegistry } from '../properties/property-registry.ts';
import type { DomainRewriter } from '../storage/domain-rename.ts';
import type { Element } from '../xml/element.ts';
import { parseXml } from '../xml/stream-parser.ts';

/** Attributes that hold a JID in the stanzas the server stores (RFC 6120 addresses, XEP-0203's delay). */
const JID_ATTRIBUTES = ['to', 'from', 'jid'];

export function domainRewriter(from: string, to: string, registry: PropertyRegistry): DomainRewriter {
  const jid = (text: string): string | null => {
    const parsed = JID.tryParse(text);
    if (!parsed || parsed.domain !== from) return null;
    return JID.fromPrepared(parsed.local, to, parsed.resource).toString();
  };
  const rewriteTree = (el: Element): boolean => {
    let changed = false;
    for (const name of JID_ATTRIBUTES) {
      const value = el.attrs[name];
      const renamed = value === undefined ? null : jid(value);
      if (renamed !== null) {
        el.attrs[name] = renamed;
        changed = true;
      }
    }
    for (const child of el.getChildElements()) changed = rewriteTree(child) || changed;
    return changed;
  };
  return {
    jid,
    stanza(xml) {
      const el = parseXml(xml);
      return rewriteTree(el) ? el.toString() : null;
    },
    // Lists of accounts (admin.jids, and any jid-list a plugin declares); user names without
    // a domain mean this domain's, whatever it is called, and stay as they are.
    property(name, value) {
      if (registry.get(name)?.definition?.type !== 'jid-list') return null;
      const entries = value.split(/[\s,]+/).filter((e) => e !== '');
      const renamed = entries.map((e) => (e.includes('@') ? jid(e) ?? e : e));
      return renamed.some((e, i) => e !== entries[i]) ? renamed.join(', ') : null;
    },
  };
}
