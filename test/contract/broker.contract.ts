import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { CommittedMessage, ControlEvent, MessageType, OutgoingMessage, StoredMessage } from '../../src/store/types.ts';
import { createFakeClock, type FakeClock } from '../helpers/fake-clock.ts';
import { waitFor } from '../helpers/wait-for.ts';
import type { BrokerContractOptions, BrokerNode } from './contract-options.ts';
import { outgoing } from '../helpers/outgoing.ts';

const SUB = 'sub-a';
/** Far ahead of real time (2096): a broker that ignored the node's clock would fall behind it. */
const START_MS = 4_000_000_000_000;
const TT_PER_MS = 10_000n;

const out = (channel: string, n: number, extra?: Partial<OutgoingMessage>): OutgoingMessage => outgoing(SUB, channel, n, extra);

function committed(batch: readonly OutgoingMessage[], timetokens: readonly bigint[]): CommittedMessage[] {
  return batch.map((m, i) => ({ ...m, timetoken: timetokens[i] }));
}

function asStored(m: CommittedMessage): StoredMessage {
  return {
    subscribeKey: m.subscribeKey,
    channel: m.channel,
    timetoken: m.timetoken,
    publisher: m.publisher ?? '',
    payload: m.payload,
    meta: m.meta,
    customMessageType: m.customMessageType,
    type: m.type,
    expiresAtMs: m.expiresAtMs,
  };
}

const idOf = (m: { subscribeKey: string; channel: string; timetoken: bigint }): string => `${m.subscribeKey}/${m.channel}/${m.timetoken}`;

/** What one node's handlers received. */
interface Recorder {
  batches: CommittedMessage[][];
  controls: ControlEvent[];
}

function record(node: BrokerNode): Recorder {
  const r: Recorder = { batches: [], controls: [] };
  node.broker.onMessages((batch) => r.batches.push([...batch]));
  node.broker.onControl((event) => r.controls.push(event));
  return r;
}

const delivered = (r: Recorder): CommittedMessage[] => r.batches.flat();

/** Commits a message on its own channel and waits until every recorder got it: whatever was sent before has arrived by then. */
async function fence(node: BrokerNode, recorders: readonly Recorder[], label = 'fence'): Promise<void> {
  const [tt] = await node.broker.commit([out(label, 0, { store: false })]);
  await waitFor(() => recorders.every((r) => delivered(r).some((m) => m.channel === label && m.timetoken === tt)), `the ${label} message on every node`);
}

/** Broker.commit's order: in delivery order, timetokens strictly increase within each keyset (so within each channel). */
function assertAscendingPerKeyset(messages: readonly CommittedMessage[]): void {
  const last = new Map<string, bigint>();
  for (const m of messages) {
    const previous = last.get(m.subscribeKey);
    assert.ok(previous === undefined || m.timetoken > previous, `${m.subscribeKey}/${m.channel}: ${m.timetoken} delivered after ${previous}`);
    last.set(m.subscribeKey, m.timetoken);
  }
}

function history(node: BrokerNode, channels: string[], subscribeKey = SUB): Promise<StoredMessage[]> {
  return node.stores.messages.query({ subscribeKey, channels, range: {}, limit: 10_000, keep: 'oldest', nowMs: START_MS });
}

/**
 * Broker (store/types.ts): timetokens, durable history, delivery to every node in one order, control
 * events to the other nodes, readiness and close. Runs against every engine's broker, built by
 * backendsFromConfig as the server builds it.
 */
