import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeCapsQuery } from './caps-query-budget.ts';

test('a session gets so many caps queries a minute, and more again as the minute passes', () => {
  const session = { data: new Map<string, unknown>() };
  const t0 = 1_000_000;
  assert.ok(takeCapsQuery(session, 3, t0));
  assert.ok(takeCapsQuery(session, 3, t0 + 10_000));
  assert.ok(takeCapsQuery(session, 3, t0 + 20_000));
  assert.equal(takeCapsQuery(session, 3, t0 + 30_000), false, 'a fourth within the minute');
  assert.equal(takeCapsQuery(session, 3, t0 + 59_999), false, 'the first is not a minute old yet');
  assert.ok(takeCapsQuery(session, 3, t0 + 60_000), 'the first has left the window');
  assert.equal(takeCapsQuery(session, 3, t0 + 60_001), false);
  // A long-lived session changing its caps now and then never runs out.
  for (let i = 0; i < 100; i++) assert.ok(takeCapsQuery(session, 3, t0 + 200_000 + i * 30_000));
  assert.ok((session.data.get('pep/caps-queries') as number[]).length <= 3, 'what is kept is bounded by the budget');
});

test('a budget of 0 allows no caps query', () => {
  assert.equal(takeCapsQuery({ data: new Map() }, 0), false);
});
