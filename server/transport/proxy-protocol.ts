// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): a balancer in TCP
// mode writes one header before the client's first byte, naming the client's address. The
// parser is pure; readProxyHeader() applies it to a socket that has just been accepted.
import net from 'node:net';

/** The client the balancer speaks for, or null: use the socket's own address. */
export interface ProxyHeader {
  version: 1 | 2;
  source: { address: string; port: number } | null;
}

export type ProxyParse =
  | { done: false }
  | { done: true; header: ProxyHeader; length: number };

export class ProxyProtocolError extends Error {}

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** "PROXY UNKNOWN" with two IPv6 addresses and two ports, CRLF included (section 2.1). */
const V1_MAX_LENGTH = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_LENGTH = 16;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PORT = /^(0|[1-9]\d{0,4})$/;

/**
 * Reads a header from the first bytes of a connection. `done: false` while what has come
 * so far may still grow into a valid header; a ProxyProtocolError as soon as it cannot.
 * `length` is how many bytes the header took: the rest belongs to the client.
 */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (startsLike(data, V2_SIGNATURE)) return parseV2(data);
  if (startsLike(data, V1_PREFIX)) return parseV1(data);
  throw new ProxyProtocolError('no PROXY protocol header');
}

/** Whether data and prefix agree on the bytes both have. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(data: Buffer): ProxyParse {
  // The CR must come early enough for the LF after it to stay within the limit.
  const searched = Math.min(data.length, V1_MAX_LENGTH - 1);
  for (let i = 0; i < searched; i++) {
    const byte = data[i]!;
    if (byte === 0x0d) {
      if (i + 1 === data.length) return { done: false };
      if (data[i + 1] !== 0x0a) throw new ProxyProtocolError('version 1 line: CR without LF');
      return { done: true, header: v1Line(data.toString('latin1', 0, i)), length: i + 2 };
    }
    // The line is US-ASCII text; a bare LF does not end it (section 2.1).
    if (byte < 0x20 || byte > 0x7e) throw new ProxyProtocolError('version 1 line: not printable text before CRLF');
  }
  if (searched === V1_MAX_LENGTH - 1) throw new ProxyProtocolError(`version 1 line: no CRLF within ${V1_MAX_LENGTH} bytes`);
  return { done: false };
}

function v1Line(line: string): ProxyHeader {
  const fields = line.split(' ');
  // UNKNOWN: whatever follows is to be ignored; the socket's addresses are the real ones.
  if (fields[1] === 'UNKNOWN') return { version: 1, source: null };
  if (fields.length !== 6) throw new ProxyProtocolError('version 1 line: expected protocol, two addresses and two ports');
  const [, protocol, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const valid = protocol === 'TCP4' ? (a: string) => IPV4.test(a)
    : protocol === 'TCP6' ? (a: string) => net.isIPv6(a) && !a.includes('%')
      : null;
  if (!valid) throw new ProxyProtocolError(`version 1 line: unknown protocol ${JSON.stringify(protocol.slice(0, 16))}`);
  if (!valid(source) || !valid(destination)) throw new ProxyProtocolError(`version 1 line: not ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'} addresses`);
  if (!validPort(sourcePort) || !validPort(destinationPort)) throw new ProxyProtocolError('version 1 line: ports must be 0-65535');
  return { version: 1, source: { address: canonical(source, protocol === 'TCP4' ? 'ipv4' : 'ipv6'), port: Number(sourcePort) } };
}

function validPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65535;
}

function parseV2(data: Buffer): ProxyParse {
  if (data.length < V2_FIXED_LENGTH) return { done: false };
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError(`version 2 header: version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError(`version 2 header: unknown command ${command}`);
  const family = data[13]! >> 4;
  const transport = data[13]! & 0x0f;
  if (family > 3 || transport > 2) throw new ProxyProtocolError(`version 2 header: unknown address family or transport 0x${data[13]!.toString(16)}`);
  const length = V2_FIXED_LENGTH + data.readUInt16BE(14);
  if (data.length < length) return { done: false };
  const block = data.subarray(V2_FIXED_LENGTH, length);
  // LOCAL is the balancer's own connection (a health check); its addresses mean nothing.
  // TLVs after the addresses (ALPN, SNI, CRC32c, ...) are not needed here and are skipped.
  if (command === 0) return { done: true, header: { version: 2, source: null }, length };
  // TCP over IPv4 or IPv6. Anything else (UNSPEC, UNIX, UDP) falls back to the socket's
  // address, as the specification allows a receiver that does not use those.
  if (transport !== 1 || (family !== 1 && family !== 2)) return { done: true, header: { version: 2, source: null }, length };
  const size = family === 1 ? 4 : 16;
  if (block.length < 2 * size + 4) throw new ProxyProtocolError(`version 2 header: address block of ${block.length} bytes is too short`);
  const address = family === 1
    ? [...block.subarray(0, 4)].join('.')
    : canonical(Array.from({ length: 8 }, (_, i) => block.readUInt16BE(2 * i).toString(16)).join(':'), 'ipv6');
  return { done: true, header: { version: 2, source: { address, port: block.readUInt16BE(2 * size) } }, length };
}

/**
 * One spelling per address, so that the per-address limits count one client once: IPv6
 * compressed and lower case, and an IPv4-mapped IPv6 address as plain IPv4 (as the
 * X-Forwarded-For reader does for HTTP).
 */
function canonical(address: string, family: 'ipv4' | 'ipv6'): string {
  const text = new net.SocketAddress({ address, family }).address;
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1] ?? text;
}

export interface ProxiedConnection {
  /** The client's address: from the header, or the socket's own for UNKNOWN and LOCAL. */
  remoteAddress: string;
  header: ProxyHeader;
}

/**
 * Waits for the header on a freshly accepted socket. Bytes after it are put back into the
 * socket (unshift), so the TLS layer or the XMPP parser reads them as the first bytes.
 * Rejects on a malformed header, on a connection closed before one, and after timeoutMs:
 * the caller then drops the connection without a word, as the peer speaks nothing yet.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<ProxiedConnection> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.removeListener('close', onEnd);
    };
    const fail = (err: Error): void => {
      finish();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let parsed: ProxyParse;
      try {
        parsed = parseProxyHeader(received);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (!parsed.done) return;
      finish();
      // Nothing more flows until the next reader attaches; what came with the header is
      // handed back first.
      socket.pause();
      if (parsed.length < received.length) socket.unshift(received.subarray(parsed.length));
      resolve({ remoteAddress: parsed.header.source?.address ?? socket.remoteAddress ?? 'unknown', header: parsed.header });
    };
    const onEnd = (): void => fail(new ProxyProtocolError('connection closed before a complete PROXY protocol header'));
    const onError = (err: Error): void => fail(err);
    const timer = setTimeout(() => fail(new ProxyProtocolError(`no PROXY protocol header within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.once('close', onEnd);
  });
}