export function brokerContract(options: BrokerContractOptions): void {
  async function deployment(t: TestContext, count: number, clock: FakeClock = createFakeClock(START_MS)): Promise<BrokerNode[]> {
    const fixture = await options.create(clock, count);
    t.after(() => fixture.cleanup());
    assert.equal(fixture.nodes.length, count);
    await Promise.all(fixture.nodes.map((n) => n.broker.ready()));
    return fixture.nodes;
  }

  describe(`${options.name}: Broker`, { skip: options.skip }, () => {
    test('commit: one timetoken per message in input order, strictly increasing per keyset within and across batches, never behind the clock', async (t) => {
      const clock = createFakeClock(START_MS);
      const [node] = await deployment(t, 1, clock);
      const floor = BigInt(START_MS) * TT_PER_MS;
      const first = await node.broker.commit([out('a', 1), out('b', 2), out('a', 3), out('a', 4, { subscribeKey: 'sub-b' }), out('a', 5)]);
      assert.equal(first.length, 5);
      for (const tt of first) assert.ok(tt >= floor, `${tt} is behind the clock (${floor})`);
      assert.ok(first[0] < first[1] && first[1] < first[2] && first[2] < first[4], `keyset ${SUB} within a batch: ${first}`);
      // The clock has not moved: the next timetokens of a channel must still be greater.
      const second = await node.broker.commit([out('b', 6), out('a', 7)]);
      assert.ok(second[0] > first[4], `keyset ${SUB}, channel b: ${second[0]} after ${first[4]}, committed before on channel a`);
      assert.ok(second[1] > first[4], `channel a: ${second[1]} after ${first[4]}`);
      clock.advance(60_000);
      const [later] = await node.broker.commit([out('b', 8)]);
      assert.ok(later >= BigInt(clock.nowMs()) * TT_PER_MS, `${later} is behind the clock after it moved`);
    });

    test('every committed message reaches onMessages once, unchanged but for its timetoken; commits arrive in commit order', async (t) => {
      const [node] = await deployment(t, 1);
      const r = record(node);
      const batches: OutgoingMessage[][] = [
        [out('a', 1), out('b', 2, { store: false })],
        [
          out('x-pnpres', 3, { publisher: null, type: 0, store: false }),
          out('a', 4, { meta: '{"m":1}', customMessageType: 'vote', type: 1, expiresAtMs: START_MS + 60_000 }),
        ],
        [out('a', 5, { subscribeKey: 'sub-b' }), out('b', 6), out('c', 7, { subscribeKey: 'sub-b', type: 4 })],
        [out('a', 8, { payload: '"text with \\"quotes\\" and ünïcode"' })],
      ];
      const sent: CommittedMessage[][] = [];
      for (const batch of batches) sent.push(committed(batch, await node.broker.commit(batch)));
      const total = sent.flat().length;
      await waitFor(() => delivered(r).length >= total, 'every message to be delivered');
      await fence(node, [r]);
      const got = delivered(r).filter((m) => m.channel !== 'fence');
      assert.equal(got.length, total, 'a message was delivered twice');
      const byId = new Map(sent.flatMap((batch, commitIndex) => batch.map((m) => [idOf(m), { m, commitIndex }] as const)));
      let lastCommit = 0;
      for (const m of got) {
        const entry = byId.get(idOf(m));
        assert.ok(entry !== undefined, `unexpected delivery ${idOf(m)}`);
        assert.deepEqual(m, entry.m);
        assert.ok(entry.commitIndex >= lastCommit, `a message of commit ${entry.commitIndex} arrived after one of commit ${lastCommit}`);
        lastCommit = entry.commitIndex;
      }
      assertAscendingPerKeyset(got);
    });

    test('onMessages keeps one handler: a later call replaces the earlier one', async (t) => {
      const [node] = await deployment(t, 1);
      const earlier: CommittedMessage[] = [];
      node.broker.onMessages((batch) => earlier.push(...batch));
      const r = record(node);
      await node.broker.commit([out('a', 1)]);
      await fence(node, [r]);
      assert.deepEqual(earlier, []);
      assert.deepEqual(
        delivered(r).map((m) => m.channel),
        ['a', 'fence'],
      );
    });

    test("once commit resolves, the stored messages are in history (a null publisher as '') and the others are not", async (t) => {
      const [node] = await deployment(t, 1);
      const batch = [out('h', 1), out('h', 2, { store: false }), out('h-pnpres', 3, { publisher: null }), out('h', 4, { expiresAtMs: START_MS + 1000 })];
      const sent = committed(batch, await node.broker.commit(batch));
      const expected = [sent[0], sent[2], sent[3]]
        .map(asStored)
        .sort((x, y) => (x.timetoken === y.timetoken ? (x.channel < y.channel ? -1 : 1) : x.timetoken < y.timetoken ? -1 : 1));
      assert.deepEqual(await history(node, ['h', 'h-pnpres']), expected);
      assert.equal(expected.find((m) => m.channel === 'h-pnpres')?.publisher, '');
    });

    test('a stored message is already in history when it is delivered', async (t) => {
      const [node] = await deployment(t, 1);
      const checks: Promise<string | undefined>[] = [];
      node.broker.onMessages((batch) => {
        for (const m of batch) {
          if (!m.store) continue;
          // Read at delivery: the store is queried now, before anything else runs.
          const read = node.stores.messages.query({
            subscribeKey: m.subscribeKey,
            channels: [m.channel],
            range: { gte: m.timetoken, lte: m.timetoken },
            limit: 1,
            keep: 'oldest',
            nowMs: START_MS,
          });
          checks.push(read.then((rows) => (rows.length === 1 ? undefined : `${idOf(m)} delivered before it was in history`)));
        }
      });
      for (let i = 0; i < 20; i++) await node.broker.commit([out('d', i), out('e', i, { store: i % 2 === 0 })]);
      await waitFor(() => checks.length === 30, 'every stored message to be delivered');
      assert.deepEqual(
        (await Promise.all(checks)).filter((p) => p !== undefined),
        [],
      );
    });

    test('a batch with a row to store that history would refuse is refused whole (INVALID_PARAM): nothing stored, nothing delivered', async (t) => {
      const [node] = await deployment(t, 1);
      const r = record(node);
      await assert.rejects(node.broker.commit([out('v', 1), out('w', 2, { store: false }), out('v', 3, { type: 9 as MessageType })]), {
        code: 'INVALID_PARAM',
      });
      await assert.rejects(node.broker.commit([out('v', 4), out('', 5)]), { code: 'INVALID_PARAM' });
      await fence(node, [r]);
      assert.deepEqual(
        delivered(r).map((m) => m.channel),
        ['fence'],
      );
      assert.deepEqual(await history(node, ['v', 'w']), []);
    });

    test('an empty batch resolves [] and delivers nothing', async (t) => {
      const [node] = await deployment(t, 1);
      const r = record(node);
      assert.deepEqual(await node.broker.commit([]), []);
      await fence(node, [r]);
      assert.deepEqual(
        r.batches.map((b) => b.map((m) => m.channel)),
        [['fence']],
      );
    });

    test('broadcast resolves and never reaches the sending node', async (t) => {
      const [node] = await deployment(t, 1);
      const r = record(node);
      await node.broker.broadcast({ kind: 'grants-changed', subscribeKey: SUB });
      await node.broker.broadcast({ kind: 'group-changed', subscribeKey: SUB, group: 'g' });
      await fence(node, [r]);
      assert.deepEqual(r.controls, []);
    });

    test('once ready: healthy, and health() reports ok', async (t) => {
      const [node] = await deployment(t, 1);
      assert.equal(node.broker.isHealthy(), true);
      assert.deepEqual(await node.broker.health(), { ok: true });
      assert.equal(typeof node.broker.nodeId, 'string');
      assert.ok(node.broker.nodeId.length > 0);
    });

    test('after close: unhealthy, health() not ok with a one-line reason, commit, broadcast and ready reject with STORE_UNAVAILABLE; close is idempotent', async (t) => {
      const [node] = await deployment(t, 1);
      const r = record(node);
      await node.broker.close();
      await node.broker.close();
      assert.equal(node.broker.isHealthy(), false);
      const report = await node.broker.health();
      assert.equal(report.ok, false);
      assert.ok(typeof report.reason === 'string' && report.reason.length > 0 && !report.reason.includes('\n'), report.reason);
      await assert.rejects(node.broker.commit([out('c', 1)]), { code: 'STORE_UNAVAILABLE' });
      await assert.rejects(node.broker.broadcast({ kind: 'grants-changed', subscribeKey: SUB }), { code: 'STORE_UNAVAILABLE' });
      await assert.rejects(node.broker.ready(), { code: 'STORE_UNAVAILABLE' });
      assert.deepEqual(await history(node, ['c']), []);
      assert.deepEqual(r.batches, []);
    });

    test('once close has resolved no handler is called, not even for a commit that resolved just before it', async (t) => {
      const [node] = await deployment(t, 1);
      let isClosed = false;
      const late: CommittedMessage[] = [];
      node.broker.onMessages((batch) => {
        if (isClosed) late.push(...batch);
      });
      await node.broker.commit([out('a', 1)]);
      await node.broker.close();
      isClosed = true;
      // One full turn of the event loop: a delivery already queued would run in it.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(late, []);
    });

    test('a handshake cut: what was committed before it is at or below it, what is committed after it above it, in the same millisecond', async (t) => {
      const [node] = await deployment(t, 1);
      const [before] = await node.broker.commit([out('a', 1)]);
      const cut = await node.broker.handshakeTimetoken(SUB);
      assert.match(String(cut), /^\d{17}$/);
      assert.ok(before <= cut, `${before}, committed before, is above the cut ${cut}`);
      // The fake clock has not moved: these are stamped in the cut's millisecond.
      const after = await node.broker.commit([out('a', 2), out('b', 3)]);
      for (const tt of after) assert.ok(tt > cut, `${tt}, committed after, is not above the cut ${cut}`);
    });

    describe('several nodes', { skip: options.singleNode }, () => {
      test('a handshake cut on one node orders commits made on the others', async (t) => {
        const [a, b, c] = await deployment(t, 3);
        const [before] = await a.broker.commit([out('x', 1)]);
        const cut = await b.broker.handshakeTimetoken(SUB);
        const [after] = await c.broker.commit([out('y', 2)]);
        assert.ok(before <= cut && cut < after, `${before} <= ${cut} < ${after}`);
      });

      test('every node receives every message once, all in one order, timetokens strictly increasing per keyset; sequential commits arrive in commit order', async (t) => {
        const nodes = await deployment(t, 3);
        const recorders = nodes.map(record);
        const sent: CommittedMessage[] = [];
        // Concurrent commits from every node onto the same channels.
        for (let round = 0; round < 20; round++) {
          const batches = nodes.map((_, i) => [
            out('c1', round * 10 + i),
            out('c2', round * 10 + i, { store: i !== 1 }),
            out('c3', round, { subscribeKey: `sub-${i}` }),
          ]);
          const tts = await Promise.all(nodes.map((n, i) => n.broker.commit(batches[i])));
          for (const [i, batch] of batches.entries()) sent.push(...committed(batch, tts[i]));
        }
        // Sequential commits, alternating nodes: each one resolved before the next starts.
        const sequence: string[] = [];
        for (let i = 0; i < 12; i++) {
          const batch = [out(i % 2 === 0 ? 'c1' : 'seq', 1000 + i)];
          const [m] = committed(batch, await nodes[i % 3].broker.commit(batch));
          sent.push(m);
          sequence.push(idOf(m));
        }
        assert.equal(new Set(sent.map(idOf)).size, sent.length, 'a timetoken repeated on a channel');
        await waitFor(() => recorders.every((r) => delivered(r).length >= sent.length), 'every node to receive every message');
        await fence(nodes[0], recorders);

        const flat = (r: Recorder) => delivered(r).filter((m) => m.channel !== 'fence');
        const expected = new Map(sent.map((m) => [idOf(m), m]));
        for (const [i, r] of recorders.entries()) {
          const got = flat(r);
          assert.equal(got.length, sent.length, `node ${i} received a message twice or missed one`);
          for (const m of got) assert.deepEqual(m, expected.get(idOf(m)), `node ${i}: ${idOf(m)}`);
          assertAscendingPerKeyset(got);
          assert.deepEqual(
            got.map(idOf).filter((id) => sequence.includes(id)),
            sequence,
            `node ${i}: sequential commits out of order`,
          );
        }
        const order = flat(recorders[0]).map(idOf);
        for (const r of recorders.slice(1)) assert.deepEqual(flat(r).map(idOf), order, 'the nodes saw different orders');

        const stored = sent.filter((m) => m.store && m.subscribeKey === SUB && m.channel !== 'c3').map(asStored);
        const inHistory = await history(nodes[2], ['c1', 'c2', 'seq']);
        assert.deepEqual(new Set(inHistory.map(idOf)), new Set(stored.map(idOf)));
      });

      test("a stored message is in every node's history when that node receives it", async (t) => {
        const nodes = await deployment(t, 2);
        const checks: Promise<string | undefined>[] = [];
        nodes[1].broker.onMessages((batch) => {
          for (const m of batch) {
            const read = nodes[1].stores.messages.query({
              subscribeKey: m.subscribeKey,
              channels: [m.channel],
              range: { gte: m.timetoken, lte: m.timetoken },
              limit: 1,
              keep: 'oldest',
              nowMs: START_MS,
            });
            checks.push(read.then((rows) => (rows.length === 1 ? undefined : `${idOf(m)} reached the other node before history`)));
          }
        });
        for (let i = 0; i < 20; i++) await nodes[0].broker.commit([out('d', i), out('e', i)]);
        await waitFor(() => checks.length === 40, 'the other node to receive every message');
        assert.deepEqual(
          (await Promise.all(checks)).filter((p) => p !== undefined),
          [],
        );
      });

      test('broadcast reaches every handler of every other node, in broadcast order, and not the sender', async (t) => {
        const [a, b, c] = await deployment(t, 3);
        const [ra, rb, rc] = [a, b, c].map(record);
        const second: ControlEvent[] = [];
        b.broker.onControl((event) => second.push(event));
        const events: ControlEvent[] = [
          ...Array.from(
            { length: 30 },
            (_, i): ControlEvent => ({ kind: 'token-revoked', subscribeKey: SUB, tokenId: `t${i}`, expiresAtMs: START_MS + i + 0.5 }),
          ),
          { kind: 'uuid-kicked', subscribeKey: SUB, uuid: 'mallory', kickedAtMs: START_MS },
          {
            kind: 'node-stats',
            nodeId: a.broker.nodeId,
            sample: { t: START_MS, ok: true, parkedLongPolls: 1, connections: 2, publishesPerSec: 3.5, deliveriesPerSec: 4, denials: { ACCESS_DENIED: 1 } },
          },
        ];
        for (const event of events) await a.broker.broadcast(event);
        await c.broker.broadcast({ kind: 'secret-rotated', subscribeKey: SUB });
        await waitFor(
          () => rb.controls.length === events.length + 1 && rc.controls.length === events.length && second.length === events.length + 1,
          'every other node to receive the events',
        );
        // c broadcast after a's broadcasts had resolved, so every node has it after them.
        assert.deepEqual(rb.controls, [...events, { kind: 'secret-rotated', subscribeKey: SUB }]);
        assert.deepEqual(second, rb.controls);
        assert.deepEqual(rc.controls, events);
        await fence(a, [ra, rb, rc]);
        assert.deepEqual(ra.controls, [{ kind: 'secret-rotated', subscribeKey: SUB }]);
      });

      test('a closed node receives nothing more, and the others carry on', async (t) => {
        const [a, b, c] = await deployment(t, 3);
        const [ra, rb, rc] = [a, b, c].map(record);
        await c.broker.close();
        await a.broker.commit([out('after', 1)]);
        await a.broker.broadcast({ kind: 'grants-changed', subscribeKey: SUB });
        await b.broker.commit([out('after', 2)]);
        await fence(a, [ra, rb]);
        await waitFor(() => rb.controls.length === 1, 'node b to receive the event');
        assert.deepEqual(
          delivered(rb).map((m) => m.payload),
          delivered(ra).map((m) => m.payload),
        );
        assert.equal(delivered(ra).length, 3);
        assert.deepEqual(rc.batches, []);
        assert.deepEqual(rc.controls, []);
        assert.equal(b.broker.isHealthy(), true);
      });
    });
  });
}
