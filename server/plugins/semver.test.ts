import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, parseRange, parseVersion, satisfies } from './semver.ts';

const v = (s: string) => {
  const parsed = parseVersion(s);
  assert.ok(parsed, s);
  return parsed;
};

test('versions parse strictly', () => {
  assert.deepEqual(parseVersion('1.2.3-beta.1'), { major: 1, minor: 2, patch: 3, prerelease: ['beta', '1'] });
  for (const bad of ['1.2', '01.2.3', '1.2.3.4', 'v1.2.3', '1.2.3-', '', '1.2.x']) assert.equal(parseVersion(bad), null, bad);
});

test('precedence follows SemVer 2.0', () => {
  const ordered = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
  for (let i = 0; i + 1 < ordered.length; i++) {
    assert.equal(compareVersions(v(ordered[i]!), v(ordered[i + 1]!)), -1, `${ordered[i]} < ${ordered[i + 1]}`);
    assert.equal(compareVersions(v(ordered[i + 1]!), v(ordered[i]!)), 1);
  }
  assert.equal(compareVersions(v('1.2.3'), v('1.2.3')), 0);
});

test('ranges: *, exact, comparators, caret and tilde', () => {
  const cases: [string, string[], string[]][] = [
    ['*', ['0.0.1', '9.9.9'], []],
    ['1.2.3', ['1.2.3'], ['1.2.4', '1.2.2']],
    ['>=1.2.0 <2.0.0', ['1.2.0', '1.9.9'], ['1.1.9', '2.0.0']],
    ['^1.2.3', ['1.2.3', '1.9.0'], ['1.2.2', '2.0.0', '2.0.0-beta']],
    ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0']],
  ];
  for (const [range, yes, no] of cases) {
    const r = parseRange(range);
    for (const s of yes) assert.ok(satisfies(v(s), r), `${s} satisfies ${range}`);
    for (const s of no) assert.ok(!satisfies(v(s), r), `${s} does not satisfy ${range}`);
  }
  assert.throws(() => parseRange('1.x'), /"1.x" is not a version; use "\*"/);
  assert.throws(() => parseRange('>=1.0.0 || 2.0.0'), /is not a version/);
});
