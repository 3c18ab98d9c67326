// One-to-one messages between connected pairs: in each pair the first client keeps `window`
// chat messages in flight to the second one (its full or its bare JID); every arrival
// releases the next. With `receiverEndpoint` the receivers log in to another node of a
// cluster than the senders, so every message crosses from one node to the other.
// Both clients live in this process, so latency is one clock: sent to received, through the
// server. The measured path allocates nothing per message but what the socket needs: the
// stanzas are prebuilt buffers and arrivals are counted, not parsed.
import { LatencyHistogram } from './latency-histogram.ts';
import type { Endpoint, LoggedIn, Mechanism } from './login.ts';
import { closeAll, openSessions } from './open-sessions.ts';
import { everySecond, progress, sleep } from './progress.ts';
import { ScramKeyCache } from './scram-client.ts';
import { TagCounter } from './tag-counter.ts';
import { CpuMeter, MachineCpuMeter } from '../lib/proc-stats.ts';

export interface MessagesParams extends Endpoint {
  mechanism: Mechanism;
  pairs: number;
  window: number;
  /** Address the receiver's full JID (as a client does once it knows the resource) or its bare JID. */
  address: 'full' | 'bare';
  warmupSeconds: number;
  seconds: number;
  serverPids: number[];
  /** Where the receivers log in, if not at host:port (another node of the same cluster and domain). */
  receiverEndpoint?: { host: string; port: number };
  /**
   * Processes whose CPU use is also reported one by one, by name (the nodes of a cluster, a
   * Hazelcast member), with the whole machine's beside them.
   */
  watchPids?: Record<string, number>;
  /**
   * Stream management (XEP-0198) enabled on every session: receivers answer each <r/> the
   * server sends (every xmpp.sm.ack-request-every stanzas) with an ack of what they received.
   */
  streamManagement?: boolean;
}

export interface MessagesResult {
  pairs: number;
  window: number;
  address: 'full' | 'bare';
  seconds: number;
  messages: number;
  perSecond: number;
  /** Messages that came back to a sender (bounced as errors). */
  errors: number;
  latency: ReturnType<LatencyHistogram['summary']>;
  serverCores: number;
  generatorCores: number;
  /** Server CPU time per delivered message: steadier than the rate when other processes compete. */
  serverCpuUsPerMessage: number;
  /** The servers' event loops' share of it (their first threads). */
  serverEventLoopCpuUsPerMessage: number;
  /** CPU use of each of `watchPids` over the measured interval, in cores. */
  processCores?: Record<string, number>;
  /** With `watchPids`: cores the whole machine kept busy meanwhile, and the hypervisor's steal. */
  machine?: { busyCores: number; stealCores: number };
}

/** A chat stanza as a client sends it (about 113 bytes to a full JID, much like bench/parser.ts's). */
function chat(to: string): string {
  return `<message to='${to}' type='chat' id='m1'><body>hello there, how are you doing today?</body></message>`;
}

/** A headline, which a server drops when it has no session to give it to (RFC 6121 8.5.2.1.1, 8.5.3.2.1). */
function headline(to: string): string {
  return `<message to='${to}' type='headline' id='probe'><body>probe</body></message>`;
}

const NS_SM = 'urn:xmpp:sm:3';

/** Sends <enable/> on every session and waits for each <enabled/>. */
async function enableStreamManagement(sessions: LoggedIn[]): Promise<void> {
  await Promise.all(sessions.map((s) => new Promise<void>((resolve) => {
    const enabled = new TagCounter('<enabled');
    const onData = (chunk: Buffer): void => {
      if (enabled.count(chunk) === 0) return;
      s.socket.off('data', onData);
      resolve();
    };
    s.socket.on('data', onData);
    s.socket.write(`<enable xmlns='${NS_SM}'/>`);
  })));
}

/** Senders and receivers in the order the scenario expects: sender of pair i at 2i, its receiver at 2i + 1. */
export function interleave<T>(senders: readonly T[], receivers: readonly T[]): T[] {
  if (senders.length !== receivers.length) throw new Error(`${senders.length} senders for ${receivers.length} receivers`);
  return senders.flatMap((s, i) => [s, receivers[i]!]);
}

/**
 * A receiver's route reaches the senders' node a moment after its login, through the cluster.
 * A chat message sent before that would go to offline storage, and its pair would be one
 * message short for the rest of the run. So headlines, which are dropped rather than stored
 * when the server cannot deliver them, go to each receiver every 200 ms until one arrives;
 * then a pause lets any still in flight land before the measured messages start.
 */
async function untilReachable(sessions: LoggedIn[], address: (receiver: LoggedIn) => string, timeoutMs = 30_000): Promise<void> {
  const waiting = new Set<number>();
  const listeners: { socket: LoggedIn['socket']; onData: (chunk: Buffer) => void }[] = [];
  for (let i = 0; 2 * i + 1 < sessions.length; i++) {
    const receiver = sessions[2 * i + 1]!;
    const arrivals = new TagCounter('</message>');
    const onData = (chunk: Buffer): void => { if (arrivals.count(chunk) > 0) waiting.delete(i); };
    receiver.socket.on('data', onData);
    listeners.push({ socket: receiver.socket, onData });
    waiting.add(i);
  }
  const deadline = performance.now() + timeoutMs;
  while (waiting.size) {
    if (performance.now() > deadline) throw new Error(`${waiting.size} receivers still unreachable from the senders' node after ${timeoutMs} ms`);
    for (const i of waiting) sessions[2 * i]!.socket.write(headline(address(sessions[2 * i + 1]!)));
    await sleep(200);
  }
  await sleep(300);
  for (const { socket, onData } of listeners) socket.off('data', onData);
}

