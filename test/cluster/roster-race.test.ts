// Two users on different nodes changing their subscription to each other at the same moment
// change both rosters on both nodes at once: each node handles its own user's outbound
// stanza and the contact's inbound one. Whatever the interleaving, the two rosters must end
// up telling the same story (what one is subscribed to, the other sends), the nodes' cached
// copies must say what storage says, and presence must flow exactly where the final
// subscriptions say. Many pairs race at once, and the rounds repeat.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProperties, nodeStatus, startClusterNode, stopClusterTest } from './cluster-fixture.ts';
import { startHazelcastCluster, type HazelcastCluster } from '../helpers/hazelcast-member.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { TestServer } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import type { RosterItem, Storage } from '../../server/storage/types.ts';
import type { Element } from '../../server/xml/element.ts';
import { waitFor } from '../plugins/fixtures.ts';

const PAIRS = 50;
const REPEAT = 3;
const CLUSTER_MS = 30_000;
/** How long the rosters of all pairs get to settle after a race. */
const SETTLE_MS = 15_000;

interface Side {
  user: string;
  bare: string;
  full: string;
  client: RawClient;
}
interface Pair {
  a: Side;
  b: Side;
}

let hazelcast: HazelcastCluster;
let database: TestDatabase;
let work: string;
let storage: Storage;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];
const pairs: Pair[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'xmppd-roster-race-'));
  [hazelcast, database] = await Promise.all([startHazelcastCluster({ members: 1 }), createTestDatabase('mysql')]);
  nodes.push(await startClusterNode(database, work, 'a', clusterProperties(work, hazelcast)));
  nodes.push(await startClusterNode(database, work, 'b'));
  for (const node of nodes) await waitFor(async () => (await nodeStatus(node)).cluster?.members.length === 2, CLUSTER_MS, 'a cluster of 2');
  const [a, b] = nodes as [TestServer, TestServer];
  storage = await a.storage();
  for (let i = 0; i < PAIRS; i++) await Promise.all([a.addUser(`ra${i}`, `ra${i}-pw`), a.addUser(`rb${i}`, `rb${i}-pw`)]);
  const side = async (node: TestServer, user: string): Promise<Side> => {
    const client = await RawClient.login(node.c2sPort, user, `${user}-pw`, { resource: 'r', presence: true });
    clients.push(client);
    // Interested: the node keeps this account's roster in memory and pushes changes to it.
    assert.equal((await client.iq(ROSTER_GET)).attrs.type, 'result');
    return { user, bare: `${user}@localhost`, full: `${user}@localhost/r`, client };
  };
  for (let i = 0; i < PAIRS; i++) pairs.push({ a: await side(a, `ra${i}`), b: await side(b, `rb${i}`) });
});

after(() => stopClusterTest({ clients, nodes, hazelcast, database, work }));

const ROSTER_GET = `<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`;
const presence = (to: string, type: string): string => `<presence to='${to}' type='${type}'/>`;
const isPresence = (from: string, type: string | undefined) => (el: Element): boolean =>
  el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;

/** What one side's stored item for the other says, in one word: `both`, `none+ask`, `-` (no item)... */
function describe(item: RosterItem | null): string {
  if (!item) return '-';
  return `${item.subscription}${item.askOut ? '+ask' : ''}${item.askIn ? '+askin' : ''}${item.approved ? '+approved' : ''}`;
}

const hasTo = (s: string): boolean => s.startsWith('to') || s.startsWith('both');
const hasFrom = (s: string): boolean => s.startsWith('from') || s.startsWith('both');
const asksOut = (s: string): boolean => /\+ask(\+|$)/.test(s);
const asksIn = (s: string): boolean => s.includes('+askin');

/**
 * Two sides agree when each sends its presence exactly where the other receives it, each
 * request waits at both ends or at neither, and no pre-approval is left over.
 */
function consistent(a: string, b: string): boolean {
  return hasTo(a) === hasFrom(b) && hasFrom(a) === hasTo(b) && asksOut(a) === asksIn(b) && asksIn(a) === asksOut(b) &&
    !a.includes('+approved') && !b.includes('+approved');
}

async function stored(): Promise<[string, string][]> {
  return Promise.all(pairs.map(async ({ a, b }) => [
    describe(await storage.roster.get(a.user, b.bare)),
    describe(await storage.roster.get(b.user, a.bare)),
  ] as [string, string]));
}

/**
 * Waits until every pair's stored rosters pass `ok` and stay as they are for one more poll
 * (or the time is up), and returns them.
 */
