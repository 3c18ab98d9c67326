// How long the fuzzers run and from which seed, from the environment: the CI tests run them
// briefly on every change, `npm run fuzz` for as long as asked. A run with no seed given draws
// one and prints it, so that every run explores new cases and any failure can be replayed.
import { randomSeed } from './rng.ts';

export function fuzzSeed(): number {
  const given = process.env.XMPPD_FUZZ_SEED;
  return given ? Number(given) >>> 0 : randomSeed();
}

export function fuzzSeconds(name: 'XMPPD_FUZZ_PARSER_SECONDS' | 'XMPPD_FUZZ_SERVER_SECONDS', fallback: number): number {
  const given = Number(process.env[name]);
  return Number.isFinite(given) && given > 0 ? given : fallback;
}
