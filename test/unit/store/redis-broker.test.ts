import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { RedisBroker } from '../../../src/store/redis/broker.ts';
import { createRedisStores } from '../../../src/store/redis/index.ts';
import type { CommittedMessage, ControlEvent, OutgoingMessage, Stores } from '../../../src/store/types.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.ts';
import { waitFor } from '../../helpers/wait-for.ts';

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

function out(channel: string, n: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    subscribeKey: SUB,
    channel,
    publisher: 'alice',
    payload: JSON.stringify({ n }),
    meta: null,
    customMessageType: null,
    type: 0,
    store: true,
    expiresAtMs: null,
    ...extra,
  };
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
  test('interleaved commits from two nodes: one order everywhere, timetokens strictly increasing per channel', async (t) => {
    // Node b's clock runs 1 s behind: per-channel order must still hold, via max(now, last + 1).
    const { a, b, stores } = await twoNodes(t, [undefined, { nowMs: () => Date.now() - 1000 }]);
    const committed = new Map<string, OutgoingMessage>();
    const id = (m: { subscribeKey: string; channel: string }, tt: bigint) => `${m.subscribeKey}/${m.channel}/${tt}`;
    let total = 0;
    for (let round = 0; round < 50; round++) {
      const fromA = [out('c1', round), out('c2', round, { store: false }), out('c1', round + 1000)];
      const fromB = [out('c2', round + 2000), out('c1', round + 3000, { store: round % 2 === 0 }), out('c3', round, { subscribeKey: 'sub-b' })];
      const [ttsA, ttsB] = await Promise.all([a.broker.commit(fromA), b.broker.commit(fromB)]);
      fromA.forEach((m, i) => committed.set(id(m, ttsA[i]), m));
      fromB.forEach((m, i) => committed.set(id(m, ttsB[i]), m));
      total += fromA.length + fromB.length;
    }
    assert.equal(committed.size, total, 'a timetoken repeated on a channel');
    await waitFor(() => received(a) === total && received(b) === total, 'both nodes to receive every message');

    const flat = (n: Node) => n.batches.flat().map((m) => `${m.subscribeKey}/${m.channel}/${m.timetoken}/${m.payload}`);
    assert.deepEqual(flat(a), flat(b), 'the nodes saw different orders');
    const lastByChannel = new Map<string, bigint>();
    for (const m of a.batches.flat()) {
      const key = `${m.subscribeKey}/${m.channel}`;
      const last = lastByChannel.get(key);
      assert.ok(last === undefined || m.timetoken > last, `${key}: ${m.timetoken} after ${last}`);
      lastByChannel.set(key, m.timetoken);
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

  test('timetokens beyond 2^53 are exact: now * 10^4, then +1 with carry, never below the last one', async (t) => {
    const prefix = uniqueRedisPrefix();
    let nowMs = 1_700_000_000_123;
    const broker = node(t, prefix, `x-${prefix}`, { nowMs: () => nowMs }).broker;
    t.after(() => deleteKeysWithPrefix(admin, prefix));
    assert.deepEqual(await broker.commit([out('c', 1), out('c', 2), out('d', 3)]), [17_000_000_001_230_000n, 17_000_000_001_230_001n, 17_000_000_001_230_000n]);
    await admin.hset(`${prefix}:{${SUB}}:lasttt`, 'c', '0017000000009999999');
    nowMs = 1;
    assert.deepEqual(await broker.commit([out('c', 4), out('c', 5)]), [17_000_000_010_000_000n, 17_000_000_010_000_001n]);
    nowMs = 1_800_000_000_000;
    assert.deepEqual(await broker.commit([out('c', 6)]), [18_000_000_000_000_000n]);
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
