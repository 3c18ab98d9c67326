import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from './manifest.ts';
import { planPlugins, type Candidate } from './plugin-plan.ts';

function c(file: string, name: string, version = '1.0.0', extra: { kind?: string; dependencies?: Record<string, string>; loaded?: boolean } = {}): Candidate {
  return { file, manifest: parseManifest({ name, version, kind: extra.kind, dependencies: extra.dependencies }), loaded: extra.loaded ?? false };
}

test('dependencies come first; independent plugins by name', () => {
  const plan = planPlugins([
    c('z.tgz', 'zeta', '1.0.0', { dependencies: { alpha: '>=1.0.0' } }),
    c('b.tgz', 'beta'),
    c('a.tgz', 'alpha'),
    c('m.tgz', 'mu', '1.0.0', { dependencies: { zeta: '*', beta: '^1.0.0' } }),
  ]);
  assert.deepEqual(plan.order, ['a.tgz', 'b.tgz', 'z.tgz', 'm.tgz']);
  assert.equal(plan.blocked.size, 0);
});

test('of two sources holding one plugin, the newer version is used', () => {
  const plan = planPlugins([c('echo.tgz', 'echo', '1.0.0'), c('echo-2.tgz', 'echo', '2.0.0')]);
  assert.deepEqual(plan.order, ['echo-2.tgz']);
  assert.equal(plan.blocked.get('echo.tgz'), 'echo-2.tgz holds echo 2.0.0, which is used instead');
});

test('at most one cluster plugin: the loaded one stays, a second is refused', () => {
  const plan = planPlugins([c('b.tgz', 'bcluster', '1.0.0', { kind: 'cluster', loaded: true }), c('a.tgz', 'acluster', '1.0.0', { kind: 'cluster' })]);
  assert.deepEqual(plan.order, ['b.tgz']);
  assert.equal(plan.blocked.get('a.tgz'), 'refused: at most one plugin of kind "cluster" may be loaded, and bcluster (b.tgz) is that plugin');
  // With none loaded, the first by name is chosen, so the outcome does not depend on timing.
  assert.deepEqual(planPlugins([c('b.tgz', 'bcluster', '1.0.0', { kind: 'cluster' }), c('a.tgz', 'acluster', '1.0.0', { kind: 'cluster' })]).order, ['a.tgz']);
});

test('missing, mismatched and cyclic dependencies block with the reason, transitively', () => {
  const plan = planPlugins([
    c('a.tgz', 'a', '1.0.0', { dependencies: { missing: '^1.0.0' } }),
    c('b.tgz', 'b', '1.0.0', { dependencies: { a: '*' } }),
    c('old.tgz', 'old', '1.5.0'),
    c('c.tgz', 'c', '1.0.0', { dependencies: { old: '>=2.0.0' } }),
    c('x.tgz', 'x', '1.0.0', { dependencies: { y: '*' } }),
    c('y.tgz', 'y', '1.0.0', { dependencies: { x: '*' } }),
  ]);
  assert.deepEqual(plan.order, ['old.tgz']);
  assert.equal(plan.blocked.get('a.tgz'), 'needs plugin missing ^1.0.0, which is not installed');
  assert.equal(plan.blocked.get('b.tgz'), 'needs plugin a, which cannot be loaded');
  assert.equal(plan.blocked.get('c.tgz'), 'needs plugin old >=2.0.0; version 1.5.0 is installed');
  assert.equal(plan.blocked.get('x.tgz'), 'dependency cycle among x, y');
  assert.equal(plan.blocked.get('y.tgz'), 'dependency cycle among x, y');
});