async function settle(ok: (a: string, b: string) => boolean): Promise<[string, string][]> {
  const deadline = Date.now() + SETTLE_MS;
  let last = '';
  for (;;) {
    const now = await stored();
    const text = JSON.stringify(now);
    if ((text === last && now.every(([a, b]) => ok(a, b))) || Date.now() > deadline) return now;
    last = text;
    await new Promise((r) => setTimeout(r, 300));
  }
}

function failures(states: [string, string][], ok: (a: string, b: string) => boolean): string[] {
  return states.flatMap(([a, b], i) => (ok(a, b) ? [] : [`ra${i}: ${a} / rb${i}: ${b}`]));
}

/** What a client is shown of an item (a roster result or push), in the words of describe(). */
function shown(item: Element | undefined): string {
  if (!item || item.attrs.subscription === 'remove') return '-';
  return `${item.attrs.subscription}${item.attrs.ask ? '+ask' : ''}${item.attrs.approved ? '+approved' : ''}`;
}

/** A client is not shown a pending inbound request, nor an item that holds nothing else. */
const agrees = (client: string, stored: string): boolean =>
  client === stored.replace('+askin', '') || (stored === 'none+askin' && client === '-');

/** What the client's own node says of the item (its cached roster). */
async function seen(side: Side, other: Side): Promise<string> {
  const result = await side.client.iq(ROSTER_GET);
  return shown(result.getChild('query')?.getChildren('item').find((i) => i.attrs.jid === other.bare));
}

/** Every client's node answers a roster get as storage says, for the other side. */
async function assertCachesAgree(states: [string, string][]): Promise<void> {
  const wrong: string[] = [];
  await Promise.all(pairs.map(async ({ a, b }, i) => {
    const [sa, sb] = states[i]!;
    const [ca, cb] = await Promise.all([seen(a, b), seen(b, a)]);
    if (!agrees(ca, sa)) wrong.push(`ra${i} node says ${ca}, storage ${sa}`);
    if (!agrees(cb, sb)) wrong.push(`rb${i} node says ${cb}, storage ${sb}`);
  }));
  assert.deepEqual(wrong, [], `${wrong.length} cached rosters differ from storage`);
}

/**
 * The last roster push each client got for the other side (since the round began) says what
 * storage says: pushes from the two nodes may not leave a client with an older state.
 */
function assertPushesAgree(states: [string, string][]): void {
  const wrong: string[] = [];
  const lastPush = (side: Side, other: Side): string | null => {
    let last: string | null = null;
    for (const el of side.client.inbox) {
      const item = el.name === 'iq' && el.attrs.type === 'set' ? el.getChild('query', 'jabber:iq:roster')?.getChild('item') : undefined;
      if (item?.attrs.jid === other.bare) last = shown(item);
    }
    return last;
  };
  pairs.forEach(({ a, b }, i) => {
    const [sa, sb] = states[i]!;
    for (const [side, other, state] of [[a, b, sa], [b, a, sb]] as const) {
      const pushed = lastPush(side, other);
      if (pushed !== null && !agrees(pushed, state)) {
        wrong.push(`${side.user} was last pushed ${pushed}, storage ${state}`);
      }
    }
  });
  assert.deepEqual(wrong, [], `${wrong.length} clients were left with a stale roster push`);
}

let statusRound = 0;

/**
 * Every client broadcasts a new status: each side must receive the other's exactly when its
 * stored item says it is subscribed to the other (to or both).
 */
async function assertPresenceFlows(states: [string, string][]): Promise<void> {
  const status = `round-${++statusRound}`;
  const withStatus = (from: string) => (el: Element): boolean =>
    isPresence(from, undefined)(el) && el.getChildText('status') === status;
  for (const { a, b } of pairs) {
    a.client.send(`<presence><status>${status}</status></presence>`);
    b.client.send(`<presence><status>${status}</status></presence>`);
  }
  const wrong: string[] = [];
  const check = async (receiver: Side, sender: Side, subscribed: boolean): Promise<void> => {
    const got = subscribed
      ? await receiver.client.expect(withStatus(sender.full), 10_000).then(() => true, () => false)
      : !(await receiver.client.nothing(withStatus(sender.full), 1_500));
    if (got !== subscribed) wrong.push(`${receiver.user} ${subscribed ? 'missed' : 'got'} ${sender.user}'s presence`);
  };
  await Promise.all(pairs.flatMap(({ a, b }, i) => {
    const [sa, sb] = states[i]!;
    return [check(a, b, hasTo(sa)), check(b, a, hasTo(sb))];
  }));
  assert.deepEqual(wrong, [], `${wrong.length} presences went against the subscriptions`);
}

