// Summarizes a V8 CPU profile (node --cpu-prof): self time per function and per source
// file, as shares of the time the process was busy (idle time left out).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of busy time, in percent. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  functions: SelfTime[];
  files: SelfTime[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A drop-in plugin runs from a copy in the server's data folder (data/plugin-work/NAME-VERSION-HASH/). */
const PLUGIN_COPY = /\/plugin-work\/([^/]+?)-\d[^/]*-[0-9a-f]+\/(.+)$/;

function where(url: string): string {
  if (url === '') return '(native)';
  const plugin = PLUGIN_COPY.exec(url);
  if (plugin) return `plugin ${plugin[1]}: ${plugin[2]}`;
  if (url.startsWith('file://')) return relative(ROOT, fileURLToPath(url)).replace(/^node_modules\//, 'npm:');
  return url;
}

function ranked(map: Map<string, number>, busy: number, top: number): SelfTime[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / busy) * 1000) / 10 }));
}

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Sample i's time is the delta to the next sample (V8 records the delta before it).
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const file = where(frame.url);
    // Lines of modules compiled by tsx are those of its output (nearly all on line 1): left out.
    const line = frame.url && !frame.url.startsWith('file://') ? `:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${file}${line}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    functions: ranked(functions, busy, top),
    files: ranked(files, busy, top),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const table = (rows: SelfTime[], what: string): string => [
    `| self % | self ms | ${what} |`,
    '| ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.share.toFixed(1)} | ${Math.round(r.ms)} | \`${r.name}\` |`),
  ].join('\n');
  return [
    `busy ${s.busyMs} ms, idle ${s.idleMs} ms`,
    '',
    table(s.functions, 'function'),
    '',
    table(s.files, 'file'),
  ].join('\n');
}
