// Which of the usable plugins may run, and in which order: one version per name (the
// newest), at most one plugin of kind `cluster`, every dependency present in a matching
// version, dependencies before dependents. Pure, so each rule is tested on its own.
import { dependencyRanges, type PluginManifest } from './manifest.ts';
import { compareVersions, parseVersion, satisfies } from './semver.ts';

export interface Candidate {
  /** The source's name in the plugins folder: what identifies a candidate. */
  file: string;
  manifest: PluginManifest;
  /** Currently loaded: keeps its place when a rule must choose. */
  loaded: boolean;
}

export interface Plan {
  /** Files to have loaded, dependencies first. */
  order: string[];
  /** Files that may not be loaded, with the reason. */
  blocked: Map<string, string>;
}

const newer = (a: Candidate, b: Candidate): number =>
  compareVersions(parseVersion(b.manifest.version)!, parseVersion(a.manifest.version)!) || Number(b.loaded) - Number(a.loaded) || (a.file < b.file ? -1 : 1);

export function planPlugins(candidates: readonly Candidate[]): Plan {
  const blocked = new Map<string, string>();
  const byName = new Map<string, Candidate>();

  // One version per plugin name: the newest (two files may hold the same plugin).
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) groups.set(c.manifest.name, [...(groups.get(c.manifest.name) ?? []), c]);
  for (const [name, group] of groups) {
    const [winner, ...others] = [...group].sort(newer);
    byName.set(name, winner!);
    for (const o of others) blocked.set(o.file, `${winner!.file} holds ${name} ${winner!.manifest.version}, which is used instead`);
  }

  // At most one clustering plugin: the one already loaded keeps its place.
  const clusters = [...byName.values()].filter((c) => c.manifest.kind === 'cluster')
    .sort((a, b) => Number(b.loaded) - Number(a.loaded) || (a.manifest.name < b.manifest.name ? -1 : 1));
  for (const c of clusters.slice(1)) {
    const keeper = clusters[0]!;
    blocked.set(c.file, `refused: at most one plugin of kind "cluster" may be loaded, and ${keeper.manifest.name} (${keeper.file}) is that plugin`);
    byName.delete(c.manifest.name);
  }

  // Dependencies, until nothing changes: removing one plugin may strand another.
  const everyName = new Set(candidates.map((c) => c.manifest.name));
  for (let changed = true; changed;) {
    changed = false;
    for (const c of [...byName.values()]) {
      for (const [dep, range] of dependencyRanges(c.manifest)) {
        const d = byName.get(dep);
        const wanted = range.text === '*' ? dep : `${dep} ${range.text}`;
        let reason: string | null = null;
        if (!d) reason = everyName.has(dep) ? `needs plugin ${wanted}, which cannot be loaded` : `needs plugin ${wanted}, which is not installed`;
        else if (!satisfies(parseVersion(d.manifest.version)!, range)) reason = `needs plugin ${wanted}; version ${d.manifest.version} is installed`;
        if (reason) {
          blocked.set(c.file, reason);
          byName.delete(c.manifest.name);
          changed = true;
          break;
        }
      }
    }
  }

  // Dependencies first; among plugins free to go, by name, so the order is stable.
  const order: string[] = [];
  const done = new Set<string>();
  const pending = new Map(byName);
  for (;;) {
    const ready = [...pending.values()]
      .filter((c) => Object.keys(c.manifest.dependencies).every((d) => done.has(d)))
      .sort((a, b) => (a.manifest.name < b.manifest.name ? -1 : 1));
    if (!ready.length) break;
    for (const c of ready) {
      order.push(c.file);
      done.add(c.manifest.name);
      pending.delete(c.manifest.name);
    }
  }
  const cycle = [...pending.keys()].sort();
  for (const c of pending.values()) blocked.set(c.file, `dependency cycle among ${cycle.join(', ')}`);
  return { order, blocked };
}
