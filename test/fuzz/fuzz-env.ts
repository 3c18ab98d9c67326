// How long the fuzzers run and from which seed, from the environment: the CI tests run them
// briefly on every change, `npm run fuzz` for as long as asked. A run with no seed given draws
// one and prints it, so that every run explores new cases and any failure can be replayed.
// Under CI=true the seed is fixed instead: a failure there then comes from the change under
// test, not from a case no run had drawn before (new cases are what developers' and
// `npm run fuzz` runs are for; what they find is fixed and kept as a unit test).
import { randomSeed } from './rng.ts';

/** The CI seed; any value does, as long as it stays the same. */
const CI_SEED = 20261202;

export function fuzzSeed(): number {
  const given = process.env.XMPPD_FUZZ_SEED;
  if (given) return Number(given) >>> 0;
  return process.env.CI === 'true' ? CI_SEED : randomSeed();
}

export function fuzzSeconds(name: 'XMPPD_FUZZ_PARSER_SECONDS' | 'XMPPD_FUZZ_SERVER_SECONDS', fallback: number): number {
  const given = Number(process.env[name]);
  return Number.isFinite(given) && given > 0 ? given : fallback;
}
