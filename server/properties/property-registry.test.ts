import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../log.ts';
import type { LogFields } from '../log.ts';
import type { PropertyRepository, PropertyRow } from '../storage/types.ts';
import { defineKnownProperties } from '../known-properties.ts';
import { defineCoreProperties } from './core-properties.ts';
import { PropertyRegistry, UnknownPropertyError } from './property-registry.ts';
import { PropertyValueError } from './types.ts';
import type { PropertyDefinition } from './types.ts';

/** The PropertyRepository contract in memory, with a switch to make it fail like a lost database. */
class MemoryRepository implements PropertyRepository {
  rows = new Map<string, PropertyRow>();
  changes = 0;
  down = false;
  /** When set, all() waits for it before reading. */
  gate: Promise<void> | null = null;

  private check(): void {
    if (this.down) throw new Error('database is down');
  }
  async all() {
    const snapshot = [...this.rows.values()];
    await this.gate;
    this.check();
    return snapshot;
  }
  async get(name: string) {
    this.check();
    return this.rows.get(name) ?? null;
  }
  async set(name: string, value: string) {
    this.check();
    this.rows.set(name, { name, value, updatedAt: new Date() });
    this.changes++;
  }
  async unset(name: string) {
    this.check();
    const had = this.rows.delete(name);
    if (had) this.changes++;
    return had;
  }
  async fingerprint() {
    this.check();
    return `${this.rows.size}:${this.changes}`;
  }
}

class RecordingLogger extends Logger {
  readonly lines: string[] = [];
  constructor() {
    super('test');
  }
  override warn(msg: string, fields?: LogFields): void {
    this.lines.push(`warn ${msg} ${fields?.property ?? ''}`.trim());
  }
  override error(msg: string, fields?: LogFields): void {
    this.lines.push(`error ${msg} ${fields?.property ?? ''}`.trim());
  }
  override info(msg: string): void {
    this.lines.push(`info ${msg}`);
  }
}

const maxPerUser: PropertyDefinition<number> = {
  name: 'xmpp.offline.max-per-user',
  type: 'integer',
  default: 100,
  min: 0,
  max: 1000000,
  description: 'offline limit',
  live: true,
};

function registry(repo = new MemoryRepository(), log = new RecordingLogger()) {
  return { repo, log, reg: new PropertyRegistry(repo, log) };
}

