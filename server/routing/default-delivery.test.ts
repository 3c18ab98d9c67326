// The RFC 6121 delivery rules around another node: a message to a bare JID whose chosen
// resources live on a node that does not take it (the node died before the cluster noticed)
// is tried again for a moment (the link to that node may be being replaced) and then stored
// offline instead of lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterManager, ClusterSummary } from '../cluster/cluster-manager.ts';
import { EventBus } from '../events/event-bus.ts';
import { JID } from '../jid/jid.ts';
import { Logger } from '../log.ts';
import { SessionManager } from '../session/session-manager.ts';
import { xml, type Element } from '../xml/element.ts';
import { registerDefaultDelivery } from './default-delivery.ts';
import { Router } from './router.ts';
import { LocalRoutingTable } from './routing-table.ts';
import type { StanzaEvent } from './stanza-event.ts';

const quiet = new Logger('test');

class OtherNode implements ClusterManager {
  readonly nodeId = 'node1';
  readonly sent: string[] = [];
  /** Whether the node takes the message on the n-th try (from 1). */
  constructor(private readonly takes: (attempt: number) => boolean) {}
  private get answer(): boolean {
    return this.takes(this.sent.length);
  }
  isClustered(): boolean {
    return true;
  }
  async sendToNode(_node: string, fullJid: string): Promise<boolean> {
    this.sent.push(fullJid);
    return this.answer;
  }
  async sendEachToNode(_node: string, fullJids: readonly string[]): Promise<string[]> {
    this.sent.push(...fullJids);
    return this.answer ? [] : [...fullJids];
  }
  nodeIds(): readonly string[] {
    return ['node1', 'node2'];
  }
  onNodesChanged(): () => void {
    return () => undefined;
  }
  broadcast(): void {}
  async sendEvent(): Promise<boolean> {
    return false;
  }
  summary(): ClusterSummary {
    return { enabled: true, state: 'joined', members: [], seniorNodeId: 'node1' };
  }
}

async function deliverToBob(type: string, nodeTakesIt: boolean | ((attempt: number) => boolean), settleMs = 20):
Promise<{ offline: Element[]; cluster: OtherNode; delivered: number }> {
  const events = new EventBus();
  const table = new LocalRoutingTable();
  table.addRoute({ jid: 'bob@localhost/phone', nodeId: 'node2', available: true, priority: 1 });
  table.addRoute({ jid: 'bob@localhost/desk', nodeId: 'node2', available: true, priority: 0 });
  const sessions = new SessionManager('node1', table, events, quiet);
  const cluster = new OtherNode(typeof nodeTakesIt === 'function' ? nodeTakesIt : () => nodeTakesIt);
  const router = new Router('localhost', events, sessions, cluster, quiet);
  registerDefaultDelivery({ events, router, sessions, userExists: async () => true });
  const offline: Element[] = [];
  let delivered = 0;
  events.on('message/delivered', () => {
    delivered++;
    return false;
  });
  events.on<StanzaEvent>('message/offline', (ev) => {
    offline.push(ev.stanza);
    return true;
  });
  router.route(xml('message', { to: 'bob@localhost', type, from: 'alice@localhost/desk' }, xml('body', null, 'hi')), JID.parse('alice@localhost/desk'));
  await new Promise((r) => setTimeout(r, settleMs));
  return { offline, cluster, delivered };
}

test('a chat message the other node does not take is tried again for a moment, then goes offline', async () => {
  const { offline, cluster, delivered } = await deliverToBob('chat', false, 1500);
  assert.ok(cluster.sent.length >= 3, `tried ${cluster.sent.length} times`);
  assert.ok(cluster.sent.every((jid) => jid === 'bob@localhost/phone'), 'sent to the highest-priority resource');
  assert.equal(offline.length, 1);
  assert.equal(offline[0]!.getChildText('body'), 'hi');
  assert.equal(delivered, 1, 'reported once, however often tried');
});

test('a message the other node takes on a second try is delivered, not stored', async () => {
  const { offline, cluster, delivered } = await deliverToBob('chat', (attempt) => attempt >= 2, 600);
  assert.equal(cluster.sent.length, 2);
  assert.equal(offline.length, 0);
  assert.equal(delivered, 1);
});

test('a message the other node takes is not stored', async () => {
  const { offline } = await deliverToBob('normal', true);
  assert.equal(offline.length, 0);
});

test('a headline is never stored, taken or not', async () => {
  const { offline, cluster } = await deliverToBob('headline', false);
  assert.equal(cluster.sent.length, 2, 'headlines go to every available resource');
  assert.equal(offline.length, 0);
});
