// Which names a request to the admin listener may carry in its Host header. A page on
// another site can reach a console on 127.0.0.1 by DNS rebinding: its own name is made to
// resolve to 127.0.0.1 after the page loaded, so the browser treats the console as the
// page's own origin and lets the page read it. The request then names the attacker's host,
// which is what gives it away. Allowed are:
// - IP addresses: a rebinding needs a name, so an address in the Host header is no attack;
// - localhost and *.localhost (RFC 6761: resolved to loopback, never delegated in DNS);
// - the listener's own host when it is configured as a name;
// - the names listed in admin.allowed-hosts (`admin.example.com`, or `.example.com` for
//   that name and every name under it), e.g. for a reverse proxy that passes the Host on.
// The port is not compared: an SSH tunnel may forward any local port to the listener, and
// a rebinding page uses the console's port anyway.
import { isIP } from 'node:net';

export class AllowedHosts {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  /** `listed`: admin.allowed-hosts, names separated by commas or spaces; `own`: the listener's host. */
  constructor(listed: string, own?: string) {
    for (const raw of [...listed.split(/[\s,]+/), own ?? '']) {
      const entry = raw.toLowerCase().replace(/\.$/, '');
      if (entry === '' || entry === '.') continue;
      if (entry.startsWith('.')) this.suffixes.push(entry);
      else this.exact.add(entry);
    }
  }

  /** Whether a request whose Host header is `header` may be served. */
  allows(header: string | undefined): boolean {
    // Only HTTP/1.0 requests come without one (node refuses HTTP/1.1 without Host), and no
    // browser sends those.
    if (header === undefined) return true;
    const name = hostName(header);
    if (name === null) return false;
    if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || this.exact.has(name)) return true;
    return this.suffixes.some((s) => name.endsWith(s) || name === s.slice(1));
  }
}

/**
 * The host part of a Host header, lower case and without the port, brackets or a final dot;
 * null when it is not a host name or address followed by an optional port.
 */
export function hostName(header: string): string | null {
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(header);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? bracketed[1]!.toLowerCase() : null;
  const plain = /^([a-z0-9._-]+?)\.?(?::\d{1,5})?$/i.exec(header);
  return plain ? plain[1]!.toLowerCase() : null;
}
