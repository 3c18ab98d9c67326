// The in-process parser fuzzer. Each case is generated from (seed, case number): an XMPP-like
// stream of valid stanzas as bytes (or one document as text, as WebSocket and BOSH deliver
// them), then mutated. Our parser reads it in several chunkings; each verdict must be the
// same, and the same as the oracle's (oracle.ts): well-formed or not and, when well-formed,
// the same elements. Any exception escaping the parser is a crash; a parse taking far longer
// than the input's size explains is a hang.
import { Element } from '../../server/xml/element.ts';
import { StreamError } from '../../server/xml/errors.ts';
import { parseXml, StreamParser } from '../../server/xml/stream-parser.ts';
import { chunking, mutateBytes, mutateString, split } from './mutate.ts';
import { canonOf, completion, COMPLETIONS, oracleDocument, oracleStream, type Canon, type OracleVerdict } from './oracle.ts';
import { Rng } from './rng.ts';
import { stanza, type StanzaContext } from './stanzas.ts';
import { element, streamHeader, textContent } from './xml-gen.ts';

const MAX_STANZA_BYTES = 1 << 24;
const CONTEXT: StanzaContext = { domain: 'localhost', peers: ['bob@localhost', 'carol@localhost'], username: 'alice', password: 'secret' };

export type FailureKind = 'disagreement' | 'inconsistent' | 'crash' | 'hang' | 'bad-output';

export interface Failure {
  kind: FailureKind;
  seed: number;
  index: number;
  detail: string;
  /** The input, as a JSON string of its text or, for bytes, base64. */
  input: string;
  chunks: number[];
}

export interface ParserFuzzStats {
  executions: number;
  /** Parser runs: each case is read in several chunkings. */
  parses: number;
  bytes: number;
  accepted: number;
  rejected: number;
  /** Our refusals that the oracle calls restricted XMPP, not XML errors (comments, DTDs...). */
  expectedRefusals: number;
  /** Cases where we refused early what the oracle only refuses once more input arrives (or the reverse). */
  decidedByCompletion: number;
  /** Cases the oracle is known to misread (namespace names with surrounding whitespace): not compared. */
  oracleUnsure: number;
  disagreements: number;
  inconsistencies: number;
  crashes: number;
  hangs: number;
  conditions: Record<string, number>;
  /** The slowest single parse relative to its budget. */
  slowest: { ms: number; bytes: number; writes: number; index: number };
}

interface OurResult {
  error: StreamError | null;
  crash: unknown;
  elements: Element[];
  ended: boolean;
  /** Part of an element was left unfinished. */
  pending: boolean;
  ms: number;
}

function readStream(chunks: readonly (Buffer | string)[], framed: boolean): OurResult {
  const result: OurResult = { error: null, crash: null, elements: [], ended: false, pending: false, ms: 0 };
  let started = false;
  const protocol = (what: string): void => {
    result.crash ??= new Error(`parser protocol: ${what}`);
  };
  const parser = new StreamParser({
    streamStart() {
      if (started || framed || result.error) protocol('streamStart twice, in framed mode or after an error');
      started = true;
    },
    element(el) {
      if (result.error || result.ended || (!framed && !started)) protocol('element after an error, after the end or before the header');
      result.elements.push(el);
    },
    streamEnd() {
      if (result.error || result.ended) protocol('streamEnd twice or after an error');
      result.ended = true;
    },
    error(err) {
      if (result.error) protocol('error() called twice');
      result.error = err;
    },
  }, { maxStanzaBytes: MAX_STANZA_BYTES, framed });
  const t0 = performance.now();
  try {
    for (const c of chunks) parser.write(c);
  } catch (err) {
    result.crash = err;
  }
  result.ms = performance.now() - t0;
  result.pending = parser.pending;
  return result;
}

