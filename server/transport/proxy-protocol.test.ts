import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ProxyProtocolError, parseProxyHeader, readProxyHeader, type ProxyParse } from './proxy-protocol.ts';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A version 2 header: version/command byte, family/transport byte, then the block. */
function v2(versionCommand: number, familyTransport: number, block: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.concat([SIGNATURE, Buffer.from([versionCommand, familyTransport]), length, block]);
}

function ipv4Block(source: number[], destination: number[], sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([Buffer.from(source), Buffer.from(destination), ports]);
}

function ipv6Block(source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([Buffer.from(source, 'hex'), Buffer.from(destination, 'hex'), ports]);
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.from([type, 0, 0]);
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function parsed(data: Buffer | string): Extract<ProxyParse, { done: true }> {
  const result = parseProxyHeader(Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'));
  assert.ok(result.done, 'expected a complete header');
  return result;
}

function refused(data: Buffer | string): string {
  try {
    parseProxyHeader(Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'));
  } catch (err) {
    assert.ok(err instanceof ProxyProtocolError, `expected a ProxyProtocolError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(String(data))}`);
}

test('version 1, TCP4: the source address and port; the header length leaves the client bytes alone', () => {
  const line = 'PROXY TCP4 203.0.113.7 10.0.0.11 56324 5222\r\n';
  const result = parsed(`${line}<?xml version='1.0'?>`);
  assert.deepEqual(result.header, { version: 1, source: { address: '203.0.113.7', port: 56324 } });
  assert.equal(result.length, line.length);
});

test('version 1, TCP6: one spelling per address (compressed, lower case; IPv4-mapped becomes IPv4)', () => {
  assert.deepEqual(parsed('PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 4711 5222\r\n').header,
    { version: 1, source: { address: '2001:db8::1', port: 4711 } });
  assert.deepEqual(parsed('PROXY TCP6 ::ffff:198.51.100.4 ::1 1 65535\r\n').header,
    { version: 1, source: { address: '198.51.100.4', port: 1 } });
});

test('version 1, UNKNOWN: the socket address is used, whatever follows on the line', () => {
  assert.deepEqual(parsed('PROXY UNKNOWN\r\n'), { done: true, header: { version: 1, source: null }, length: 15 });
  // The longest line the specification allows (107 bytes with CRLF) is accepted.
  const longest = `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
  assert.equal(longest.length, 107);
  assert.equal(parsed(longest).length, 107);
});

test('version 1: malformed lines are refused', () => {
  const cases: [string, RegExp][] = [
    ['PROXY TCP4 203.0.113.7 10.0.0.11 56324\r\n', /expected protocol, two addresses and two ports/],
    ['PROXY TCP4 203.0.113.7  10.0.0.11 1 2\r\n', /expected protocol, two addresses and two ports/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 1 2 \r\n', /expected protocol, two addresses and two ports/],
    ['PROXY UDP4 203.0.113.7 10.0.0.11 1 2\r\n', /unknown protocol "UDP4"/],
    ['PROXY tcp4 203.0.113.7 10.0.0.11 1 2\r\n', /unknown protocol/],
    ['PROXY TCP4 203.0.113.07 10.0.0.11 1 2\r\n', /not IPv4 addresses/],
    ['PROXY TCP4 256.0.0.1 10.0.0.11 1 2\r\n', /not IPv4 addresses/],
    ['PROXY TCP4 2001:db8::1 10.0.0.11 1 2\r\n', /not IPv4 addresses/],
    ['PROXY TCP6 203.0.113.7 ::1 1 2\r\n', /not IPv6 addresses/],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /not IPv6 addresses/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 65536 2\r\n', /ports must be 0-65535/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 01 2\r\n', /ports must be 0-65535/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 1 -2\r\n', /ports must be 0-65535/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 1 2\n', /not printable text before CRLF/],
    ['PROXY TCP4 203.0.113.7 10.0.0.11 1 2\rX', /CR without LF/],
    ['PROXY UNKNOWN\u00e9\r\n', /not printable text/],
  ];
  for (const [line, expected] of cases) assert.match(refused(line), expected, JSON.stringify(line));
});

test('version 1: a line longer than 107 bytes is refused as soon as it cannot end in time', () => {
  const tooLong = `PROXY UNKNOWN ${'x'.repeat(92)}\r\n`;
  assert.equal(tooLong.length, 108);
  assert.match(refused(tooLong), /no CRLF within 107 bytes/);
  // 106 bytes without a CR: the LF could no longer be the 107th byte.
  assert.match(refused(`PROXY ${'A'.repeat(100)}`), /no CRLF within 107 bytes/);
  assert.deepEqual(parseProxyHeader(Buffer.from(`PROXY ${'A'.repeat(99)}`)), { done: false });
});

test('version 2, PROXY over TCP/IPv4 and TCP/IPv6', () => {
  const four = v2(0x21, 0x11, ipv4Block([192, 0, 2, 44], [10, 0, 0, 11], 40000, 5223));
  assert.deepEqual(parsed(Buffer.concat([four, Buffer.from([0x16, 0x03, 0x01])])),
    { done: true, header: { version: 2, source: { address: '192.0.2.44', port: 40000 } }, length: 28 });
  const six = v2(0x21, 0x21, ipv6Block('20010db8000000000000000000000abc', '00000000000000000000000000000001', 443, 5222));
  assert.deepEqual(parsed(six), { done: true, header: { version: 2, source: { address: '2001:db8::abc', port: 443 } }, length: 52 });
  const mapped = v2(0x21, 0x21, ipv6Block('00000000000000000000ffffc6336405', '00000000000000000000000000000001', 9, 5222));
  assert.equal(parsed(mapped).header.source?.address, '198.51.100.5');
});

test('version 2: TLVs after the addresses are skipped, the length covers them', () => {
  const block = Buffer.concat([
    ipv4Block([198, 51, 100, 9], [10, 0, 0, 11], 1234, 5222),
    tlv(0x01, Buffer.from('xmpp-client')),
    tlv(0x02, Buffer.from('chat.example')),
    tlv(0x20, Buffer.from([0x01, 0, 0, 0, 0, 0x21, 0, 3, 0x54, 0x4c, 0x53])),
    tlv(0x04, Buffer.alloc(5)),
  ]);
  const header = v2(0x21, 0x11, block);
  const result = parsed(Buffer.concat([header, Buffer.from('<stream')]));
  assert.deepEqual(result.header.source, { address: '198.51.100.9', port: 1234 });
  assert.equal(result.length, header.length);
});

test('version 2, LOCAL (a health check from the balancer) and families without an address: the socket address', () => {
  assert.deepEqual(parsed(v2(0x20, 0x00, Buffer.alloc(0))), { done: true, header: { version: 2, source: null }, length: 16 });
  // LOCAL ignores whatever address block comes with it.
  assert.equal(parsed(v2(0x20, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))).header.source, null);
  assert.equal(parsed(v2(0x21, 0x00, Buffer.alloc(0))).header.source, null, 'PROXY with UNSPEC');
  assert.equal(parsed(v2(0x21, 0x31, Buffer.alloc(216))).header.source, null, 'UNIX stream');
  assert.equal(parsed(v2(0x21, 0x12, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))).header.source, null, 'UDP');
});

test('version 2: malformed headers are refused', () => {
  assert.match(refused(v2(0x11, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), /version 1$/);
  assert.match(refused(v2(0x22, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), /unknown command 2/);
  assert.match(refused(v2(0x21, 0x41, Buffer.alloc(12))), /unknown address family or transport 0x41/);
  assert.match(refused(v2(0x21, 0x13, Buffer.alloc(12))), /unknown address family or transport 0x13/);
  assert.match(refused(v2(0x21, 0x11, Buffer.alloc(8))), /address block of 8 bytes is too short/);
  assert.match(refused(v2(0x21, 0x21, Buffer.alloc(12))), /address block of 12 bytes is too short/);
});

test('a header split across several chunks is complete only with its last byte, whichever version', () => {
  const headers = [
    Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 4711 5222\r\n'),
    v2(0x21, 0x11, Buffer.concat([ipv4Block([192, 0, 2, 1], [10, 0, 0, 11], 7, 5222), tlv(0x04, Buffer.alloc(40))])),
  ];
  for (const header of headers) {
    for (let n = 0; n < header.length; n++) {
      assert.deepEqual(parseProxyHeader(header.subarray(0, n)), { done: false }, `${n} of ${header.length} bytes`);
    }
    const result = parsed(Buffer.concat([header, Buffer.from('rest')]));
    assert.equal(result.length, header.length);
    assert.ok(result.header.source);
  }
});

test('anything else is refused from its first wrong byte: no guessing whether a header is there', () => {
  for (const garbage of ["<?xml version='1.0'?>", 'GET / HTTP/1.1\r\n', 'PROXX TCP4', 'proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n', 'P\r\n']) {
    assert.match(refused(garbage), /no PROXY protocol header/, JSON.stringify(garbage));
  }
  assert.match(refused(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])), /no PROXY protocol header/, 'a TLS ClientHello');
  const wrongSignature = v2(0x21, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  wrongSignature[7] = 0x50;
  assert.match(refused(wrongSignature), /no PROXY protocol header/);
  assert.match(refused(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b])), /no PROXY protocol header/, 'a signature wrong early');
});

// ---- readProxyHeader on real sockets ------------------------------------------------------

/** A connected pair: what the test writes on `client` arrives on `server`. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  const server = await accepted;
  server.on('error', () => {});
  return { client, server, close: () => { client.destroy(); server.destroy(); listener.close(); } };
}

test('readProxyHeader: a header in pieces, then the client bytes reach the next reader intact', async () => {
  const { client, server, close } = await socketPair();
  try {
    const reading = readProxyHeader(server, 2_000);
    const header = v2(0x21, 0x11, ipv4Block([203, 0, 113, 50], [10, 0, 0, 11], 5555, 5222));
    client.write(header.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 30));
    // The end of the header and the first client bytes in one segment.
    client.write(Buffer.concat([header.subarray(5), Buffer.from('<stream:stream ')]));
    const proxied = await reading;
    assert.deepEqual(proxied, { remoteAddress: '203.0.113.50', header: { version: 2, source: { address: '203.0.113.50', port: 5555 } } });
    let text = '';
    server.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    server.resume();
    client.write("to='localhost'>");
    for (let i = 0; i < 100 && text.length < 30; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(text, "<stream:stream to='localhost'>");
  } finally {
    close();
  }
});

test('readProxyHeader: UNKNOWN and LOCAL give the socket address', async () => {
  for (const header of [Buffer.from('PROXY UNKNOWN\r\n'), v2(0x20, 0x00, Buffer.alloc(0))]) {
    const { client, server, close } = await socketPair();
    try {
      const reading = readProxyHeader(server, 2_000);
      client.write(header);
      assert.equal((await reading).remoteAddress, '127.0.0.1');
    } finally {
      close();
    }
  }
});

test('readProxyHeader: refuses garbage at once, a silent peer after the timeout, a peer that hangs up', async () => {
  let pair = await socketPair();
  try {
    const reading = readProxyHeader(pair.server, 5_000);
    pair.client.write("<?xml version='1.0'?>");
    await assert.rejects(reading, /no PROXY protocol header/);
  } finally {
    pair.close();
  }
  pair = await socketPair();
  try {
    const started = Date.now();
    const reading = readProxyHeader(pair.server, 200);
    pair.client.write('PROXY TCP4 ');
    await assert.rejects(reading, /no PROXY protocol header within 200 ms/);
    assert.ok(Date.now() - started >= 190);
  } finally {
    pair.close();
  }
  pair = await socketPair();
  try {
    const reading = readProxyHeader(pair.server, 5_000);
    pair.client.end('PROXY TCP4 1.2.3.4');
    await assert.rejects(reading, /connection closed before a complete PROXY protocol header/);
  } finally {
    pair.close();
  }
});
