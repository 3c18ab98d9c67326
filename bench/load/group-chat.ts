// The group chat load (XEP-0045): one room, its owner and `occupants` more users.
//
// 1. joins: the owner creates the room and posts `history` messages; then the occupants join,
//    `joinConcurrency` at a time, each asking for nothing in particular (the service's default
//    history). A join is done when the room's subject arrives, which the room sends after the
//    history; each joiner must have had every history message. Every join is broadcast to
//    everyone already in, so a join costs more the fuller the room is: the rate is given over
//    all joins and over the first and the last hundred.
// 2. steady loads, one after the other: `senders` occupants each keep `window` messages in
//    flight, a message being done once every occupant (its sender too) has it. Measured:
//    messages delivered to occupants per second, and the latency from send to receipt at each
//    occupant. Every occupant must get every message of every sender, in order: anything
//    missing or out of order fails the run, with where it was missing.
//
// With several endpoints (nodes of one cluster) the owner logs in to the first and the
// occupants are spread over all of them in turn, senders too.
import { LatencyHistogram } from './latency-histogram.ts';
import type { Endpoint, LoggedIn, Mechanism } from './login.ts';
import { closeAll, openSessions } from './open-sessions.ts';
import { everySecond, progress, sleep } from './progress.ts';
import { RoomArrivals, roomBody } from './room-arrivals.ts';
import { joinPresence, setUpRoom } from './room-owner.ts';
import { ScramKeyCache } from './scram-client.ts';
import { TagCounter } from './tag-counter.ts';
import { CpuMeter, MachineCpuMeter } from '../lib/proc-stats.ts';
import { benchUser } from './users.ts';

export interface SteadyLoad {
  senders: number;
  window: number;
}

export interface GroupChatParams extends Endpoint {
  mechanism: Mechanism;
  /** Further nodes of the same cluster, the occupants spread over all. */
  moreEndpoints?: { host: string; port: number }[];
  /** Domain of the group chat service (conference.<domain>). */
  service: string;
  room: string;
  /** Users joining after the owner (u1 .. u<occupants>; the owner is u0). */
  occupants: number;
  history: number;
  joinConcurrency: number;
  loads: SteadyLoad[];
  warmupSeconds: number;
  seconds: number;
  serverPids: number[];
}

type Latency = ReturnType<LatencyHistogram['summary']>;

export interface JoinsResult {
  joins: number;
  seconds: number;
  perSecond: number;
  firstHundredPerSecond: number;
  lastHundredPerSecond: number;
  /** From the join presence sent to the subject received. */
  latency: Latency;
  serverCores: number;
  generatorCores: number;
  /** Cores the whole machine kept busy meanwhile: beside the server's and the generator's, what else ran. */
  machine: { busyCores: number; stealCores: number };
}

export interface SteadyResult extends SteadyLoad {
  /** Occupants each message went to (the owner and every joiner, senders included). */
  recipients: number;
  seconds: number;
  /** Messages sent to the room and delivered to every occupant within the measured time. */
  roomMessages: number;
  deliveries: number;
  /** Deliveries to occupants per second. */
  perSecond: number;
  latency: Latency;
  serverCores: number;
  generatorCores: number;
  machine: { busyCores: number; stealCores: number };
  serverCpuUsPerDelivery: number;
}

export interface GroupChatResult {
  occupants: number;
  history: number;
  joins: JoinsResult;
  loads: SteadyResult[];
}

const JOIN_TIMEOUT_MS = 60_000;
/** No delivery for this long while messages are in flight: the load is stuck. */
const STALL_MS = 15_000;
const DRAIN_MS = 10_000;

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

interface Occupant {
  session: LoggedIn;
  nick: string;
  /** Index into the endpoints. */
  node: number;
}

/** A join the service never answered: the joins after it would wait as long, so none is started. */
class JoinTimeout extends Error {}

/** Joins one occupant: resolves with how many history messages came before the subject. */
function joinOne(o: Occupant, room: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const subject = new TagCounter('</subject>');
    const delayed = new TagCounter('<delay ');
    const error = new TagCounter('</error>');
    let history = 0;
    const timer = setTimeout(() => finish(new JoinTimeout(`${o.nick}: no subject within ${JOIN_TIMEOUT_MS / 1000} s of joining`)), JOIN_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      history += delayed.count(chunk);
      if (error.count(chunk) > 0) {
        const text = chunk.toString('latin1');
        const at = text.lastIndexOf('<presence', text.indexOf('</error>'));
        finish(new Error(`${o.nick}: join refused: ${text.slice(Math.max(0, at), text.indexOf('</error>') + 8).slice(0, 600)}`));
      } else if (chunk.includes("code='201'") || chunk.includes('code="201"')) {
        // The service made a new room for this joiner: where it asked, the bench's room does not exist.
        finish(new Error(`${o.nick}: the service created a new room for this join (status 201), so it does not know the room the owner made`));
      } else if (subject.count(chunk) > 0) finish(null);
    };
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      o.session.socket.off('data', onData);
      if (err) reject(err);
      else resolve(history);
    };
    o.session.socket.on('data', onData);
    o.session.socket.write(joinPresence(room, o.nick));
  });
}

