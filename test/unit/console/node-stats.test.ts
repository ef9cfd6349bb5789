import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeStats, readSample, STATS_WINDOW_MS, type NodeFigures } from '../../../src/console/node-stats.ts';
import type { HealthReport, NodeSample } from '../../../src/store/types.ts';
import { silentLogger } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';
import { waitFor } from '../../helpers/wait-for.ts';

function fixture(intervalMs = 5000) {
  const clock = createFakeClock();
  const figures: NodeFigures = { parkedLongPolls: 0, connections: 0, publishesTotal: 0, deliveriesTotal: 0 };
  let health: HealthReport = { ok: true };
  const shared: NodeSample[] = [];
  const stats = new NodeStats({
    nodeId: 'node-a',
    clock,
    intervalMs,
    figures: () => ({ ...figures }),
    health: async () => health,
    share: async (s) => void shared.push(s),
    log: silentLogger,
  });
  return { clock, figures, stats, shared, setHealth: (h: HealthReport) => (health = h) };
}

test('a sample turns counters into rates over the time since the previous one, and counts denials per sample by code', async () => {
  const { clock, figures, stats } = fixture();
  const first = await stats.sample();
  assert.equal(first.publishesPerSec, 0, 'no previous sample: no rate yet');
  figures.publishesTotal = 50;
  figures.deliveriesTotal = 400;
  figures.parkedLongPolls = 7;
  figures.connections = 9;
  stats.recordDenial('ACCESS_DENIED');
  stats.recordDenial('ACCESS_DENIED');
  stats.recordDenial('TOKEN_EXPIRED');
  clock.advance(10_000);
  const second = await stats.sample();
  assert.deepEqual(second, {
    t: clock.nowMs(),
    ok: true,
    parkedLongPolls: 7,
    connections: 9,
    publishesPerSec: 5,
    deliveriesPerSec: 40,
    denials: { ACCESS_DENIED: 2, TOKEN_EXPIRED: 1 },
  });
  clock.advance(5000);
  assert.deepEqual((await stats.sample()).denials, {}, 'denials are per sample');
});

test('a clock that stands still uses the nominal interval; an unready node says why', async () => {
  const { figures, stats, setHealth } = fixture(2000);
  await stats.sample();
  figures.publishesTotal = 10;
  setHealth({ ok: false, reason: 'redis (broker command link) is unreachable' });
  const s = await stats.sample();
  assert.equal(s.publishesPerSec, 5);
  assert.equal(s.ok, false);
  assert.equal(s.reason, 'redis (broker command link) is unreachable');
});

test('memory is bounded: 15 minutes of samples per node, whatever runs', async () => {
  const intervalMs = 5000;
  const { clock, stats } = fixture(intervalMs);
  const capacity = STATS_WINDOW_MS / intervalMs + 1;
  for (let i = 0; i < capacity * 3; i++) {
    clock.advance(intervalMs);
    await stats.sample();
    stats.receive('node-b', { t: clock.nowMs(), ok: true, parkedLongPolls: i, connections: 1, publishesPerSec: 0, deliveriesPerSec: 0, denials: {} });
  }
  const view = stats.view();
  assert.deepEqual(
    view.nodes.map((n) => [n.nodeId, n.self, n.samples.length]),
    [
      ['node-a', true, capacity],
      ['node-b', false, capacity],
    ],
  );
  assert.equal(view.nodes[1].samples.at(-1)?.parkedLongPolls, capacity * 3 - 1);
});

test('other nodes: stale after three silent intervals, forgotten after the window; malformed samples are dropped', async () => {
  const { clock, stats } = fixture(1000);
  const good = { t: clock.nowMs(), ok: true, parkedLongPolls: 1, connections: 2, publishesPerSec: 3, deliveriesPerSec: 4, denials: { ACCESS_DENIED: 1 } };
  stats.receive('node-b', good);
  stats.receive('node-c', { ...good, connections: -1 });
  stats.receive('node-d', { ...good, denials: { 'not a code': 1 } });
  stats.receive('node-a', good);
  stats.receive('', good);
  stats.receive('node-e', 'nonsense');
  assert.deepEqual(
    stats.view().nodes.map((n) => n.nodeId),
    ['node-a', 'node-b'],
  );
  clock.advance(3001);
  assert.equal(stats.view().nodes[1].stale, true);
  clock.advance(STATS_WINDOW_MS);
  assert.deepEqual(
    stats.view().nodes.map((n) => n.nodeId),
    ['node-a'],
  );
  assert.equal(readSample({ ...good, reason: 'x'.repeat(500) })?.reason?.length, 200);
  const code = (i: number) => `C_${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`;
  const denials = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [code(i), 1]));
  assert.ok(readSample({ ...good, denials: denials(64) }));
  assert.equal(readSample({ ...good, denials: denials(65) }), undefined, 'more codes than a node can have');
});

test('start() samples at once and shares each sample with the other nodes; a failing share is not fatal', async () => {
  const clock = createFakeClock();
  const shared: NodeSample[] = [];
  let fail = true;
  const stats = new NodeStats({
    nodeId: 'node-a',
    clock,
    intervalMs: 20,
    figures: () => ({ parkedLongPolls: 0, connections: 0, publishesTotal: 0, deliveriesTotal: 0 }),
    health: async () => ({ ok: true }),
    share: async (s) => {
      if (fail) {
        fail = false;
        throw new Error('redis down');
      }
      shared.push(s);
    },
    log: silentLogger,
  });
  stats.start();
  await waitFor(() => shared.length >= 2, 'two shared samples after the failed one');
  stats.close();
  assert.ok(shared.length >= 2);
  assert.ok(stats.view().nodes[0].samples.length >= 3);
});
