import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { createFakeClock, createJumpingClock } from '../helpers/fake-clock.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { OPEN_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';

/**
 * No message is lost to a subscriber because timetokens come from different clocks (docs/redis.md
 * §Ordering): a handshake cursor is a cut of the keyset's commit order, and every commit of a keyset
 * is later than every one before it, whichever node's clock stamped it. In-process nodes on one
 * Redis prefix, each with a clock of its own; raw subscribe polls, so every cursor is the test's.
 */

const PUB = OPEN_KEYSET.publishKey;
const SUB = OPEN_KEYSET.subscribeKey;
/** Skew between the nodes' clocks: large, so a publish lands inside it however slow the machine is. */
const SKEW_MS = 10_000;

interface Envelope {
  c: string;
  d: { n?: number; fence?: boolean };
  p: { t: string };
}

/** Nodes of one deployment (the Redis engine, one fresh prefix), one per clock; stopped and cleaned up after the test. */
async function deployment(t: TestContext, clocks: Clock[]): Promise<TestServer[]> {
  const prefix = uniqueRedisPrefix();
  const nodes: TestServer[] = [];
  try {
    for (const clock of clocks) {
      nodes.push(await startServer({ clock, keysets: [OPEN_KEYSET], overrides: { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix } } }));
    }
  } finally {
    // After hooks run in registration order: the nodes stop before their keys go.
    t.after(async () => {
      for (const node of nodes) await node.stop();
      const redis = adminClient();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    });
  }
  return nodes;
}