async function rejectsWithMessage(p: Promise<unknown>, type: new (...a: never[]) => Error, message: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

test('a defined property starts at its default, or at the stored value once loaded', async () => {
  const { repo, reg } = registry();
  await repo.set('xmpp.offline.max-per-user', '7');
  const p = reg.define(maxPerUser);
  assert.equal(p.value, 100);
  await reg.load();
  assert.equal(p.value, 7);
  // Defined after load: takes the stored value straight away.
  await repo.set('late.flag', 'true');
  await reg.load();
  assert.equal(reg.define<boolean>({ name: 'late.flag', type: 'boolean', default: false, description: '', live: true }).value, true);
});

test('defining twice: same definition gives the same handle, a different one is an error until undefined', () => {
  const { reg } = registry();
  const a = reg.define(maxPerUser);
  assert.equal(reg.define({ ...maxPerUser }), a);
  assert.throws(() => reg.define({ ...maxPerUser, max: 5000 }), /property xmpp.offline.max-per-user is already defined differently/);
  reg.undefine(maxPerUser.name);
  assert.equal(reg.get(maxPerUser.name)?.definition, maxPerUser, 'defined twice: one undefine leaves the other');
  reg.undefine(maxPerUser.name);
  assert.equal(reg.get(maxPerUser.name), undefined);
  assert.equal(reg.define({ ...maxPerUser, max: 5000 }).definition.max, 5000);
});

test('definitions that contradict themselves are refused', () => {
  const { reg } = registry();
  assert.throws(() => reg.define({ ...maxPerUser, default: 5, min: 10 }), /default does not pass its own checks/);
  assert.throws(() => reg.define({ ...maxPerUser, name: 'Bad Name' }), /invalid definition of property Bad Name/);
  assert.throws(() => reg.define<number>({ ...maxPerUser, type: 'boolean' }), /default 100 is not a boolean/);
  assert.throws(() => reg.define({ ...maxPerUser, min: 10, max: 1, default: 5 }), /minimum 10 is above maximum 1/);
});

test('set checks type and bounds, naming what is broken', async () => {
  const { repo, reg } = registry();
  reg.define(maxPerUser);
  reg.define<number>({ name: 'a.timeout', type: 'duration', default: 30, description: '', live: true });
  reg.define<boolean>({ name: 'a.flag', type: 'boolean', default: false, description: '', live: true });
  reg.define<string>({ name: 'a.mode', type: 'string', default: 'x', choices: ['x', 'y'], description: '', live: false });
  const cases: [string, string, string][] = [
    ['xmpp.offline.max-per-user', '100000000', 'property xmpp.offline.max-per-user: 100000000 is above the maximum 1000000'],
    ['xmpp.offline.max-per-user', '-1', 'property xmpp.offline.max-per-user: -1 is below the minimum 0'],
    ['xmpp.offline.max-per-user', '1.5', 'property xmpp.offline.max-per-user: "1.5" is not an integer'],
    ['xmpp.offline.max-per-user', '', 'property xmpp.offline.max-per-user: "" is not an integer'],
    ['a.timeout', '30s', 'property a.timeout: "30s" is not a whole number of seconds'],
    ['a.timeout', '-5', 'property a.timeout: -5 is below the minimum 0'],
    ['a.flag', 'yes', 'property a.flag: "yes" is not true or false'],
    ['a.flag', 'TRUE', 'property a.flag: "TRUE" is not true or false'],
    ['a.mode', 'z', 'property a.mode: "z" is not one of x, y'],
  ];
  for (const [name, raw, message] of cases) await rejectsWithMessage(reg.set(name, raw), PropertyValueError, message);
  assert.equal(repo.rows.size, 0, 'nothing invalid was stored');
});

test('set stores canonical text, updates the cache and fires listeners once per change', async () => {
  const { repo, reg } = registry();
  const p = reg.define(maxPerUser);
  const seen: number[] = [];
  const off = p.onChange((v) => seen.push(v));
  const info = await reg.set('xmpp.offline.max-per-user', ' 0250 ');
  assert.equal(repo.rows.get('xmpp.offline.max-per-user')?.value, '250');
  assert.equal(p.value, 250);
  assert.deepEqual({ ...info, definition: info.definition?.name }, {
    name: 'xmpp.offline.max-per-user', definition: 'xmpp.offline.max-per-user', value: 250, stored: '250', isDefault: false, problem: null,
  });
  await reg.set('xmpp.offline.max-per-user', '250');
  assert.deepEqual(seen, [250], 'no event when the value does not change');
  off();
  await reg.set('xmpp.offline.max-per-user', '3');
  assert.deepEqual(seen, [250], 'no event after unsubscribing');
});

test('unset goes back to the default', async () => {
  const { repo, reg } = registry();
  const p = reg.define(maxPerUser);
  const seen: number[] = [];
  p.onChange((v) => seen.push(v));
  await reg.set(maxPerUser.name, '5');
  assert.equal(await reg.unset(maxPerUser.name), true);
  assert.equal(await reg.unset(maxPerUser.name), false);
  assert.equal(p.value, 100);
  assert.equal(repo.rows.size, 0);
  assert.deepEqual(seen, [5, 100]);
  assert.equal(reg.get(maxPerUser.name)?.isDefault, true);
});

test('unknown names need force; their values are kept for a definition that comes later', async () => {
  const { repo, reg } = registry();
  await rejectsWithMessage(reg.set('xmpp.ofline.max-per-user', '5'), UnknownPropertyError, "unknown property 'xmpp.ofline.max-per-user'");
  assert.equal(repo.rows.size, 0);
  await reg.set('plugin.x.limit', '12', { force: true });
  assert.deepEqual(reg.get('plugin.x.limit'), { name: 'plugin.x.limit', definition: null, value: '12', stored: '12', isDefault: false, problem: null });
  const p = reg.define<number>({ name: 'plugin.x.limit', type: 'integer', default: 1, description: '', live: true });
  assert.equal(p.value, 12);
  assert.equal(reg.get('nothing.here'), undefined);
});

test('an invalid stored value falls back to the default, says why once, and is listed as such', async () => {
  const { repo, log, reg } = registry();
  await repo.set(maxPerUser.name, 'lots');
  await reg.load();
  const p = reg.define(maxPerUser);
  assert.equal(p.value, 100);
  const info = reg.get(maxPerUser.name)!;
  assert.equal(info.stored, 'lots');
  assert.equal(info.isDefault, true);
  assert.equal(info.problem, 'property xmpp.offline.max-per-user: "lots" is not an integer');
  await reg.load();
  assert.deepEqual(log.lines, ['warn stored property value is invalid; using the default xmpp.offline.max-per-user']);
});

test('list covers defined and stored-only properties, by name', async () => {
  const { repo, reg } = registry();
  await repo.set('zzz.orphan', 'v');
  await reg.load();
  defineKnownProperties(reg);
  const list = reg.list();
  const names = list.map((i) => i.name);
  assert.deepEqual(names, [...names].sort());
  for (const name of ['xmpp.auth.scram.iterations', 'xmpp.offline.max-per-user', 'xmpp.register.inband.enabled']) assert.ok(names.includes(name), name);
  assert.equal(names.at(-1), 'zzz.orphan');
  assert.ok(list.every((i) => i.name === 'zzz.orphan' ? i.definition === null : i.isDefault && i.value === i.definition!.default));
});

test('core properties have the documented defaults and bounds', async () => {
  const { reg } = registry();
  const core = defineCoreProperties(reg);
  assert.equal(core.scramIterations.value, 4096);
  assert.equal(core.authMaxFailures.value, 5);
  assert.equal(core.pluginsScanInterval.value, 10);
  await rejectsWithMessage(reg.set('xmpp.auth.scram.iterations', '1000'), PropertyValueError, 'property xmpp.auth.scram.iterations: 1000 is below the minimum 4096');
  await rejectsWithMessage(reg.set('xmpp.session.max-per-user', '100001'), PropertyValueError, 'property xmpp.session.max-per-user: 100001 is above the maximum 100000');
  // Calling it again (the server after the CLI, a reload) is harmless.
  assert.equal(defineCoreProperties(reg).scramIterations, core.scramIterations);
});

test('a change made through another registry reaches this one by polling', async () => {
  const repo = new MemoryRepository();
  const a = registry(repo);
  const b = registry(repo);
  const pa = a.reg.define(maxPerUser);
  const pb = b.reg.define(maxPerUser);
  await Promise.all([a.reg.load(), b.reg.load()]);
  const seen: number[] = [];
  pb.onChange((v) => seen.push(v));
  b.reg.startPolling(10);
  try {
    await a.reg.set(maxPerUser.name, '42');
    await waitFor(() => seen.length === 1);
    assert.equal(pb.value, 42);
    await a.reg.unset(maxPerUser.name);
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, [42, 100]);
    assert.equal(pa.value, 100);
  } finally {
    await b.reg.stopPolling();
  }
});

