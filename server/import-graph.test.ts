// The kernel's dependency rules, checked on the source: no import cycle among the kernel's
// files (type-only imports count too: they are what a reader follows), and the inner layers
// (everything but the wiring at server/'s root and the CLI) import nothing from modules/,
// which hold the features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'test-server.ts') out.push(path);
  }
  return out;
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sources(ROOT)) {
    const from = relative(ROOT, file);
    const to: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) to.push(normalize(join(dirname(from), m[1]!)));
    edges.set(from, to);
  }
  return edges;
}

/** Every cycle found by a depth-first walk, each as the files around it. */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('the kernel has no import cycle', () => {
  assert.deepEqual(cycles(graph()).map((c) => c.join(' -> ')), []);
});

test('inner layers of the kernel import nothing from modules/', () => {
  const wiring = (file: string): boolean => !file.includes('/') || file.startsWith('cli/') || file.startsWith('modules/');
  const wrong: string[] = [];
  for (const [from, to] of graph()) {
    if (wiring(from)) continue;
    for (const target of to) if (target.startsWith('modules/')) wrong.push(`${from} -> ${target}`);
  }
  assert.deepEqual(wrong, []);
});