/** parseXml's verdict from a chunked framed read: one root element and nothing pending. */
function readDocument(chunks: readonly (Buffer | string)[]): OurResult {
  const r = readStream(chunks, true);
  if (!r.error && !r.crash && (r.elements.length !== 1 || r.pending)) r.error = new StreamError('not-well-formed', r.elements.length ? 'more than one root element' : 'incomplete document');
  return r;
}

function readWhole(text: string): OurResult {
  const result: OurResult = { error: null, crash: null, elements: [], ended: true, pending: false, ms: 0 };
  const t0 = performance.now();
  try {
    result.elements.push(parseXml(text));
  } catch (err) {
    if (err instanceof StreamError) result.error = err;
    else result.crash = err;
  }
  result.ms = performance.now() - t0;
  return result;
}

const key = (c: Canon[]): string => JSON.stringify(c);
const describe = (r: OurResult): string => r.crash ? `crash ${String(r.crash)}`
  : r.error ? `rejected (${r.error.condition}: ${r.error.text})` : `accepted ${r.elements.length} element(s)${r.ended ? ', stream ended' : ''}`;

/** A parse must not take longer than a generous linear model of its size and writes. */
function budgetMs(bytes: number, writes: number): number {
  return 100 + bytes * 0.002 + writes * 0.01;
}

interface Case {
  mode: 'stream' | 'document';
  bytes?: Buffer;
  text?: string;
}

/** A valid stream: header, stanzas of every kind, whitespace, maybe the end; or a document. */
export function generateCase(rng: Rng): Case {
  if (rng.chance(0.3)) {
    const scope = new Map([['', '']]);
    let doc: string;
    if (rng.chance(0.4)) {
      const inner = Array.from({ length: rng.size(4) }, () => stanza(rng, CONTEXT, new Map([['', 'jabber:client']]))).join('');
      doc = `<body xmlns='http://jabber.org/protocol/httpbind' rid='${rng.int(1e9)}' xmlns:stream='http://etherx.jabber.org/streams'>${inner.replace(/<(message|presence|iq)\b/g, "<$1 xmlns='jabber:client'")}</body>`;
    } else {
      doc = rng.chance(0.5) ? element(rng, scope, { maxDepth: 6 }) : stanza(rng, CONTEXT, new Map([['', 'jabber:client']])).replace(/^<(\w+)/, "<$1 xmlns='jabber:client'");
    }
    if (rng.chance(0.2)) doc = "<?xml version='1.0'?>" + doc;
    if (rng.chance(0.2)) doc += rng.pick([' ', '\n', '\r\n']);
    return { mode: 'document', text: mutateString(rng, doc) };
  }
  const header = streamHeader(rng, 'localhost');
  let s = header.text;
  const count = rng.size(10);
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.2)) s += rng.pick([' ', '\n', '\r\n', '\t', '  ']);
    s += stanza(rng, CONTEXT, header.scope);
  }
  if (rng.chance(0.04)) {
    // A long token: what a peer sends to make the parser carry and rescan a large buffer.
    const n = rng.range(20_000, 120_000);
    s += rng.pick([
      `<message a='${'x'.repeat(n)}'/>`, `<message><![CDATA[${'x'.repeat(n)}]]></message>`, `<message><body>${'y'.repeat(n)}</body></message>`,
      `<message><${'n'.repeat(n)}/></message>`, `<message><body>&${'e'.repeat(n)};</body></message>`, `<message>${textContent(rng, n / 20)}</message>`,
      `<message></message${' '.repeat(n)}>`,
    ]);
  }
  if (rng.chance(0.7)) s += `</${header.root}>`;
  return { mode: 'stream', bytes: mutateBytes(rng, Buffer.from(s)) };
}

interface CaseOutcome {
  failure: Omit<Failure, 'seed' | 'index'> | null;
  accepted: boolean;
  condition: string | null;
  expectedRefusal: boolean;
  decidedByCompletion: boolean;
  oracleUnsure: boolean;
  parses: number;
  bytes: number;
  slowest: { ms: number; bytes: number; writes: number };
}

