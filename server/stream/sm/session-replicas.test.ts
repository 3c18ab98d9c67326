import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../events/event-bus.ts';
import { Logger } from '../../log.ts';
import { StandaloneClusterManager } from '../../cluster/cluster-manager.ts';
import { SM_REPLICA_EVENT, SessionReplicas } from './session-replicas.ts';

test('a backup follows snapshots, appended stanzas and acks, ignores deltas of sessions it has not seen, and hands a replica over once', () => {
  const events = new EventBus();
  const replicas = new SessionReplicas({
    nodeId: 'b', cluster: () => new StandaloneClusterManager('b'), events, enabled: () => true, settle: () => {}, log: new Logger('test'),
  });
  try {
    const state = { id: 's1', username: 'carol', jid: 'carol@localhost/laptop', presence: null, priority: 0, interested: true, directed: [], resumeSeconds: 60 };
    events.fire(SM_REPLICA_EVENT, { holder: 'a', snapshots: [{ ...state, sent: 3, inbound: 1, queued: ['<m1/>', '<m2/>'] }], deltas: [], ended: [] });
    events.fire(SM_REPLICA_EVENT, { holder: 'a', snapshots: [], deltas: [{ id: 's1', inbound: 2, acked: 2, appended: ['<m3/>'] }, { id: 'unknown', inbound: 0, acked: 0, appended: ['<x/>'] }], ended: [] });
    // A node that is not the holder cannot change the replica.
    events.fire(SM_REPLICA_EVENT, { holder: 'c', snapshots: [], deltas: [{ id: 's1', inbound: 9, acked: 4, appended: [] }], ended: ['s1'] });
    assert.equal(replicas.replicaCount, 1);
    assert.equal(replicas.take('s1', 'dave'), null, 'only the session\'s own account may resume it');
    const replica = replicas.take('s1', 'carol')!;
    assert.equal(replica.inbound, 2);
    assert.equal(replica.queue.sent, 4);
    assert.deepEqual(replica.queue.pending(), ['<m2/>', '<m3/>'], 'm1 was acknowledged');
    assert.equal(replicas.take('s1', 'carol'), null, 'handed over once');
    events.fire(SM_REPLICA_EVENT, { holder: 'a', snapshots: [{ ...state, id: 's2', sent: 0, inbound: 0, queued: [] }], deltas: [], ended: [] });
    events.fire(SM_REPLICA_EVENT, { holder: 'a', snapshots: [], deltas: [], ended: ['s2'] });
    assert.equal(replicas.replicaCount, 0, 'a session that ended on its holder is forgotten');
  } finally {
    replicas.stop();
  }
});