test('polling survives a database outage, keeping the cached value, and says so once', async () => {
  const { repo, log, reg } = registry();
  const p = reg.define(maxPerUser);
  await repo.set(maxPerUser.name, '9');
  await reg.load();
  repo.down = true;
  reg.startPolling(5);
  try {
    await sleep(50);
    assert.equal(p.value, 9);
    assert.deepEqual(log.lines, ['warn cannot poll properties; keeping cached values']);
    repo.down = false;
    await repo.set(maxPerUser.name, '10');
    await waitFor(() => p.value === 10);
    assert.deepEqual(log.lines.slice(1), ['info property polling recovered']);
  } finally {
    await reg.stopPolling();
  }
});

test('a reload that raced with a local write does not undo it', async () => {
  const { repo, reg } = registry();
  const p = reg.define(maxPerUser);
  let open!: () => void;
  repo.gate = new Promise((resolve) => (open = resolve));
  const loading = reg.load(); // reads the rows as they are now (nothing stored), then waits
  await reg.set(maxPerUser.name, '77');
  repo.gate = null;
  open();
  await loading;
  assert.equal(p.value, 77);
});

test('a failing listener does not stop the others', async () => {
  const { log, reg } = registry();
  const p = reg.define(maxPerUser);
  const seen: number[] = [];
  p.onChange(() => {
    throw new Error('boom');
  });
  p.onChange((v) => seen.push(v));
  await reg.set(maxPerUser.name, '1');
  assert.deepEqual(seen, [1]);
  assert.deepEqual(log.lines, ['error property change listener failed xmpp.offline.max-per-user']);
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await sleep(5);
  }
}
