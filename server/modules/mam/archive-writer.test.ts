// The writer's own rules, with a repository that records what it is given (the SQL side is
// tested in storage/archive-repository.test.ts, the whole path in test/protocol/mam.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger, setLogLevel } from '../../log.ts';
import type { ArchiveEntry, ArchiveRepository } from '../../storage/types.ts';
import { ArchiveWriter } from './archive-writer.ts';

setLogLevel('error');

const entry = (n: number): ArchiveEntry => ({ owner: 'alice', id: `i${n}`, with: 'bob@x', withResource: null, outgoing: false, at: new Date(0), stanza: '<message/>' });

function recording(fail: (call: number) => boolean = () => false): { repo: ArchiveRepository; batches: string[][] } {
  const batches: string[][] = [];
  let calls = 0;
  const repo = {
    append: async (entries: readonly ArchiveEntry[]) => {
      if (fail(calls++)) throw new Error('database down');
      batches.push(entries.map((e) => e.id));
    },
  } as unknown as ArchiveRepository;
  return { repo, batches };
}

test('rows added in one turn go out as one batch, later ones in the next, in order; flushed() waits for them', async () => {
  const { repo, batches } = recording();
  const writer = new ArchiveWriter(repo, () => 100, new Logger('test'));
  for (let i = 0; i < 3; i++) assert.equal(writer.add(entry(i)), true);
  const first = writer.flushed();
  writer.add(entry(3));
  await first;
  assert.deepEqual(batches.flat().slice(0, 3), ['i0', 'i1', 'i2']);
  await writer.flushed();
  assert.deepEqual(batches.flat(), ['i0', 'i1', 'i2', 'i3']);
  assert.equal(writer.pending, 0);
  await writer.flushed(); // nothing pending: at once
});

test('a failed batch is tried again, and dropped after the last try without holding up the next', async () => {
  const { repo, batches } = recording((call) => call < 2);
  const writer = new ArchiveWriter(repo, () => 100, new Logger('test'));
  writer.add(entry(0));
  await writer.flushed();
  assert.deepEqual(batches, [['i0']], 'written at the third attempt');

  const never = recording(() => true);
  const failing = new ArchiveWriter(never.repo, () => 100, new Logger('test'));
  failing.add(entry(1));
  await failing.flushed();
  assert.deepEqual(never.batches, []);
});

test('beyond the bound rows are dropped and counted', async () => {
  const { repo, batches } = recording();
  const writer = new ArchiveWriter(repo, () => 2, new Logger('test'));
  assert.deepEqual([writer.add(entry(0)), writer.add(entry(1)), writer.add(entry(2))], [true, true, false]);
  assert.equal(writer.dropped, 1);
  await writer.flushed();
  assert.deepEqual(batches.flat(), ['i0', 'i1']);
});

test('while rows come fast, a batch waits a few milliseconds for more; a reader does not wait', async () => {
  const { repo, batches } = recording();
  const writer = new ArchiveWriter(repo, () => 1000, new Logger('test'));
  for (let i = 0; i < 30; i++) writer.add(entry(i));
  await writer.flushed();
  assert.equal(batches.length, 1, 'a large batch: rows come fast');
  writer.add(entry(30));
  await new Promise((resolve) => setImmediate(resolve));
  writer.add(entry(31));
  assert.equal(batches.length, 1, 'the first row waits for company');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(batches[1], ['i30', 'i31']);

  // The last batch was small: the next row goes at once, with no timer to wait for.
  writer.add(entry(32));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(batches[2], ['i32']);

  for (let i = 33; i < 63; i++) writer.add(entry(i));
  await writer.flushed();
  writer.add(entry(63));
  await writer.flushed();
  assert.deepEqual(batches.at(-1), ['i63'], 'flushed() writes at once');
  assert.equal(writer.pending, 0);
});
