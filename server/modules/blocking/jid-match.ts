// Which blocklist entries cover a JID (XEP-0191 section 4, the order of XEP-0016):
// user@domain/resource, user@domain, domain/resource, and domain, where a domain entry
// also covers every address at that domain and at its subdomains.
import type { JID } from '../../jid/jid.ts';

/** True if any entry of `blocked` (canonical JID strings) covers `jid`. */
export function isBlocked(blocked: ReadonlySet<string>, jid: JID): boolean {
  if (blocked.size === 0) return false;
  if (jid.resource) {
    if (blocked.has(jid.toString())) return true;
    if (jid.local && blocked.has(`${jid.domain}/${jid.resource}`)) return true;
  }
  if (jid.local && blocked.has(jid.bareString())) return true;
  for (let domain = jid.domain; ; ) {
    if (blocked.has(domain)) return true;
    const dot = domain.indexOf('.');
    if (dot === -1) return false;
    domain = domain.slice(dot + 1);
  }
}
