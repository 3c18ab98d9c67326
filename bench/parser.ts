// Parser throughput: 200,000 copies of a small chat stanza in one stream, fed in 4 KiB chunks
// as a socket would deliver them. Run: node --import tsx bench/parser.ts [--compare]
// --compare also runs @xmpp/xml (ltx) on the same input, which gives the figure a scale on
// a machine whose load is unknown.
import { StreamParser } from '../server/xml/stream-parser.ts';

const STANZA = "<message to='a@b' from='c@d/e' type='chat' id='x1'><body>hello there, how are you doing today?</body></message>";
const COUNT = 200_000;
const CHUNK = 4096;
const ROUNDS = 7;

const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='b' version='1.0'>";
const input = Buffer.from(header + STANZA.repeat(COUNT));
const chunks: Buffer[] = [];
for (let i = 0; i < input.length; i += CHUNK) chunks.push(input.subarray(i, i + CHUNK));

/** Feeds every chunk to a fresh parser; `onStanza` must be called once per stanza. */
type Feed = (onStanza: () => void) => (chunk: Buffer) => void;

interface Rate {
  wall: number;
  cpu: number;
}

/** Stanzas per second of wall-clock time and of CPU time (the latter is steadier when other
 *  processes compete for the core). */
function run(feed: Feed): Rate {
  let stanzas = 0;
  const write = feed(() => stanzas++);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const chunk of chunks) write(chunk);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (stanzas !== COUNT) throw new Error(`parsed ${stanzas} stanzas, expected ${COUNT}`);
  return { wall: COUNT / seconds, cpu: COUNT / ((cpu.user + cpu.system) / 1e6) };
}

const format = (rate: number): string => Math.round(rate).toLocaleString('en');

function measure(label: string, feed: Feed): void {
  run(feed); // warm-up: let the JIT settle before measuring
  const rates: Rate[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(run(feed));
  for (const kind of ['wall', 'cpu'] as const) {
    const sorted = rates.map((r) => r[kind]).sort((a, b) => a - b);
    console.log(`${label} ${kind === 'wall' ? 'wall clock' : 'CPU time  '}: median ${format(sorted[ROUNDS >> 1]!)} stanzas/s, best ${format(sorted[ROUNDS - 1]!)}`);
  }
}

console.log(`${Buffer.byteLength(STANZA)}-byte stanza x ${COUNT}, ${CHUNK}-byte chunks, best and median of ${ROUNDS} runs`);
measure('stream-parser', (onStanza) => {
  const parser = new StreamParser({
    streamStart() {},
    element: onStanza,
    streamEnd() {},
    error(err) { throw err; },
  }, { maxStanzaBytes: 65536 });
  return (chunk) => parser.write(chunk);
});

if (process.argv.includes('--compare')) {
  // @xmpp/xml comes with the @xmpp/client dev dependency; it has no type declarations.
  const { Parser } = await import('@xmpp/xml' as string) as { Parser: new () => LtxParser };
  measure('@xmpp/xml    ', (onStanza) => {
    const parser = new Parser();
    parser.on('element', onStanza);
    parser.on('error', (err: Error) => { throw err; });
    return (chunk) => parser.write(chunk);
  });
}

interface LtxParser {
  on(event: string, listener: (arg: never) => void): void;
  write(data: Buffer): void;
}
