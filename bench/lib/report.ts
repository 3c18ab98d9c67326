// Collects each figure per server and repetition, and prints them as one table (Markdown, so
// docs/performance.md can take it as it is) with the median and every run.
import { cpus, loadavg } from 'node:os';

export interface FigureSpec {
  id: string;
  label: string;
  unit: string;
  /** The target from docs/performance.md, shown beside the figures. */
  target?: string;
  /** Fewer is better (latency, memory): only for how the note reads. */
  lowerIsBetter?: boolean;
}

export class Report {
  private readonly specs = new Map<string, FigureSpec>();
  /** figure id -> server name -> values, one per run. */
  private readonly values = new Map<string, Map<string, number[]>>();
  private readonly servers: string[] = [];
  readonly details: { server: string; run: number; figure: string; result: unknown }[] = [];
  readonly micro: { script: string; lines: string[] }[] = [];

  define(spec: FigureSpec): void {
    if (!this.specs.has(spec.id)) this.specs.set(spec.id, spec);
  }

  add(server: string, run: number, figureId: string, value: number, result?: unknown): void {
    if (!this.specs.has(figureId)) throw new Error(`undefined figure ${figureId}`);
    if (!this.servers.includes(server)) this.servers.push(server);
    let byServer = this.values.get(figureId);
    if (!byServer) this.values.set(figureId, (byServer = new Map()));
    const list = byServer.get(server) ?? [];
    list.push(value);
    byServer.set(server, list);
    if (result !== undefined) this.details.push({ server, run, figure: figureId, result });
  }

  table(): string {
    const header = ['figure', ...this.servers, 'target'];
    const rows = [...this.specs.values()].filter((s) => this.values.has(s.id)).map((spec) => {
      const byServer = this.values.get(spec.id)!;
      return [
        `${spec.label} (${spec.unit})`,
        ...this.servers.map((srv) => cell(byServer.get(srv))),
        spec.target ?? '',
      ];
    });
    const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
    return lines.join('\n');
  }

  toJSON(): unknown {
    return {
      machine: machine(),
      figures: [...this.specs.values()].filter((s) => this.values.has(s.id)).map((s) => ({
        ...s, values: Object.fromEntries(this.values.get(s.id)!),
      })),
      details: this.details,
      micro: this.micro,
    };
  }
}

function format(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en');
  return String(Math.round(x * 100) / 100);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "median (run 1, run 2, ...)", or the one value. */
function cell(xs: number[] | undefined): string {
  if (!xs?.length) return '–';
  if (xs.length === 1) return format(xs[0]!);
  return `**${format(median(xs))}** (${xs.map(format).join(', ')})`;
}

export function machine(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}
