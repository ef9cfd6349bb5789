import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { RedisBroker } from '../../../src/store/redis/broker.ts';
import { createRedisStores } from '../../../src/store/redis/index.ts';
import type { CommittedMessage, ControlEvent, OutgoingMessage, Stores } from '../../../src/store/types.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { outgoing } from '../../helpers/outgoing.ts';

const admin = adminClient();
after(() => admin.quit());

const SUB = 'sub-a';

interface Node {
  broker: RedisBroker;
  batches: CommittedMessage[][];
  controls: ControlEvent[];
  resyncs: number;
}

function node(t: TestContext, prefix: string, nodeId: string, clock?: { nowMs(): number }): Node {
  const broker = new RedisBroker({ url: REDIS_URL, prefix, nodeId, clock, healthCheckIntervalMs: 200 });
  t.after(() => broker.close());
  const n: Node = { broker, batches: [], controls: [], resyncs: 0 };
  broker.onMessages((batch) => n.batches.push([...batch]));
  broker.onControl((event) => n.controls.push(event));
  broker.onResync(() => n.resyncs++);
  return n;
}

/** Two nodes on one fresh prefix, both connected and subscribed; all keys are deleted afterwards. */
async function twoNodes(
  t: TestContext,
  clocks: [{ nowMs(): number }?, { nowMs(): number }?] = [],
): Promise<{ a: Node; b: Node; stores: Stores; prefix: string }> {
  const prefix = uniqueRedisPrefix();
  const stores = createRedisStores({ url: REDIS_URL, prefix });
  t.after(() => stores.close());
  const a = node(t, prefix, `a-${prefix}`, clocks[0]);
  const b = node(t, prefix, `b-${prefix}`, clocks[1]);
  // After hooks run in registration order: every connection is closed before the keys go.
  t.after(() => deleteKeysWithPrefix(admin, prefix));
  await Promise.all([a.broker.ready(), b.broker.ready()]);
  return { a, b, stores, prefix };
}

const out = (channel: string, n: number, extra?: Partial<OutgoingMessage>): OutgoingMessage => outgoing(SUB, channel, n, extra);

/** Redis's clock now, as a timetoken (100 ns units). */
async function redisTimetoken(): Promise<bigint> {
  const [seconds, micros] = await admin.time();
  return BigInt(seconds) * 10_000_000n + BigInt(micros) * 10n;
}

function received(n: Node): number {
  return n.batches.reduce((sum, b) => sum + b.length, 0);
}

/** CLIENT LIST id of the connection with that name (the broker names its links parley-cmd-/parley-sub-<nodeId>). */
async function clientId(name: string, type: 'normal' | 'pubsub'): Promise<string> {
  const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', type));
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = /(?:^|\s)id=(\d+)/.exec(line ?? '')?.[1];
  assert.ok(id !== undefined, `no ${type} connection named ${name}`);
  return id;
}