const mutual = (a: string, b: string): boolean => a === 'both' && b === 'both';
const cancelled = (a: string, b: string): boolean => a === 'none' && b === 'none';

/**
 * Runs one race for every pair at once. `race` may return what shows that a pair's race is
 * over where the stored end state cannot (it is the state the round starts from).
 */
async function round(what: string, race: () => Promise<unknown>[] | void, ok: (a: string, b: string) => boolean): Promise<[string, string][]> {
  // What earlier rounds left unclaimed must not answer for this one.
  for (const c of clients) c.inbox.splice(0);
  const over = race() ?? [];
  await Promise.all(over.map((p) => p.catch(() => undefined)));
  const states = await settle(ok);
  const bad = failures(states, ok);
  assert.deepEqual(bad, [], `${what}: ${bad.length} of ${PAIRS} pairs inconsistent`);
  assertPushesAgree(states);
  await assertCachesAgree(states);
  await assertPresenceFlows(states);
  return states;
}

for (let rep = 1; rep <= REPEAT; rep++) {
  test(`run ${rep}: both sides subscribe at once and approve the request they get: both/both, no ask left, presence both ways`, async () => {
    await round('subscribe race', () => {
      for (const { a, b } of pairs) {
        // Each approves the other's request when it arrives, as a client asking the user would.
        for (const [me, other] of [[a, b], [b, a]] as const) {
          void me.client.expect(isPresence(other.bare, 'subscribe'), SETTLE_MS).then(() => me.client.send(presence(other.bare, 'subscribed')), () => undefined);
        }
      }
      for (const { a, b } of pairs) {
        a.client.send(presence(b.bare, 'subscribe'));
        b.client.send(presence(a.bare, 'subscribe'));
      }
    }, mutual);
  });

  test(`run ${rep}: both sides cancel at once (unsubscribe and unsubscribed): none/none, no presence either way`, async () => {
    await round('unsubscribe race', () => {
      for (const { a, b } of pairs) {
        a.client.send(presence(b.bare, 'unsubscribe') + presence(b.bare, 'unsubscribed'));
        b.client.send(presence(a.bare, 'unsubscribed') + presence(a.bare, 'unsubscribe'));
      }
    }, cancelled);
  });

  test(`run ${rep}: a subscribe racing the contact's unsubscribed: the two rosters agree, whichever came first`, async () => {
    const states = await round('subscribe against unsubscribed', () => {
      // A roster get waits in the account's queue behind the stanza sent before it: its
      // answer says that the node has handled that stanza.
      const over: Promise<unknown>[] = [];
      for (const { a, b } of pairs) {
        a.client.send(presence(b.bare, 'subscribe'));
        b.client.send(presence(a.bare, 'unsubscribed'));
        over.push(a.client.iq(ROSTER_GET, SETTLE_MS), b.client.iq(ROSTER_GET, SETTLE_MS));
      }
      return over;
    }, consistent);
    // The requests that arrived after the denial wait for an answer; deny them now, without a race.
    for (const [{ a, b }, [, sb]] of pairs.map((p, i) => [p, states[i]!] as const)) {
      if (sb.includes('+askin')) b.client.send(presence(a.bare, 'unsubscribed'));
    }
    assert.deepEqual(failures(await settle(cancelled), cancelled), []);
  });

  test(`run ${rep}: both sides ask and approve in advance at once: both/both, no ask or pre-approval left`, async () => {
    await round('subscribe and pre-approve race', () => {
      for (const { a, b } of pairs) {
        a.client.send(presence(b.bare, 'subscribe') + presence(b.bare, 'subscribed'));
        b.client.send(presence(a.bare, 'subscribed') + presence(a.bare, 'subscribe'));
      }
    }, mutual);
  });

  test(`run ${rep}: both sides remove each other from the roster at once: no item left on either side`, async () => {
    await round('removal race', () => {
      const remove = (jid: string): string => `<iq type='set'><query xmlns='jabber:iq:roster'><item jid='${jid}' subscription='remove'/></query></iq>`;
      return pairs.flatMap(({ a, b }) => [a.client.iq(remove(b.bare), SETTLE_MS), b.client.iq(remove(a.bare), SETTLE_MS)]);
    }, (a, b) => a === '-' && b === '-');
  });
}
