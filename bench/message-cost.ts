// The kernel's cost of one one-to-one message, in process and without sockets: a chat
// stanza is parsed from bytes, stamped with its sender, routed by the real Router through the
// delivery rules to a local session, and serialized for the recipient's transport. Prints
// the CPU time per message (median and best of several rounds), so that a change to the
// element type or the parser can be compared with the code before it on the same machine.
// Run: node --import tsx bench/message-cost.ts [--count N] [--rounds N]
// bench/message-cost-compare.ts runs it for two checkouts in one process, rounds interleaved.
import { StandaloneClusterManager } from '../server/cluster/cluster-manager.ts';
import { EventBus } from '../server/events/event-bus.ts';
import { JID } from '../server/jid/jid.ts';
import { Logger } from '../server/log.ts';
import { registerDefaultDelivery } from '../server/routing/default-delivery.ts';
import { Router } from '../server/routing/router.ts';
import { LocalRoutingTable } from '../server/routing/routing-table.ts';
import { ClientSession } from '../server/session/client-session.ts';
import { SessionManager } from '../server/session/session-manager.ts';
import { ServerStats } from '../server/stats.ts';
import type { Transport } from '../server/transport/transport.ts';
import { serialize, type Element } from '../server/xml/element.ts';
import { StreamParser } from '../server/xml/stream-parser.ts';

/** Builds the path (one node, two bound sessions) and returns a function that runs one pass
 *  over `count` messages and gives the CPU microseconds per message. */
export function messagePath(count: number): () => number {
  const log = new Logger('bench');
  const events = new EventBus();
  const sessions = new SessionManager('bench', new LocalRoutingTable(), events, log);
  const router = new Router('localhost', events, sessions, new StandaloneClusterManager('bench'), log);
  registerDefaultDelivery({ events, router, sessions, userExists: async () => true });

  let bytesOut = 0;
  const transport = (): Transport => ({
    kind: 'tcp', secure: true, remoteAddress: '127.0.0.1',
    send: (el: Element) => { bytesOut += serialize(el).length; },
  } as unknown as Transport);
  const stats = new ServerStats();
  const alice = new ClientSession('a', JID.parse('alice@localhost/phone'), transport(), stats);
  const bob = new ClientSession('b', JID.parse('bob@localhost/desk'), transport(), stats);
  sessions.bind(alice);
  sessions.bind(bob);

  const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
  const input = Buffer.from(header + STANZA.repeat(count));
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += CHUNK) chunks.push(input.subarray(i, i + CHUNK));
  const from = alice.jid.toString();

  return () => {
    let routed = 0;
    const parser = new StreamParser({
      streamStart() {},
      element(el) {
        el.attrs.from = from;
        router.route(el, alice.jid, alice);
        routed++;
      },
      streamEnd() {},
      error(err) { throw err; },
    }, { maxStanzaBytes: 65536 });
    bytesOut = 0;
    const start = process.cpuUsage();
    for (const chunk of chunks) parser.write(chunk);
    const used = process.cpuUsage(start);
    if (routed !== count || bytesOut === 0) throw new Error(`routed ${routed} of ${count} messages, ${bytesOut} bytes out`);
    return (used.user + used.system) / count;
  };
}

const STANZA = "<message to='bob@localhost/desk' type='chat' id='x1'><body>hello there, how are you doing today?</body></message>";
const CHUNK = 4096;

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : Number(process.argv[i + 1]);
  };
  const count = arg('--count', 200_000);
  const rounds = arg('--rounds', 9);
  const round = messagePath(count);
  round(); // warm-up: let the JIT settle
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    samples.push(round());
    process.stderr.write(`round ${i + 1}/${rounds}: ${samples.at(-1)!.toFixed(3)} µs\n`);
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify({
    bench: 'message-cost', messages: count, rounds,
    medianMicros: Number(samples[rounds >> 1]!.toFixed(3)), bestMicros: Number(samples[0]!.toFixed(3)),
    node: process.version,
  }));
}
