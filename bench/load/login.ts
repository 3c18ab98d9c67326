// Opens one client stream the way a real client does (RFC 6120): stream header, optional
// STARTTLS, SASL, stream restart, resource binding, optionally initial presence. What
// follows the login is up to the caller, who takes over the socket's 'data' events.
import net from 'node:net';
import tls from 'node:tls';
import { ScramExchange, type ScramHash, type ScramKeyCache } from './scram-client.ts';
import { StreamReader } from './stream-reader.ts';

export type Mechanism = 'PLAIN' | 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export interface Endpoint {
  host: string;
  port: number;
  domain: string;
}

export interface LoginOptions extends Endpoint {
  username: string;
  password: string;
  mechanism: Mechanism;
  /** Upgrade with STARTTLS before authenticating (the certificate is not checked). */
  starttls: boolean;
  resource: string;
  /** Send initial presence and wait until the server has processed it. */
  presence: boolean;
  scramKeys: ScramKeyCache;
}

export interface LoggedIn {
  socket: net.Socket;
  /** Full JID the server bound. */
  jid: string;
}

const FEATURES = /<stream:features[\s\S]*?<\/stream:features>/;
const PROCEED = /<proceed\b[^>]*>/;
const SASL_REPLY = /<(success|failure|challenge)\b[^>]*?(?:\/>|>([\s\S]*?)<\/\1>)/;
const BOUND_JID = /<jid>([^<]+)<\/jid>[\s\S]*?<\/iq>/;
/** The answer to our ping, which the server sends only after everything before it. */
const READY = /<iq\b[^>]*\bid=(['"])ready\1[^>]*?(?:\/>|>[\s\S]*?<\/iq>)/;

export function streamHeader(domain: string): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function attach(socket: net.Socket, reader: StreamReader): void {
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', (err) => reader.close(err.message));
  socket.on('close', () => reader.close('connection closed'));
}

function upgrade(socket: net.Socket, domain: string): Promise<tls.TLSSocket> {
  socket.removeAllListeners('data');
  socket.removeAllListeners('close');
  socket.removeAllListeners('error');
  return new Promise((resolve, reject) => {
    const secured = tls.connect({ socket, servername: domain, rejectUnauthorized: false }, () => {
      secured.removeListener('error', reject);
      resolve(secured);
    });
    secured.once('error', reject);
  });
}

/** SASL from <auth/> to <success/>; throws on <failure/>. */
async function authenticate(socket: net.Socket, reader: StreamReader, opts: LoginOptions): Promise<void> {
  const sasl = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
  if (opts.mechanism === 'PLAIN') {
    const token = Buffer.from(`\0${opts.username}\0${opts.password}`).toString('base64');
    socket.write(`<auth ${sasl} mechanism='PLAIN'>${token}</auth>`);
    const reply = await reader.expect(SASL_REPLY);
    if (reply[1] !== 'success') throw new Error(`PLAIN login of ${opts.username} refused: ${reply[0]}`);
    return;
  }
  const hash: ScramHash = opts.mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
  const scram = new ScramExchange(hash, opts.username, opts.password, opts.scramKeys);
  socket.write(`<auth ${sasl} mechanism='${opts.mechanism}'>${Buffer.from(scram.firstMessage()).toString('base64')}</auth>`);
  const first = await reader.expect(SASL_REPLY);
  if (first[1] !== 'challenge') throw new Error(`${opts.mechanism} login of ${opts.username} refused: ${first[0]}`);
  const final = scram.finalMessage(Buffer.from(first[2] ?? '', 'base64').toString());
  socket.write(`<response ${sasl}>${Buffer.from(final).toString('base64')}</response>`);
  let reply = await reader.expect(SASL_REPLY);
  if (reply[1] === 'challenge') {
    // Older servers send server-final as a challenge and <success/> after an empty response.
    scram.checkServerFinal(Buffer.from(reply[2] ?? '', 'base64').toString());
    socket.write(`<response ${sasl}/>`);
    reply = await reader.expect(SASL_REPLY);
    if (reply[1] !== 'success') throw new Error(`${opts.mechanism} login of ${opts.username} refused: ${reply[0]}`);
    return;
  }
  if (reply[1] !== 'success') throw new Error(`${opts.mechanism} login of ${opts.username} refused: ${reply[0]}`);
  scram.checkServerFinal(Buffer.from(reply[2] ?? '', 'base64').toString());
}

export async function login(opts: LoginOptions): Promise<LoggedIn> {
  let socket: net.Socket = await connect(opts.host, opts.port);
  try {
    let reader = new StreamReader(`${opts.username}@${opts.domain}`);
    attach(socket, reader);
    socket.write(streamHeader(opts.domain));
    await reader.expect(FEATURES);
    if (opts.starttls) {
      socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      await reader.expect(PROCEED);
      socket = await upgrade(socket, opts.domain);
      reader = new StreamReader(`${opts.username}@${opts.domain} (TLS)`);
      attach(socket, reader);
      socket.write(streamHeader(opts.domain));
      await reader.expect(FEATURES);
    }
    await authenticate(socket, reader, opts);
    socket.write(streamHeader(opts.domain));
    await reader.expect(FEATURES);
    socket.write(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${opts.resource}</resource></bind></iq>`);
    const jid = (await reader.expect(BOUND_JID))[1]!;
    if (opts.presence) {
      socket.write(`<presence/><iq type='get' id='ready' to='${opts.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await reader.expect(READY);
    }
    socket.removeAllListeners('data');
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    return { socket, jid };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Ends our stream and the connection without waiting for the server. */
export function logout(socket: net.Socket): void {
  socket.on('error', () => {}); // a reset after we are done is of no interest
  socket.end('</stream:stream>');
}

/** In-band registration (XEP-0077): how accounts are made on servers whose storage we do not write. */
export async function register(endpoint: Endpoint, username: string, password: string): Promise<void> {
  const socket = await connect(endpoint.host, endpoint.port);
  const reader = new StreamReader(`register ${username}`);
  attach(socket, reader);
  try {
    socket.write(streamHeader(endpoint.domain));
    await reader.expect(FEATURES);
    socket.write(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>${username}</username><password>${password}</password></query></iq>`);
    const reply = await reader.expect(/<iq\b[^>]*\bid=(['"])reg\1[^>]*?(?:\/>|>[\s\S]*?<\/iq>)/);
    if (!/\btype=(['"])result\1/.test(reply[0]) && !/<conflict\b/.test(reply[0])) {
      throw new Error(`registration of ${username} refused: ${reply[0]}`);
    }
  } finally {
    logout(socket);
  }
}
