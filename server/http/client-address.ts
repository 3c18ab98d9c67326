// The address of the client behind an HTTP request. Behind a load balancer the socket peer
// is the balancer, and counting every client as the balancer would make the per-address
// limits (connections, registrations) hit everyone at once. When the peer is one of the
// operator's trusted proxies (xmpp.http.trusted-proxies), the client is found in
// X-Forwarded-For by the usual walk: from the right, skip the addresses that are trusted
// proxies themselves; the first one that is not is the client. A peer that is not trusted
// gets its socket address whatever it sends, so nobody can choose their own address by
// writing the header.
import { BlockList, isIP } from 'node:net';
import { parseIpRange } from '../util/ip-range.ts';

/** A set of IP addresses and CIDR ranges, as properties list them (trusted proxies, who may read /status). */
export class AddressRanges {
  private constructor(
    private readonly list: BlockList,
    /** The entries in effect, as written. */
    readonly entries: readonly string[],
  ) {}

  /** Holds no address. */
  static readonly NONE = new AddressRanges(new BlockList(), []);

  /**
   * Reads a comma-separated list of IP addresses and CIDR ranges. Entries that are neither
   * are returned in `invalid` and left out; the others still apply.
   */
  static parse(text: string): { ranges: AddressRanges; invalid: string[] } {
    const list = new BlockList();
    const entries: string[] = [];
    const invalid: string[] = [];
    for (const raw of text.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      if (addEntry(list, entry)) entries.push(entry);
      else invalid.push(entry);
    }
    return { ranges: entries.length ? new AddressRanges(list, entries) : AddressRanges.NONE, invalid };
  }

  /** Whether `address` (an IP literal; IPv4-mapped IPv6 matches IPv4 entries) is in the set. */
  includes(address: string): boolean {
    if (!this.entries.length) return false;
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function addEntry(list: BlockList, entry: string): boolean {
  const range = parseIpRange(entry);
  if (!range) return false;
  if (range.prefix === null) list.addAddress(range.address, range.family);
  else list.addSubnet(range.address, range.prefix, range.family);
  return true;
}

/**
 * An address as proxies write it in X-Forwarded-For: an IP literal, possibly with a port
 * ("192.0.2.1:4711", "[2001:db8::1]:4711") or brackets. IPv4-mapped IPv6 becomes plain IPv4,
 * so one client counts as one address whichever way it is written. Null if it is no address.
 */
export function forwardedAddress(text: string): string | null {
  let s = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.indexOf(':'));
  const family = isIP(s);
  if (family === 0) return null;
  if (family === 4) return s;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return mapped ? mapped[1]! : s.toLowerCase();
}

/**
 * The client address of a request that arrived from `peer` (the socket's remote address)
 * with the given X-Forwarded-For header(s).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: AddressRanges): string {
  const socketAddress = peer ?? 'unknown';
  if (forwardedFor === undefined || !trusted.includes(socketAddress)) return socketAddress;
  // Several headers are one list, in the order they arrived.
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    if (hops[i]!.trim() === '') continue;
    const hop = forwardedAddress(hops[i]!);
    // Something that is no address, written by a proxy we trust, ends the walk: what lies
    // beyond it cannot be told apart from what the client wrote itself.
    if (hop === null) return client;
    client = hop;
    if (!trusted.includes(hop)) return hop;
  }
  // Every hop is a trusted proxy: the left-most one is as far as the chain goes.
  return client;
}