async function joinAll(p: GroupChatParams, joiners: Occupant[], room: string, endpoints: string[]): Promise<JoinsResult> {
  const histogram = new LatencyHistogram();
  const doneAt: number[] = [];
  const failures: { node: number; message: string }[] = [];
  let next = 0;
  let unanswered = false;
  const cpu = new CpuMeter(p.serverPids);
  const busy = new MachineCpuMeter();
  const t0 = performance.now();
  const stop = everySecond((t) => progress('joins', `${t}s: ${doneAt.length} of ${joiners.length} in the room${failures.length ? `, ${failures.length} failed` : ''}`));
  const worker = async (): Promise<void> => {
    while (next < joiners.length && !unanswered) {
      const o = joiners[next++]!;
      const start = performance.now();
      try {
        const history = await joinOne(o, room);
        if (history !== p.history) throw new Error(`${o.nick}: ${history} history messages before the subject, not ${p.history}`);
        const now = performance.now();
        histogram.record(now - start);
        doneAt.push(now - t0);
      } catch (err) {
        failures.push({ node: o.node, message: (err as Error).message });
        if (err instanceof JoinTimeout) unanswered = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.joinConcurrency, joiners.length) }, worker));
  stop();
  const usage = cpu.read();
  const machine = busy.read();
  if (failures.length) {
    const perNode = endpoints.map((e, i) => `${failures.filter((f) => f.node === i).length} through ${e}`).join(', ');
    const untried = unanswered ? `, ${joiners.length - next} not tried once one went unanswered` : '';
    throw new Error(`${failures.length} of ${joiners.length} joins failed (${perNode})${untried}; first: ${failures[0]!.message}`);
  }
  const seconds = doneAt.at(-1)! / 1000;
  const hundred = Math.min(100, doneAt.length);
  return {
    joins: joiners.length,
    seconds: round(seconds),
    perSecond: round(joiners.length / seconds),
    firstHundredPerSecond: round(hundred / (doneAt[hundred - 1]! / 1000)),
    lastHundredPerSecond: round(hundred / ((doneAt.at(-1)! - (doneAt[doneAt.length - hundred - 1] ?? 0)) / 1000)),
    latency: histogram.summary(),
    ...usage,
    machine,
  };
}

async function steady(p: GroupChatParams, load: SteadyLoad, everyone: Occupant[], senders: Occupant[], room: string, endpoints: string[]): Promise<SteadyResult> {
  const label = `${load.senders} senders × ${load.window} in flight`;
  const S = load.senders;
  const W = load.window;
  const N = everyone.length;
  const histogram = new LatencyHistogram();
  const sent = new Int32Array(S);
  const receipts = Array.from({ length: S }, () => new Int32Array(W));
  const sentAt = Array.from({ length: S }, () => new Float64Array(W));
  const expected = everyone.map(() => new Int32Array(S));
  let disorder: string | null = null;
  let measuring = false;
  let running = true;
  let inFlight = 0;
  let deliveries = 0;
  let roomMessages = 0;
  let lastArrival = performance.now();

  const send = (s: number): void => {
    const k = sent[s]++;
    sentAt[s]![k % W] = performance.now();
    inFlight++;
    senders[s]!.session.socket.write(`<message to='${room}' type='groupchat' id='m${s}.${k}'><body>${roomBody(s, k)}</body></message>`);
  };
  everyone.forEach((o, i) => {
    const seen = expected[i]!;
    const arrivals = new RoomArrivals((s, k) => {
      if (s >= S || k !== seen[s]) {
        disorder ??= `${o.nick} got m${s}.${k}, expected ${s < S ? `m${s}.${seen[s]}` : `no sender ${s}`}`;
        return;
      }
      seen[s] = k + 1;
      const now = performance.now();
      lastArrival = now;
      if (measuring) {
        deliveries++;
        histogram.record(now - sentAt[s]![k % W]!);
      }
      if (++receipts[s]![k % W]! === N) {
        receipts[s]![k % W] = 0;
        inFlight--;
        if (measuring) roomMessages++;
        if (running) send(s);
      }
    });
    o.session.socket.removeAllListeners('data');
    o.session.socket.on('data', (chunk: Buffer) => arrivals.push(chunk));
  });

  let last = 0;
  let stalled = false;
  const stop = everySecond((t) => {
    progress(label, `${t}s: ${measuring ? `${deliveries - last} deliveries/s` : running ? 'warming up' : 'draining'}, ${inFlight} messages in flight`);
    last = deliveries;
    if (inFlight > 0 && performance.now() - lastArrival > STALL_MS) stalled = true;
  });
  for (let s = 0; s < S; s++) for (let k = 0; k < W; k++) send(s);
  const wait = async (ms: number): Promise<void> => {
    for (const end = performance.now() + ms; performance.now() < end && !stalled && !disorder;) await sleep(Math.min(100, end - performance.now()));
  };
  await wait(p.warmupSeconds * 1000);
  measuring = true;
  const cpu = new CpuMeter(p.serverPids);
  const busy = new MachineCpuMeter();
  const start = performance.now();
  await wait(p.seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - start) / 1000;
  const usage = cpu.read();
  const machine = busy.read();
  running = false;
  for (const end = performance.now() + DRAIN_MS; inFlight > 0 && performance.now() < end && !disorder;) await sleep(50);
  stop();
  for (const o of everyone) {
    o.session.socket.removeAllListeners('data');
    o.session.socket.on('data', () => {});
  }
  if (disorder) throw new Error(`${label}: out of order: ${disorder}`);
  // Every occupant must have every message every sender sent.
  const short = everyone.map((o, i) => ({ node: o.node, missing: [...sent].reduce((sum, n, s) => sum + n - expected[i]![s]!, 0) })).filter((x) => x.missing > 0);
  if (short.length || stalled) {
    const total = [...sent].reduce((a, b) => a + b, 0);
    const perNode = endpoints.map((e, n) => {
      const here = short.filter((x) => x.node === n);
      const of = everyone.filter((o) => o.node === n).length;
      return `through ${e}: ${here.length} of ${of} occupants short, ${here.reduce((sum, x) => sum + x.missing, 0)} deliveries missing`;
    }).join('; ');
    throw new Error(`${label}: ${short.length} of ${N} occupants did not get every one of the ${total} messages sent${stalled ? ` (nothing arrived for ${STALL_MS / 1000} s)` : ''}: ${perNode}`);
  }
  return {
    ...load,
    recipients: N,
    seconds: round(elapsed),
    roomMessages,
    deliveries,
    perSecond: Math.round(deliveries / elapsed),
    latency: histogram.summary(),
    ...usage,
    machine,
    serverCpuUsPerDelivery: round((usage.serverCores * elapsed * 1e6) / Math.max(1, deliveries), 2),
  };
}