/** One subscribe request: a handshake without `tt`, else a long-poll from `tt` (bounded: a poll that parks fails the test). */
async function subscribe(node: TestServer, channels: string[], tt?: string): Promise<{ t: string; m: Envelope[] }> {
  const cursor = tt === undefined ? '' : `&tt=${tt}&tr=1`;
  const res = await fetch(`${node.url}/v2/subscribe/${SUB}/${channels.join(',')}/0?uuid=watcher${cursor}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { t: { t: string }; m: Envelope[] };
  assert.match(body.t.t, /^\d{17}$/, 'a cursor is a 17-digit timetoken');
  return { t: body.t.t, m: body.m };
}

async function publish(node: TestServer, channel: string, message: Envelope['d']): Promise<string> {
  const res = await fetch(`${node.url}/publish/${PUB}/${SUB}/0/${channel}/0/${encodeURIComponent(JSON.stringify(message))}?uuid=publisher`);
  const body = (await res.json()) as [number, string, string];
  assert.equal(body[1], 'Sent');
  return body[2];
}

/** Long-polls from `cursor` until a fence message arrives; everything received on the way, and the cursor after it. */
async function receiveUntilFence(node: TestServer, channels: string[], cursor: string): Promise<{ got: Envelope[]; cursor: string }> {
  const got: Envelope[] = [];
  for (let poll = 0; poll < 20; poll++) {
    const answer = await subscribe(node, channels, cursor);
    got.push(...answer.m);
    cursor = answer.t;
    if (answer.m.some((e) => e.d.fence === true)) return { got, cursor };
  }
  throw new Error(`no fence after 20 polls; got ${JSON.stringify(got)}`);
}

/** Counts the node's history reads from here on: a poll whose cursor memory covers reads none. */
function historyReads(node: TestServer): () => number {
  const store = node.parley.services.messages;
  const query = store.query.bind(store);
  let reads = 0;
  store.query = (q) => {
    reads++;
    return query(q);
  };
  return () => reads;
}

const describe = (envs: Envelope[]): string[] => envs.map((e) => `${e.c}:${e.d.fence ? 'fence' : e.d.n}`);

function assertAscending(envs: Envelope[]): void {
  for (let i = 1; i < envs.length; i++) assert.ok(BigInt(envs[i].p.t) > BigInt(envs[i - 1].p.t), `delivered out of order: ${JSON.stringify(envs)}`);
}

test('(1) same millisecond: a message committed in the millisecond of the handshake is delivered', async (t) => {
  // Frozen an hour ahead of real time: every timetoken the node stamps falls in that one millisecond.
  const clock = createFakeClock(Date.now() + 3_600_000);
  const [a] = await deployment(t, [clock]);
  for (let round = 0; round < 3; round++) {
    const channel = `same-ms-${round}`;
    const { t: cursor } = await subscribe(a, [channel]);
    const tt = await publish(a, channel, { n: round });
    await publish(a, channel, { fence: true });
    const { got } = await receiveUntilFence(a, [channel], cursor);
    assert.deepEqual(describe(got), [`${channel}:${round}`, `${channel}:fence`], `cursor ${cursor}, message ${tt}`);
  }
});

test('(1) same millisecond on the memory engine: the one-generator broker stays correct', async (t) => {
  const clock = createFakeClock(Date.now() + 3_600_000);
  const a = await startServer({ clock, store: 'memory', keysets: [OPEN_KEYSET] });
  t.after(() => a.stop());
  for (let round = 0; round < 3; round++) {
    const channel = `same-ms-${round}`;
    const { t: cursor } = await subscribe(a, [channel]);
    await publish(a, channel, { n: round });
    await publish(a, channel, { fence: true });
    const { got } = await receiveUntilFence(a, [channel], cursor);
    assert.deepEqual(describe(got), [`${channel}:${round}`, `${channel}:fence`]);
  }
});

test('(2) clock skew: a message published on a node whose clock is behind reaches a subscriber that handshook on the node ahead', async (t) => {
  const ahead = createJumpingClock();
  const behind = createJumpingClock();
  behind.set(Date.now() - SKEW_MS);
  const [a, b] = await deployment(t, [ahead, behind]);
  const reads = historyReads(a);
  for (let round = 0; round < 3; round++) {
    const channel = `skew-${round}`;
    const { t: cursor } = await subscribe(a, [channel]);
    const tt = await publish(b, channel, { n: round });
    await publish(a, channel, { fence: true });
    const { got } = await receiveUntilFence(a, [channel], cursor);
    assert.deepEqual(describe(got), [`${channel}:${round}`, `${channel}:fence`], `handshake cursor ${cursor} (A), message ${tt} (B)`);
    assertAscending(got);
  }
  assert.equal(reads(), 0, 'the polls were answered from memory');
});

test('(3) skew with two channels: after a message from the node ahead, one from the node behind on the other channel still arrives', async (t) => {
  const behind = createJumpingClock();
  const ahead = createJumpingClock();
  ahead.set(Date.now() + SKEW_MS);
  const [a, b] = await deployment(t, [ahead, behind]);
  const channels = ['steady-1', 'steady-2'];
  const reads = historyReads(b);
  // The subscriber sits on the node behind; its handshake cursor is below everything that follows.
  let { t: cursor } = await subscribe(b, channels);
  for (let round = 0; round < 3; round++) {
    await publish(a, 'steady-1', { n: round });
    await publish(a, 'steady-1', { fence: true });
    const first = await receiveUntilFence(b, channels, cursor);
    assert.deepEqual(describe(first.got), [`steady-1:${round}`, 'steady-1:fence']);
    cursor = first.cursor;
    // Steady state: the cursor now stands at a timetoken the node ahead stamped.
    const tt = await publish(b, 'steady-2', { n: round });
    await publish(a, 'steady-2', { fence: true });
    const second = await receiveUntilFence(b, channels, cursor);
    assert.deepEqual(describe(second.got), [`steady-2:${round}`, 'steady-2:fence'], `cursor ${cursor}, message ${tt} (node behind)`);
    assertAscending([...first.got, ...second.got]);
    cursor = second.cursor;
  }
  assert.equal(reads(), 0, 'the polls were answered from memory');
});

test('(4) a node that starts with its clock behind covers memory from the commit-order cut: a cursor from the other node reads what came before its start', async (t) => {
  const prefix = uniqueRedisPrefix();
  const nodes: TestServer[] = [];
  t.after(async () => {
    for (const node of nodes) await node.stop();
    const redis = adminClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  const start = (clock: Clock) =>
    startServer({ clock, keysets: [OPEN_KEYSET], overrides: { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix } } }).then((node) => {
      nodes.push(node);
      return node;
    });
  const a = await start({ nowMs: () => Date.now() });
  const tt = await publish(a, 'boot', { n: 1 });
  // A client that has everything before this message moves to a node that starts now, its clock behind.
  const cursor = (BigInt(tt) - 1n).toString();
  const b = await start({ nowMs: () => Date.now() - SKEW_MS });
  await publish(a, 'boot', { fence: true });
  const { got } = await receiveUntilFence(b, ['boot'], cursor);
  assert.deepEqual(describe(got), ['boot:1', 'boot:fence'], `cursor ${cursor}`);
});