/** Runs one case; the returned failure, if any, carries the input and chunking to replay it. */
export function runCase(seed: number, index: number): CaseOutcome {
  const rng = new Rng(seed, index);
  const c = generateCase(rng);
  const input = c.mode === 'stream' ? c.bytes! : c.text!;
  const size = typeof input === 'string' ? input.length : input.length;
  const chunkings = [[size], chunking(rng, size), chunking(rng, size)];
  // Every split into two, for small inputs: the boundary cases of token resumption.
  if (size <= 300 && rng.chance(0.25)) for (let i = 1; i < size; i++) chunkings.push([i, size - i]);
  const out: CaseOutcome = { failure: null, accepted: false, condition: null, expectedRefusal: false, decidedByCompletion: false, oracleUnsure: false, parses: 0, bytes: 0, slowest: { ms: 0, bytes: 0, writes: 0 } };
  const shown = typeof input === 'string' ? JSON.stringify(input) : input.toString('base64');
  const fail = (kind: FailureKind, detail: string, chunks: number[] = [size]): CaseOutcome => {
    out.failure = { kind, detail: `${c.mode}: ${detail}`, input: shown, chunks };
    return out;
  };

  const results: { r: OurResult; sizes: number[]; how: string }[] = [];
  if (c.mode === 'document') {
    const whole = readWhole(c.text!);
    out.parses++;
    if (whole.crash) return fail('crash', `parseXml: ${String(whole.crash instanceof Error ? whole.crash.stack : whole.crash)}`);
    results.push({ r: whole, sizes: [size], how: 'parseXml' });
  }
  for (const sizes of chunkings) {
    const read = (): OurResult => c.mode === 'stream' ? readStream(split(c.bytes!, sizes), false) : readDocument(split(c.text!, sizes));
    let r = read();
    out.parses++;
    out.bytes += size;
    if (r.crash) return fail('crash', `${String(r.crash instanceof Error ? r.crash.stack : r.crash)}`, sizes);
    const budget = budgetMs(size, sizes.length);
    if (r.ms > budget) {
      // The machine is shared: only a parse that is slow every time is a hang.
      const again = Math.min(read().ms, read().ms);
      if (again > budget) return fail('hang', `${again.toFixed(0)} ms for ${size} units in ${sizes.length} writes (budget ${budget.toFixed(0)} ms)`, sizes);
      r = { ...r, ms: again };
    }
    if (r.ms / budget > out.slowest.ms / budgetMs(out.slowest.bytes, out.slowest.writes)) out.slowest = { ms: r.ms, bytes: size, writes: sizes.length };
    results.push({ r, sizes, how: `${sizes.length} ${c.mode === 'stream' ? 'byte' : 'string'} chunks` });
  }
  // The same text as bytes, when it has a UTF-8 form (no lone surrogates).
  if (c.mode === 'document' && (c.text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    const bytes = Buffer.from(c.text!);
    const sizes = chunking(rng, bytes.length);
    const r = readDocument(split(bytes, sizes));
    out.parses++;
    if (r.crash) return fail('crash', String(r.crash instanceof Error ? r.crash.stack : r.crash), sizes);
    results.push({ r, sizes, how: `${sizes.length} byte chunks of its UTF-8 form` });
  }

  // Every chunking reads the same thing.
  const first = results[0]!.r;
  for (const { r, sizes, how } of results.slice(1)) {
    const a = first.error === null, b = r.error === null;
    if (a !== b) {
      // One chunking may find an error later than another (a token is checked once it ends):
      // then the one that accepted must refuse every completion of the input.
      if (c.mode === 'stream' && !acceptsSomeCompletion(c.bytes!, oracleStream(c.bytes!).open)) continue;
      return fail('inconsistent', `read in ${how}: ${describe(r)}; in one piece: ${describe(first)}`, sizes);
    }
    if (a && b && (key(r.elements.map(canonOf)) !== key(first.elements.map(canonOf)) || (c.mode === 'stream' && r.ended !== first.ended))) {
      return fail('inconsistent', `read in ${how}, other elements: ${key(r.elements.map(canonOf)).slice(0, 300)} vs ${key(first.elements.map(canonOf)).slice(0, 300)}`, sizes);
    }
  }

  const ours = first;
  // The error goes back to the peer as a <stream:error/>: it must be well-formed XML too.
  if (ours.error) {
    const sent = ours.error.toElement();
    sent.attrs['xmlns:stream'] = 'http://etherx.jabber.org/streams';
    const back = oracleDocument(sent.toString());
    if (back.rejected !== null) return fail('bad-output', `the stream error is not well-formed XML (${back.rejected}): ${JSON.stringify(sent.toString())}`);
  }
  out.accepted = ours.error === null;
  out.condition = ours.error?.condition ?? null;
  const oracle: OracleVerdict = c.mode === 'stream' ? oracleStream(c.bytes!) : oracleDocument(c.text!);
  if (oracle.unsure) {
    out.oracleUnsure = true;
    return out;
  }
  const oursOk = ours.error === null;
  const oracleOk = oracle.rejected === null;
  if (oursOk && oracleOk) {
    const mine = ours.elements.map(canonOf);
    if (key(mine) !== key(oracle.elements)) return fail('disagreement', `elements differ:\n ours   ${key(mine).slice(0, 600)}\n oracle ${key(oracle.elements).slice(0, 600)}`);
    if (c.mode === 'stream' && ours.ended !== oracle.ended) return fail('disagreement', `stream end: ours ${ours.ended}, oracle ${oracle.ended}`);
    // What we deliver must serialize to XML that means the same.
    for (const el of ours.elements) {
      const back = oracleDocument(el.toString());
      if (!back.unsure && (back.rejected !== null || key(back.elements) !== key([canonOf(el)]))) {
        return fail('disagreement', `serialized element does not round-trip (${back.rejected ?? 'different'}): ${el.toString().slice(0, 400)}`);
      }
    }
    return out;
  }
  if (!oursOk && !oracleOk) {
    out.expectedRefusal = oracle.restricted;
    return out;
  }
  if (!oursOk) {
    if (oracle.mayReject.some((re) => re.test(ours.error!.text ?? ''))) {
      out.expectedRefusal = true;
      return out;
    }
    if (c.mode === 'stream' && !oracle.ended) {
      // We refused a prefix the oracle has not refused yet: fine unless it can still become
      // a well-formed stream.
      for (const suffix of COMPLETIONS) {
        const probe = Buffer.concat([c.bytes!, Buffer.from(completion(suffix, oracle.open))]);
        if (oracleStream(probe, true).rejected === null) {
          return fail('disagreement', `ours ${describe(ours)}, but the oracle accepts it completed with ${JSON.stringify(completion(suffix, oracle.open))}`);
        }
      }
      out.decidedByCompletion = true;
      return out;
    }
    return fail('disagreement', `ours ${describe(ours)}, the oracle accepts it`);
  }
  // We accepted what the oracle refused.
  if (c.mode === 'stream' && !ours.ended && !acceptsSomeCompletion(c.bytes!, oracle.open)) {
    out.decidedByCompletion = true;
    return out;
  }
  return fail('disagreement', `ours ${describe(ours)}, the oracle refuses it: ${oracle.rejected}${oracle.restricted ? ' (restricted XMPP)' : ''}`);
}

/** Whether our parser reads the stream to its end, without error, with some completion appended. */
function acceptsSomeCompletion(bytes: Buffer, open: readonly string[]): boolean {
  for (const suffix of COMPLETIONS) {
    const probe = Buffer.concat([bytes, Buffer.from(completion(suffix, open))]);
    const r = readStream([probe], false);
    if (r.error === null && r.crash === null && r.ended) {
      // Confirmed only if the oracle refuses the completed stream too.
      return oracleStream(probe, true).rejected !== null;
    }
  }
  return false;
}

export interface ParserFuzzOptions {
  seed: number;
  seconds: number;
  /** Stop after this many cases (replays, quick runs). */
  maxCases?: number;
  firstCase?: number;
  /** Called about once a second. */
  progress?: (stats: ParserFuzzStats) => void;
  /** Stop at the first failure (the CI test) or collect them all (long runs). */
  stopAtFirst?: boolean;
}

export function runParserFuzz(opts: ParserFuzzOptions): { stats: ParserFuzzStats; failures: Failure[] } {
  const stats: ParserFuzzStats = {
    executions: 0, parses: 0, bytes: 0, accepted: 0, rejected: 0, expectedRefusals: 0, decidedByCompletion: 0, oracleUnsure: 0,
    disagreements: 0, inconsistencies: 0, crashes: 0, hangs: 0, conditions: {}, slowest: { ms: 0, bytes: 0, writes: 0, index: -1 },
  };
  const failures: Failure[] = [];
  const deadline = performance.now() + opts.seconds * 1000;
  let nextProgress = performance.now() + 1000;
  for (let index = opts.firstCase ?? 0; ; index++) {
    if (opts.maxCases !== undefined && stats.executions >= opts.maxCases) break;
    if (opts.maxCases === undefined && performance.now() > deadline) break;
    const o = runCase(opts.seed, index);
    stats.executions++;
    stats.parses += o.parses;
    stats.bytes += o.bytes;
    if (o.accepted) stats.accepted++;
    else stats.rejected++;
    if (o.condition) stats.conditions[o.condition] = (stats.conditions[o.condition] ?? 0) + 1;
    if (o.expectedRefusal) stats.expectedRefusals++;
    if (o.decidedByCompletion) stats.decidedByCompletion++;
    if (o.oracleUnsure) stats.oracleUnsure++;
    if (o.slowest.ms / budgetMs(o.slowest.bytes, o.slowest.writes) > stats.slowest.ms / budgetMs(stats.slowest.bytes, stats.slowest.writes)) {
      stats.slowest = { ...o.slowest, index };
    }
    if (o.failure) {
      failures.push({ ...o.failure, seed: opts.seed, index });
      if (o.failure.kind === 'disagreement') stats.disagreements++;
      else if (o.failure.kind === 'inconsistent') stats.inconsistencies++;
      else if (o.failure.kind === 'crash' || o.failure.kind === 'bad-output') stats.crashes++;
      else stats.hangs++;
      if (opts.stopAtFirst) break;
    }
    if (opts.progress && performance.now() > nextProgress) {
      nextProgress = performance.now() + 1000;
      opts.progress(stats);
    }
  }
  return { stats, failures };
}

export function formatFailure(f: Failure): string {
  return [
    `${f.kind} in case ${f.index} of seed ${f.seed}: ${f.detail}`,
    `input (${f.input.startsWith('"') ? 'JSON text' : 'base64 bytes'}): ${f.input.length > 4000 ? f.input.slice(0, 4000) + `... (${f.input.length} characters)` : f.input}`,
    `chunks: ${JSON.stringify(f.chunks).slice(0, 400)}`,
    `replay: XMPPD_FUZZ_SEED=${f.seed} npm run fuzz -- parser --case ${f.index}`,
  ].join('\n');
}

export function formatParserStats(s: ParserFuzzStats): string {
  const conditions = Object.entries(s.conditions).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${s.executions} executions (${s.parses} parses, ${(s.bytes / 1e6).toFixed(1)} MB), ${s.accepted} accepted, ${s.rejected} rejected`
    + ` (${conditions}); ${s.expectedRefusals} intended refusals, ${s.decidedByCompletion} decided by completing the input, ${s.oracleUnsure} not compared;`
    + ` ${s.disagreements} disagreements, ${s.inconsistencies} inconsistencies, ${s.crashes} crashes, ${s.hangs} hangs;`
    + ` slowest parse ${s.slowest.ms.toFixed(0)} ms (${s.slowest.bytes} units, ${s.slowest.writes} writes)`;
}
