// Parser throughput: 200,000 copies of a 118-byte chat stanza in one stream, fed in 4 KiB
// chunks as a socket would deliver them. Run: node --import tsx bench/parser.ts
import { StreamParser } from '../server/xml/stream-parser.ts';

const STANZA = "<message to='a@b' from='c@d/e' type='chat' id='x1'><body>hello there, how are you doing today?</body></message>";
const COUNT = 200_000;
const CHUNK = 4096;
const ROUNDS = 5;

const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='b' version='1.0'>";
const input = Buffer.from(header + STANZA.repeat(COUNT));
const chunks: Buffer[] = [];
for (let i = 0; i < input.length; i += CHUNK) chunks.push(input.subarray(i, i + CHUNK));

interface Rate {
  wall: number;
  cpu: number;
}

/** Stanzas per second of wall-clock time and of CPU time (the latter is steadier when other
 *  processes compete for the core). */
function run(): Rate {
  let stanzas = 0;
  const parser = new StreamParser({
    streamStart() {},
    element() { stanzas++; },
    streamEnd() {},
    error(err) { throw err; },
  }, { maxStanzaBytes: 65536 });
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const chunk of chunks) parser.write(chunk);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (stanzas !== COUNT) throw new Error(`parsed ${stanzas} stanzas, expected ${COUNT}`);
  return { wall: COUNT / seconds, cpu: COUNT / ((cpu.user + cpu.system) / 1e6) };
}

const format = (rate: number): string => Math.round(rate).toLocaleString('en');

function report(label: string, rates: number[]): void {
  rates.sort((a, b) => a - b);
  console.log(`${label}: median ${format(rates[rates.length >> 1]!)} stanzas/s, best ${format(rates[rates.length - 1]!)}`);
}

console.log(`${Buffer.byteLength(STANZA)}-byte stanza x ${COUNT}, ${CHUNK}-byte chunks`);
run(); // warm-up: let the JIT settle before measuring
const rates: Rate[] = [];
for (let i = 0; i < ROUNDS; i++) rates.push(run());
report('wall clock', rates.map((r) => r.wall));
report('CPU time  ', rates.map((r) => r.cpu));
