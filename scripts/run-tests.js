#!/usr/bin/env node
// Runs every *.test.ts under server/, plugins/, test/ and bench/ with node:test, TypeScript loaded
// by tsx. Arguments narrow the run to paths containing any of them. Cluster tests get the Hazelcast
// member jar fetched first.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['server', 'plugins', 'test', 'bench'];
const filters = process.argv.slice(2);

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, [])).filter((f) => !filters.length || filters.some((x) => f.includes(x))).sort();
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
// Cluster tests run real Hazelcast members from the jar conf/hazelcast/pom.xml pins: fetch it
// first (a no-op once it is there), so `npm test` alone is enough on a fresh checkout.
if (files.some((f) => f.startsWith(join('test', 'cluster')) || f.startsWith(join('plugins', 'hazelcast')))) {
  const fetch = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'fetch-hazelcast.ts')], { stdio: 'inherit' });
  if (fetch.status !== 0) {
    console.error('the cluster tests need the Hazelcast member jar, and `npm run hazelcast:fetch` could not provide it (see above)');
    process.exit(1);
  }
}
// The interop tests run Smack's integration test framework, fetched the same way.
if (files.some((f) => f.startsWith(join('test', 'interop')))) {
  const fetch = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'fetch-smack.ts')], { stdio: 'inherit' });
  if (fetch.status !== 0) {
    console.error('the interop tests need Smack\'s integration test framework, and `npm run smack:fetch` could not provide it (see above)');
    process.exit(1);
  }
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