export async function runGroupChat(p: GroupChatParams): Promise<GroupChatResult> {
  const nodes = [{ host: p.host, port: p.port }, ...(p.moreEndpoints ?? [])];
  const endpoints = nodes.map((n) => `${n.host}:${n.port}`);
  const room = `${p.room}@${p.service}`;
  const open = { ...p, starttls: false, concurrency: 50, scramKeys: new ScramKeyCache() };
  const t0 = performance.now();
  const owner: Occupant = { session: (await openSessions({ ...open, first: 0, count: 1 }))[0]!, nick: benchUser(0), node: 0 };
  // Each node logs in its own consecutive accounts; joiner i is the (i div nodes)-th of node
  // i mod nodes, so consecutive joiners (and senders) alternate nodes.
  const joiners: Occupant[] = new Array(p.occupants);
  let first = 1;
  for (let n = 0; n < nodes.length; n++) {
    const count = Math.floor(p.occupants / nodes.length) + (n < p.occupants % nodes.length ? 1 : 0);
    let opened = 0;
    const stop = everySecond(() => progress('logins', `${opened} of ${count} logged in through ${endpoints[n]}`));
    const sessions = await openSessions({ ...open, ...nodes[n]!, first, count, onOpened: (k) => { opened = k; } }).finally(stop);
    sessions.forEach((session, j) => { joiners[j * nodes.length + n] = { session, nick: benchUser(first + j), node: n }; });
    first += count;
  }
  const everyone = [owner, ...joiners];
  // Nothing is left unread in a socket's buffer: the server would stop writing to it.
  for (const o of everyone) o.session.socket.on('data', () => {});
  progress('group chat', `${everyone.length} sessions logged in through ${endpoints.join(', ')} in ${round((performance.now() - t0) / 1000)} s`);
  try {
    // setUpRoom takes the owner's data events for a while; its drain stays beside them, harmlessly.
    await setUpRoom(owner.session, { room, nick: owner.nick, subject: 'Benchmark room', history: p.history });
    progress('group chat', `${room} created with ${p.history} messages of history; ${p.occupants} occupants join, ${p.joinConcurrency} at a time`);
    const joins = await joinAll(p, joiners, room, endpoints);
    progress('joins', `${joins.joins} joins in ${joins.seconds} s: ${joins.perSecond}/s (first hundred ${joins.firstHundredPerSecond}/s, last hundred ${joins.lastHundredPerSecond}/s), p99 ${joins.latency.p99Ms} ms`);
    const loads: SteadyResult[] = [];
    for (const load of p.loads) {
      // Senders spread over the nodes as the occupants are: joiners 0, 1, 2, ... alternate.
      const senders = joiners.slice(0, load.senders);
      const r = await steady(p, load, everyone, senders, room, endpoints);
      progress('steady', `${load.senders} × ${load.window}: ${r.perSecond} deliveries/s (${r.roomMessages} room messages to ${r.recipients} occupants), p99 ${r.latency.p99Ms} ms, server ${r.serverCores} cores, generator ${r.generatorCores} cores, machine ${r.machine.busyCores} cores busy`);
      loads.push(r);
    }
    return { occupants: p.occupants, history: p.history, joins, loads };
  } finally {
    await closeAll(everyone.map((o) => o.session.socket));
  }
}
