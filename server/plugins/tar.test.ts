import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, TarFormatError, writeTar } from './tar.ts';

const LONG = `${'deep/'.repeat(30)}file-with-a-long-name-ü.js`;

test('what writeTar writes, readTar reads back', () => {
  const archive = writeTar([
    { path: 'plugin.json', data: '{"name":"x"}' },
    { path: 'lib/', type: 'directory' },
    { path: 'lib/run.sh', data: '#!/bin/sh\n', mode: 0o755 },
    { path: LONG, data: Buffer.alloc(1000, 7) },
    { path: 'link', type: 'symlink', linkname: '../../etc/passwd' },
  ]);
  assert.equal(archive.length % 512, 0);
  const entries = readTar(archive);
  assert.deepEqual(entries.map((e) => [e.path, e.type]), [
    ['plugin.json', 'file'], ['lib/', 'directory'], ['lib/run.sh', 'file'], [LONG, 'file'], ['link', 'symlink'],
  ]);
  assert.equal(entries[0]!.data.toString(), '{"name":"x"}');
  assert.equal(entries[2]!.mode, 0o755);
  assert.deepEqual(entries[3]!.data, Buffer.alloc(1000, 7));
  assert.equal(entries[4]!.linkname, '../../etc/passwd');
});

test('archives made by GNU tar (ustar, pax and gnu formats) are read, long names and links included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-tar-'));
  try {
    const src = join(dir, 'src');
    mkdirSync(join(src, LONG, '..'), { recursive: true });
    writeFileSync(join(src, LONG), 'long');
    writeFileSync(join(src, 'plain.txt'), 'plain');
    symlinkSync('plain.txt', join(src, 'alias'));
    for (const format of ['pax', 'gnu']) {
      const out = join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', out, '-C', src, 'plain.txt', 'alias', 'deep']);
      const entries = readTar(readFileSync(out));
      const byPath = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
      assert.equal(byPath.get('plain.txt')?.data.toString(), 'plain', format);
      assert.equal(byPath.get(LONG)?.data.toString(), 'long', format);
      assert.equal(byPath.get('alias')?.type, 'symlink', format);
      assert.equal(byPath.get('alias')?.linkname, 'plain.txt', format);
    }
    // And GNU tar reads ours.
    writeFileSync(join(dir, 'ours.tar'), writeTar([{ path: LONG, data: 'x' }]));
    assert.equal(execFileSync('tar', ['-tf', join(dir, 'ours.tar')]).toString().trim(), LONG);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed input is refused with the reason', () => {
  const good = writeTar([{ path: 'a.txt', data: 'hello' }]);
  const corrupt = Buffer.from(good);
  corrupt[10] = 0x41;
  assert.throws(() => readTar(corrupt), (err) => err instanceof TarFormatError && /checksum mismatch/.test(err.message));
  assert.throws(() => readTar(writeTar([{ path: 'big', data: Buffer.alloc(2000) }]).subarray(0, 1000)), /truncated data \(2000 bytes announced\)/);
  assert.throws(() => readTar(good.subarray(0, 512 + 512)), /truncated archive: no end marker/);
  assert.throws(() => readTar(Buffer.from('not a tar archive at all'.repeat(30))), TarFormatError);
});
