import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError, parseManifest, parseManifestText, serverVersionProblem } from './manifest.ts';

const base = { name: 'echo', version: '1.0.0' };

test('a minimal manifest gets its defaults', () => {
  assert.deepEqual(parseManifest(base), {
    name: 'echo', version: '1.0.0', description: '', author: '', minServerVersion: null, priorToServerVersion: null,
    dependencies: {}, kind: 'feature', main: 'index.js', migrations: null, properties: [],
  });
  const full = parseManifest({ ...base, kind: 'cluster', main: './dist/main.mjs', migrations: 'db/', dependencies: { other: '^1.0.0' } });
  assert.equal(full.main, 'dist/main.mjs');
  assert.equal(full.migrations, 'db');
  assert.equal(full.kind, 'cluster');
});

test('each mistake is refused with what was expected', () => {
  const cases: [unknown, RegExp][] = [
    [[], /plugin\.json must hold a JSON object/],
    [{ ...base, minServerVerison: '1.0.0' }, /unknown key "minServerVerison" \(known: name, version/],
    [{ ...base, name: 'Echo' }, /name "Echo" must be 1-48 lower-case letters/],
    [{ ...base, name: 'core' }, /name "core" is reserved/],
    [{ name: 'echo' }, /version is required/],
    [{ ...base, version: '1.0' }, /version "1\.0" is not a version like 1\.2\.3/],
    [{ ...base, minServerVersion: 'latest' }, /minServerVersion "latest" is not a version/],
    [{ ...base, kind: 'clustering' }, /kind "clustering" must be "feature" or "cluster"/],
    [{ ...base, dependencies: ['other'] }, /dependencies must be an object/],
    [{ ...base, dependencies: { echo: '*' } }, /cannot depend on itself/],
    [{ ...base, dependencies: { other: 'v1' } }, /dependencies\.other: version range "v1"/],
    [{ ...base, main: '../server.js' }, /main "\.\.\/server\.js" must be a relative path inside the plugin folder/],
    [{ ...base, main: '/abs.js' }, /must be a relative path inside/],
    [{ ...base, main: 'index.ts' }, /must be a compiled JavaScript module/],
    [{ ...base, properties: [{ name: 'echo.x', type: 'integer', default: 1, description: 'd' }] }, /properties\[0\]\.live must be true/],
    [{ ...base, properties: [{ name: 'echo.x', type: 'integer', default: 'a', description: 'd', live: true }] }, /properties\[0\]: invalid definition of property echo\.x: default "a" is not a integer/],
    [{ ...base, properties: [{ name: 'Echo X', type: 'string', default: '', description: 'd', live: true }] }, /names are lower-case words/],
  ];
  for (const [raw, reason] of cases) {
    assert.throws(() => parseManifest(raw), (err: Error) => err instanceof ManifestError && reason.test(err.message), String(reason));
  }
  assert.throws(() => parseManifestText('{"name": '), /plugin\.json is not valid JSON/);
});

test('declared properties are checked like any definition', () => {
  const m = parseManifest({ ...base, properties: [{ name: 'echo.max', type: 'integer', default: 5, min: 1, max: 10, description: 'd', live: true }] });
  assert.deepEqual(m.properties, [{ name: 'echo.max', type: 'integer', default: 5, min: 1, max: 10, description: 'd', live: true }]);
  const twice = { name: 'echo.max', type: 'boolean', default: true, description: 'd', live: true };
  assert.throws(() => parseManifest({ ...base, properties: [twice, twice] }), /property echo\.max is declared twice/);
});

test('server versions: minServerVersion and priorToServerVersion', () => {
  const m = (extra: object) => parseManifest({ ...base, ...extra });
  assert.equal(serverVersionProblem(m({ minServerVersion: '0.1.0' }), '0.1.0'), null);
  assert.equal(serverVersionProblem(m({ minServerVersion: '9.0.0' }), '0.1.0'), 'needs server version 9.0.0 or later; this server is 0.1.0');
  assert.equal(serverVersionProblem(m({ priorToServerVersion: '0.1.0' }), '0.1.0'), 'works only with server versions before 0.1.0; this server is 0.1.0');
  assert.equal(serverVersionProblem(m({ priorToServerVersion: '0.2.0' }), '0.1.0'), null);
});