/** What only the Redis engine has: clock skew between nodes, 64-bit timetoken arithmetic, lost links. The Broker contract (test/contract/broker.contract.ts) covers the rest. */
describe('RedisBroker', () => {
  test('interleaved commits from two nodes: one order everywhere, timetokens strictly increasing per keyset', async (t) => {
    // Node b's clock runs 1 s behind: the order must still hold, via max(now, last + 1).
    const { a, b, stores } = await twoNodes(t, [undefined, { nowMs: () => Date.now() - 1000 }]);
    const committed = new Map<string, OutgoingMessage>();
    const id = (m: { subscribeKey: string; channel: string }, tt: bigint) => `${m.subscribeKey}/${m.channel}/${tt}`;
    let total = 0;
    for (let round = 0; round < 50; round++) {
      const fromA = [out('c1', round), out('c2', round, { store: false }), out('c1', round + 1000)];
      const fromB = [out('c2', round + 2000), out('c1', round + 3000, { store: round % 2 === 0 }), out('c3', round, { subscribeKey: 'sub-b' })];
      const [ttsA, ttsB] = await Promise.all([a.broker.commit(fromA), b.broker.commit(fromB)]);
      for (const [i, m] of fromA.entries()) committed.set(id(m, ttsA[i]), m);
      for (const [i, m] of fromB.entries()) committed.set(id(m, ttsB[i]), m);
      total += fromA.length + fromB.length;
    }
    assert.equal(committed.size, total, 'a timetoken repeated on a channel');
    await waitFor(() => received(a) === total && received(b) === total, 'both nodes to receive every message');

    const flat = (n: Node) => n.batches.flat().map((m) => `${m.subscribeKey}/${m.channel}/${m.timetoken}/${m.payload}`);
    assert.deepEqual(flat(a), flat(b), 'the nodes saw different orders');
    // Across the keyset's channels, not only within each: a cursor past one channel's message is past nothing still to come.
    const lastByKeyset = new Map<string, bigint>();
    for (const m of a.batches.flat()) {
      const last = lastByKeyset.get(m.subscribeKey);
      assert.ok(last === undefined || m.timetoken > last, `${m.subscribeKey}/${m.channel}: ${m.timetoken} after ${last}`);
      lastByKeyset.set(m.subscribeKey, m.timetoken);
      const sent = committed.get(id(m, m.timetoken));
      assert.ok(sent !== undefined);
      assert.deepEqual({ ...m, timetoken: undefined }, { ...sent, timetoken: undefined });
    }

    const history = await stores.messages.query({ subscribeKey: SUB, channels: ['c1', 'c2'], range: {}, limit: 1000, keep: 'oldest', nowMs: Date.now() });
    const expected = [...committed]
      .filter(([, m]) => m.store && m.subscribeKey === SUB)
      .map(([key, m]) => ({ m, tt: BigInt(key.slice(key.lastIndexOf('/') + 1)) }))
      .sort((x, y) => (x.tt === y.tt ? (x.m.channel < y.m.channel ? -1 : 1) : x.tt < y.tt ? -1 : 1))
      .map(({ m, tt }) => `${m.channel}/${tt}/${m.payload}`);
    assert.deepEqual(
      history.map((m) => `${m.channel}/${m.timetoken}/${m.payload}`),
      expected,
    );
    assert.equal(history[0].publisher, 'alice');
  });

  test('timetokens beyond 2^53 are exact: now * 10^4, then +1 with carry across the keyset, never below the last one', async (t) => {
    const prefix = uniqueRedisPrefix();
    // Far ahead of Redis's clock (2096), so the node's clock is the floor.
    let nowMs = 4_000_000_000_123;
    const broker = node(t, prefix, `x-${prefix}`, { nowMs: () => nowMs }).broker;
    t.after(() => deleteKeysWithPrefix(admin, prefix));
    assert.deepEqual(await broker.commit([out('c', 1), out('c', 2), out('d', 3)]), [40_000_000_001_230_000n, 40_000_000_001_230_001n, 40_000_000_001_230_002n]);
    assert.deepEqual(await broker.commit([out('d', 4), out('other', 4, { subscribeKey: 'sub-b' })]), [40_000_000_001_230_003n, 40_000_000_001_230_000n]);
    await admin.set(`${prefix}:{${SUB}}:last`, '0040000000019999999');
    nowMs = 1;
    assert.deepEqual(await broker.commit([out('e', 5), out('c', 6)]), [40_000_000_020_000_000n, 40_000_000_020_000_001n]);
    nowMs = 5_000_000_000_000;
    assert.deepEqual(await broker.commit([out('c', 7)]), [50_000_000_000_000_000n]);
    assert.equal(await admin.get(`${prefix}:{${SUB}}:last`), '0050000000000000000');
    assert.equal(await admin.exists(`${prefix}:{${SUB}}:lasttt`), 0, 'no per-channel record any more');
  });

  test("Redis's clock is a floor: a node whose clock is far behind stamps Redis's time, not its own", async (t) => {
    const prefix = uniqueRedisPrefix();
    const broker = node(t, prefix, `x-${prefix}`, { nowMs: () => 1_000_000_000_000 }).broker;
    t.after(() => deleteKeysWithPrefix(admin, prefix));
    const before = await redisTimetoken();
    const tts = await broker.commit([out('c', 1), out('d', 2)]);
    const after = await redisTimetoken();
    assert.ok(before <= tts[0] && tts[0] <= after, `${tts[0]} outside Redis's clock [${before}, ${after}]`);
    assert.equal(tts[1], tts[0] + 1n);
  });

  test("the per-channel last timetokens of an older deployment are folded into the keyset's once: the first commit is above all of them", async (t) => {
    const prefix = uniqueRedisPrefix();
    const broker = node(t, prefix, `x-${prefix}`, { nowMs: () => 1 }).broker;
    t.after(() => deleteKeysWithPrefix(admin, prefix));
    await admin.hset(`${prefix}:{${SUB}}:lasttt`, { c: '0045000000000000007', d: '0045000000000000009', e: '0017000000000000000' });
    assert.deepEqual(await broker.commit([out('c', 1), out('new', 2)]), [45_000_000_000_000_010n, 45_000_000_000_000_011n]);
    assert.equal(await admin.exists(`${prefix}:{${SUB}}:lasttt`), 0);
    assert.equal(await admin.get(`${prefix}:{${SUB}}:last`), '0045000000000000011');
    assert.deepEqual(await broker.commit([out('e', 3)]), [45_000_000_000_000_012n]);
  });

  test('a handshake cut: every message committed before it is at or below it, every one committed after it above it, whichever clock', async (t) => {
    const { a, b, prefix } = await twoNodes(t, [{ nowMs: () => Date.now() + 1000 }, { nowMs: () => Date.now() - 1000 }]);
    // A third node, on the real clock, reads the cuts.
    const cuts = node(t, prefix, `c-${prefix}`).broker;
    const before = await redisTimetoken();
    const fresh = await cuts.handshakeTimetoken(SUB);
    const after = await redisTimetoken();
    assert.ok(before - 1n <= fresh && fresh < after, `a fresh keyset's cut ${fresh} is Redis's time [${before}, ${after}]`);
    assert.match(String(fresh), /^\d{17}$/);
    let cut = fresh;
    for (let round = 0; round < 10; round++) {
      // The node ahead, then the node behind, on different channels: each commit is above the cut read before it.
      const [ahead] = await a.broker.commit([out(`ahead-${round % 3}`, round)]);
      assert.ok(ahead > cut, `round ${round}: ${ahead} (node ahead) not above the cut ${cut}`);
      cut = await cuts.handshakeTimetoken(SUB);
      assert.ok(cut >= ahead, `round ${round}: the cut ${cut} is below ${ahead}, committed before it`);
      const [behind] = await b.broker.commit([out(`behind-${round % 3}`, round, { store: false })]);
      assert.ok(behind > cut, `round ${round}: ${behind} (node behind) not above the cut ${cut}`);
      cut = await cuts.handshakeTimetoken(SUB);
      assert.ok(cut >= behind);
    }
    // Another keyset's cut is its own: Redis's time, not the ahead node's last timetoken here.
    const other = await cuts.handshakeTimetoken('sub-other');
    assert.ok(other < cut, `${other} should be below ${cut}`);
  });

  test('handshakes that arrive while a cut is read share it; an unreachable Redis rejects with STORE_UNAVAILABLE', async (t) => {
    const { a: cuts } = await twoNodes(t).then(({ a }) => ({ a: a.broker }));
    const [x, y] = await Promise.all([cuts.handshakeTimetoken(SUB), cuts.handshakeTimetoken(SUB)]);
    assert.equal(x, y);
    assert.ok((await cuts.handshakeTimetoken(SUB)) > x, 'a later handshake reads a later cut');
    const down = new RedisBroker({ url: 'redis://127.0.0.1:1', prefix: uniqueRedisPrefix(), connectTimeoutMs: 300 });
    t.after(() => down.close());
    await assert.rejects(Promise.resolve(down.handshakeTimetoken(SUB)), { code: 'STORE_UNAVAILABLE' });
  });

  test('a batch spanning keysets commits whole; presence-style events without publisher are kept as null', async (t) => {
    const { a, b, stores } = await twoNodes(t);
    const batch = [
      out('x', 1),
      out('x', 2, { subscribeKey: 'sub-b' }),
      out('x-pnpres', 3, { publisher: null, store: false }),
      out('x', 4, { expiresAtMs: Date.now() + 60_000 }),
    ];
    const tts = await a.broker.commit(batch);
    assert.ok(tts[0] < tts[3]);
    await waitFor(() => received(b) === 4, 'node b to receive the batch');
    assert.deepEqual(b.batches.flat().find((m) => m.channel === 'x-pnpres')?.publisher, null);
    const inA = await stores.messages.query({ subscribeKey: SUB, channels: ['x', 'x-pnpres'], range: {}, limit: 10, keep: 'newest', nowMs: Date.now() });
    assert.deepEqual(
      inA.map((m) => m.timetoken),
      [tts[0], tts[3]],
    );
    assert.equal(await stores.messages.count('sub-b', 'x', {}, 10, Date.now()), 1);
    assert.deepEqual(await a.broker.commit([]), []);
  });

  test('a killed subscriber connection: unhealthy, then resubscribed, healthy, and onResync fires', async (t) => {
    const { a, b } = await twoNodes(t);
    assert.equal(a.broker.isHealthy(), true);
    const id = await clientId(`parley-sub-${a.broker.nodeId}`, 'pubsub');
    await admin.call('CLIENT', 'KILL', 'ID', id);
    await waitFor(() => !a.broker.isHealthy(), 'node a to turn unhealthy', 2000);
    await waitFor(() => a.broker.isHealthy(), 'node a to recover', 5000);
    assert.equal(a.resyncs, 1);
    assert.equal(b.resyncs, 0);
    assert.notEqual(await clientId(`parley-sub-${a.broker.nodeId}`, 'pubsub'), id);
    await b.broker.commit([out('after', 1)]);
    await b.broker.broadcast({ kind: 'group-changed', subscribeKey: SUB, group: 'g' });
    await waitFor(() => received(a) === 1 && a.controls.length === 1, 'node a to receive again');
  });

  test('a killed command connection: unhealthy, then healthy again, without a resync', async (t) => {
    const { a } = await twoNodes(t);
    const id = await clientId(`parley-cmd-${a.broker.nodeId}`, 'normal');
    await admin.call('CLIENT', 'KILL', 'ID', id);
    await waitFor(() => !a.broker.isHealthy(), 'node a to turn unhealthy', 2000);
    await waitFor(() => a.broker.isHealthy(), 'node a to recover', 5000);
    assert.equal(a.resyncs, 0);
    assert.equal((await a.broker.commit([out('c', 1)])).length, 1);
  });

  test('with Redis unreachable: not healthy, ready() and commit reject with STORE_UNAVAILABLE', async (t) => {
    const broker = new RedisBroker({ url: 'redis://127.0.0.1:1', prefix: uniqueRedisPrefix(), connectTimeoutMs: 500 });
    t.after(() => broker.close());
    assert.equal(broker.isHealthy(), false);
    await assert.rejects(broker.ready(300), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(broker.commit([out('c', 1)]), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(broker.broadcast({ kind: 'grants-changed', subscribeKey: SUB }), { code: 'STORE_UNAVAILABLE' });
  });
});
