// The accounts every benchmark target is given before a run: the same names and password on
// every server, so the load is the same.
export const BENCH_PASSWORD = 'bench-Password-1';

export function benchUser(i: number): string {
  return `u${i}`;
}
