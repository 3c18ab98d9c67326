// Questions between nodes' group chat services, with the cluster replaced by direct calls
// (through JSON, in order, a turn later, as over a link, which refuses a frame over 64 KiB):
// a long list answered in parts, an answer too large for a frame, a refusal that comes back
// as the same RoomAdminError, a node that cannot be reached or does
// not answer in time, and nothing kept once a question is settled. The cluster test
// (test/cluster/muc-admin.test.ts) runs the same over real processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kernel } from '../../extension/kernel.ts';
import { RoomAdminError } from '../../extension/room-admin.ts';
import { ROOM_ANSWER_EVENT, ROOM_REQUEST_EVENT, RoomRequests, type RoomResponder } from './room-requests.ts';

interface TestNode {
  requests: RoomRequests;
  up: boolean;
  /** Answers this node sent (events), for counting parts. */
  answersSent: number;
}

function nodes(responders: Record<string, RoomResponder>): Map<string, TestNode> {
  const all = new Map<string, TestNode>();
  const ids = Object.keys(responders);
  for (const id of ids) {
    const kernel = {
      nodeId: id,
      clusterNodes: () => ids,
      reportError: () => {},
      sendEvent: async (to: string, event: string, payload: unknown) => {
        const peer = all.get(to);
        if (!peer?.up) return false;
        const json = JSON.stringify(payload);
        if (json.length > 64 * 1024) return false;
        const data: unknown = JSON.parse(json);
        await Promise.resolve();
        if (event === ROOM_REQUEST_EVENT) peer.requests.request(data);
        if (event === ROOM_ANSWER_EVENT) {
          all.get(id)!.answersSent++;
          peer.requests.answer(data);
        }
        return true;
      },
    } as unknown as Kernel;
    all.set(id, { requests: new RoomRequests(kernel, responders[id]!), up: true, answersSent: 0 });
  }
  return all;
}

const open = (r: RoomRequests): number => (r as unknown as { pending: Map<number, unknown> }).pending.size;

test('a long list comes in parts, whole and in order; an answer too large says so; a refusal comes back as the same error', async () => {
  const many = Array.from({ length: 2_000 }, (_, i) => ({ name: `room${i}`, title: 'x'.repeat(20) }));
  const cluster = nodes({
    a: async () => [],
    b: async (op, args) => {
      if (op === 'list') return many;
      if (op === 'get') throw new RoomAdminError('not-found', `no room ${String(args[0])}`);
      if (op === 'change') return { occupants: 'x'.repeat(100 * 1024) };
      throw new Error('broken');
    },
  });
  const a = cluster.get('a')!.requests;
  assert.deepEqual(await a.ask('b', 'list', [], 1_000), many);
  assert.ok(cluster.get('b')!.answersSent > 1, 'in several events');
  await assert.rejects(a.ask('b', 'get', ['nowhere'], 1_000), (err: unknown) => err instanceof RoomAdminError && err.kind === 'not-found' && err.message === 'no room nowhere');
  await assert.rejects(a.ask('b', 'owned', ['x'], 1_000), /node b failed to answer/);
  await assert.rejects(a.ask('b', 'change', ['big', {}], 1_000), (err: unknown) => err instanceof RoomAdminError && err.kind === 'unavailable' && /too large/.test(err.message));
  assert.equal(open(a), 0, 'nothing kept once answered');
});

test('a node that cannot be reached, or does not answer in time, is named; the others still answer', async () => {
  const cluster = nodes({
    a: async () => 0,
    b: async () => 2,
    c: () => new Promise(() => {}),
    d: async () => 5,
  });
  cluster.get('d')!.up = false;
  const a = cluster.get('a')!.requests;
  const started = Date.now();
  const { answers, missing } = await a.gather('owned', ['alice@example'], 200);
  assert.ok(Date.now() - started < 1_000, 'bounded by the deadline');
  assert.deepEqual([...answers], [['b', 2]]);
  assert.deepEqual(missing.sort(), ['c', 'd']);
  await assert.rejects(a.ask('c', 'get', ['r'], 50), (err: unknown) => err instanceof RoomAdminError && err.kind === 'unavailable' && /node c did not answer within 0.05 s/.test(err.message));
  await assert.rejects(a.ask('d', 'get', ['r'], 50), /node d cannot be reached/);
  assert.equal(open(a), 0, 'questions past their deadline are forgotten');

  const waiting = a.ask('c', 'list', [], 10_000);
  a.stop();
  await assert.rejects(waiting, /going away/);
  assert.equal(open(a), 0);
});