export async function runMessages(p: MessagesParams): Promise<MessagesResult> {
  const label = `messages ${p.pairs}x${p.window} to ${p.address} JID${p.receiverEndpoint ? ', across nodes' : ''}`;
  const open = { ...p, starttls: false, concurrency: 50, scramKeys: new ScramKeyCache() };
  const to = (receiver: LoggedIn): string => (p.address === 'full' ? receiver.jid : receiver.jid.slice(0, receiver.jid.indexOf('/')));
  let sessions: LoggedIn[];
  if (!p.receiverEndpoint) {
    sessions = await openSessions({ ...open, first: 0, count: p.pairs * 2 });
  } else {
    const senders = await openSessions({ ...open, first: 0, count: p.pairs });
    const receivers = await openSessions({ ...open, ...p.receiverEndpoint, first: p.pairs, count: p.pairs });
    sessions = interleave(senders, receivers);
    progress(label, `${p.pairs} senders on ${p.host}:${p.port}, ${p.pairs} receivers on ${p.receiverEndpoint.host}:${p.receiverEndpoint.port}`);
    await untilReachable(sessions, to);
  }
  if (p.streamManagement) await enableStreamManagement(sessions);
  const histogram = new LatencyHistogram();
  let measuring = false;
  let phase = 'warming up';
  let running = true;
  let received = 0;
  let inFlight = 0;
  let errors = 0;

  for (let i = 0; i < p.pairs; i++) {
    const sender = sessions[2 * i]!.socket;
    const receiver = sessions[2 * i + 1]!;
    const stanza = chat(to(receiver));
    // batches[k]: k stanzas in one buffer, so k arrivals are answered with one write.
    const batches = Array.from({ length: p.window + 1 }, (_, k) => Buffer.from(stanza.repeat(k)));
    const sentAt = new Float64Array(p.window);
    let head = 0;
    const arrivals = new TagCounter('</message>');
    const ackRequests = p.streamManagement ? new TagCounter('<r ') : null;
    let handled = 0;
    receiver.socket.on('data', (chunk: Buffer) => {
      let n = arrivals.count(chunk);
      handled += n;
      // An ack may count messages that came after the request in the same chunk: never more than were sent.
      if (ackRequests && ackRequests.count(chunk) > 0) receiver.socket.write(`<a xmlns='${NS_SM}' h='${handled % 2 ** 32}'/>`);
      if (n === 0) return;
      const now = performance.now();
      inFlight -= n;
      if (measuring) received += n;
      for (let j = 0; j < n; j++) {
        if (measuring) histogram.record(now - sentAt[head]!);
        sentAt[head] = now;
        head = head + 1 === p.window ? 0 : head + 1;
      }
      if (!running) return;
      n = Math.min(n, p.window);
      inFlight += n;
      sender.write(batches[n]!);
    });
    const bounces = new TagCounter('</message>');
    sender.on('data', (chunk: Buffer) => { errors += bounces.count(chunk); });
    sentAt.fill(performance.now());
    inFlight += p.window;
    sender.write(batches[p.window]!);
  }

  let last = 0;
  const stopTicker = everySecond((t) => {
    progress(label, `${t}s: ${phase === 'measuring' ? `${received - last} messages/s` : phase}${errors ? `, ${errors} bounced` : ''}`);
    last = received;
  });
  await sleep(p.warmupSeconds * 1000);
  measuring = true;
  phase = 'measuring';
  const cpu = new CpuMeter(p.serverPids);
  const watched = Object.entries(p.watchPids ?? {}).map(([name, pid]) => [name, new CpuMeter([pid])] as const);
  const machine = p.watchPids ? new MachineCpuMeter() : null;
  const start = performance.now();
  await sleep(p.seconds * 1000);
  measuring = false;
  phase = 'finishing';
  const elapsed = (performance.now() - start) / 1000;
  const usage = cpu.read();
  const processCores = watched.length ? Object.fromEntries(watched.map(([name, meter]) => [name, meter.read().serverCores])) : undefined;
  const machineCores = machine?.read();
  running = false;
  for (let waited = 0; inFlight > 0 && waited < 5000; waited += 50) await sleep(50);
  stopTicker();
  await closeAll(sessions.map((s) => s.socket));
  return {
    pairs: p.pairs,
    window: p.window,
    address: p.address,
    seconds: Math.round(elapsed * 10) / 10,
    messages: received,
    perSecond: Math.round(received / elapsed),
    errors,
    latency: histogram.summary(),
    ...usage,
    serverCpuUsPerMessage: Math.round((usage.serverCores * elapsed * 1e6) / Math.max(1, received) * 100) / 100,
    serverEventLoopCpuUsPerMessage: Math.round((usage.serverEventLoopCores * elapsed * 1e6) / Math.max(1, received) * 100) / 100,
    ...(processCores ? { processCores } : {}),
    ...(machineCores ? { machine: machineCores } : {}),
  };
}
