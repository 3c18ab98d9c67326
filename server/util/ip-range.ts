// An IP address or CIDR range as operators write them in lists (trusted proxies): one
// reader, so that the property check and the code that applies the list agree on what is one.
import { isIP } from 'node:net';

export interface IpRange {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Prefix length, or null for a single address. */
  prefix: number | null;
}

/** `192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`; null for anything else (a host name, `/40` on IPv4). */
export function parseIpRange(entry: string): IpRange | null {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { address, family, prefix: null };
  const bits = entry.slice(slash + 1);
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (version === 4 ? 32 : 128)) return null;
  return { address, family, prefix };
}
