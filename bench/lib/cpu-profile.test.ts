import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatSummary, summarizeProfile } from './cpu-profile.ts';

test('self time per function and file, as shares of busy time', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '0' });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('parse', 'node:internal/x') },
      { id: 4, callFrame: frame('route', 'node:internal/y') },
      { id: 5, callFrame: frame('encodeFrame', 'file:///tmp/x/data/plugin-work/hazelcast-0.1.0-4f6bc7aa/index.js') },
    ],
    // deltas before each sample: the first sample's own time is the second delta
    samples: [3, 3, 4, 2, 5, 3],
    timeDeltas: [0, 1000, 1000, 2000, 6000, 4000, 0],
    startTime: 0,
    endTime: 10000,
  };
  const dir = mkdtempSync(join(tmpdir(), 'profile-test-'));
  try {
    const path = join(dir, 'p.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));
    const s = summarizeProfile(path);
    assert.equal(s.idleMs, 6);
    assert.equal(s.busyMs, 8);
    assert.deepEqual(s.functions.map((f) => [f.name, f.share]), [
      // A drop-in plugin's code is named after the plugin, not the scratch folder it runs from.
      ['encodeFrame plugin hazelcast: index.js', 50],
      ['parse node:internal/x:10', 25],
      ['route node:internal/y:10', 25],
    ]);
    assert.match(formatSummary(s), /\| 25\.0 \| 2 \| `parse node:internal\/x:10` \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
