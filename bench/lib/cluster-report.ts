// What the cluster benchmark reads and prints: the members a node's /status names, and one
// row per measured run (rate, latency, and the CPU each process spent per message) as a
// Markdown table docs/performance.md can take as it is.
import type { MessagesResult } from '../load/messages.ts';

/** Node ids of the cluster a node's GET /status describes; none when it is standalone. */
export function clusterMembers(status: unknown): string[] {
  const cluster = (status as { cluster?: { members?: unknown } } | null)?.cluster;
  if (!cluster || !Array.isArray(cluster.members)) return [];
  return cluster.members.flatMap((m: unknown) => {
    const id = (m as { nodeId?: unknown } | null)?.nodeId;
    return typeof id === 'string' ? [id] : [];
  });
}

export interface ClusterRow {
  scenario: string;
  run: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Messages that came back to their sender as errors. */
  errors: number;
  /** Cores each watched process (and the generator) used while measuring. */
  cores: Record<string, number>;
  /** Cores the rest of the machine used meanwhile (other work on a shared machine), and the hypervisor's steal. */
  others: number;
  steal: number;
  /** Microseconds of each watched process's CPU per delivered message. */
  usPerMessage: Record<string, number>;
}

/** CPU time per message, in µs, of a process that used `cores` for `seconds` while `messages` arrived. */
export function cpuPerMessageUs(cores: number, seconds: number, messages: number): number {
  if (messages <= 0) return NaN;
  return Math.round((cores * seconds * 1e6) / messages * 10) / 10;
}

export function clusterRow(scenario: string, run: number, r: MessagesResult): ClusterRow {
  const cores: Record<string, number> = { ...(r.processCores ?? {}), generator: r.generatorCores };
  const usPerMessage: Record<string, number> = {};
  for (const [name, c] of Object.entries(r.processCores ?? {})) usPerMessage[name] = cpuPerMessageUs(c, r.seconds, r.messages);
  const ours = Object.values(cores).reduce((a, b) => a + b, 0);
  const others = r.machine ? Math.max(0, Math.round((r.machine.busyCores - ours) * 100) / 100) : NaN;
  return {
    scenario, run, perSecond: r.perSecond, p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms, errors: r.errors, cores, others,
    steal: r.machine?.stealCores ?? NaN, usPerMessage,
  };
}

function num(x: number | undefined, digits = 2): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en') : String(Number(x.toFixed(digits)));
}

/**
 * One line per row: rate, p50 / p99, then for each process in `processes` its cores, the
 * generator's and the rest of the machine's, then each process's µs per message and the sum of
 * µs per message over `summed` (the xmppd nodes).
 */
export function clusterTable(rows: readonly ClusterRow[], processes: readonly string[], summed: readonly string[]): string {
  const header = [
    'scenario', 'run', 'messages/s', 'p50 / p99 ms',
    ...processes.map((p) => `${p} cores`), 'generator cores', 'other cores',
    ...processes.map((p) => `${p} µs/msg`), `${summed.join(' + ')} µs/msg`,
  ];
  const lines = rows.map((r) => {
    const total = summed.reduce((sum, p) => sum + (r.usPerMessage[p] ?? NaN), 0);
    return [
      r.scenario, String(r.run), num(r.perSecond), `${num(r.p50Ms)} / ${num(r.p99Ms)}${r.errors ? ` (${r.errors} bounced)` : ''}`,
      ...processes.map((p) => num(r.cores[p])), num(r.cores.generator), `${num(r.others)}${r.steal > 0.005 ? ` (+${num(r.steal)} steal)` : ''}`,
      ...processes.map((p) => num(r.usPerMessage[p], 1)), num(total, 1),
    ];
  });
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
