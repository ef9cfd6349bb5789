import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresenceService } from '../../../src/realtime/presence.ts';
import { Hub } from '../../../src/realtime/hub.ts';
import { MemoryPresenceStore } from '../../../src/store/shared/memory-presence-store.ts';
import type { PublishInput } from '../../../src/realtime/publish.ts';
import { createLogger } from '../../../src/log.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

function setup() {
  const clock = createFakeClock();
  const store = new MemoryPresenceStore();
  let writes = 0;
  const touch = store.touch.bind(store);
  store.touch = (...args: Parameters<typeof store.touch>) => {
    writes++;
    return touch(...args);
  };
  const events: Array<Record<string, unknown>> = [];
  const presence = new PresenceService({
    store,
    clock,
    log: createLogger({ level: 'silent' }),
    hub: new Hub({ bufferPerChannel: 10, bufferMaxAgeMs: 1000, floor: () => 0n }),
    publish: async (m: PublishInput) => {
      events.push({ channel: m.channel, ...JSON.parse(m.payload) });
      return 1n;
    },
    defaultTimeoutSec: 300,
    maxTimeoutSec: 3600,
    sweepIntervalMs: 1000,
  });
  let listings = 0;
  const occupants = store.occupants.bind(store);
  store.occupants = (...args: Parameters<typeof store.occupants>) => {
    listings++;
    return occupants(...args);
  };
  return { clock, presence, events, writes: () => writes, listings: () => listings };
}

test('re-poll heartbeats within a quarter of the timeout skip the store; new channels, leaves and new timeouts do not', async () => {
  const { clock, presence, events, writes } = setup();
  await presence.heartbeat('k', 'u', ['a'], null);
  assert.equal(writes(), 1);
  assert.deepEqual(
    events.map((e) => e.action),
    ['join'],
  );
  await presence.heartbeat('k', 'u', ['a'], null);
  assert.equal(writes(), 1, 'fresh: skipped');
  await presence.heartbeat('k', 'u', ['a', 'b'], null);
  assert.equal(writes(), 3, 'a new channel writes (and joins)');
  assert.deepEqual(
    events.map((e) => e.action),
    ['join', 'join'],
  );
  await presence.heartbeat('k', 'u', ['a'], 20);
  assert.equal(writes(), 4, 'a different timeout is written');
  clock.advance(5_001);
  await presence.heartbeat('k', 'u', ['a'], 20);
  assert.equal(writes(), 5, 'past a quarter of the 20 s timeout it is written again');
  await presence.leave('k', 'u', ['a']);
  await presence.heartbeat('k', 'u', ['a'], 20);
  assert.deepEqual(
    events.map((e) => e.action),
    ['join', 'join', 'leave', 'join'],
    'after a leave the next heartbeat joins again',
  );
});

test('a silent uuid times out on the sweep', async () => {
  const { clock, presence, events } = setup();
  await presence.heartbeat('k', 'ghost', ['room'], 10);
  clock.advance(10_001);
  await presence.sweep();
  assert.deepEqual(
    events.map((e) => [e.action, e.uuid, e.channel]),
    [
      ['join', 'ghost', 'room-pnpres'],
      ['timeout', 'ghost', 'room-pnpres'],
    ],
  );
});

test('a timeout above presence.maxTimeoutSec is taken as the maximum', async () => {
  const { clock, presence, events } = setup();
  await presence.heartbeat('k', 'lingering', ['room'], 86_400);
  await presence.heartbeat('k', 'lingering', ['room'], 86_400);
  clock.advance(3600 * 1000 - 1);
  await presence.sweep();
  assert.equal(events.filter((e) => e.action === 'timeout').length, 0, 'present until the maximum');
  clock.advance(2);
  await presence.sweep();
  assert.deepEqual(
    events.map((e) => [e.action, e.uuid]),
    [
      ['join', 'lingering'],
      ['timeout', 'lingering'],
    ],
    'gone an hour after its last heartbeat, not a day',
  );
});

test('presence events carry the occupancy without listing the occupants (N joins cost N, not N²)', async () => {
  const { presence, events, listings } = setup();
  for (let i = 0; i < 200; i++) await presence.heartbeat('k', `u${i}`, ['lobby'], null);
  await presence.leave('k', 'u0', ['lobby']);
  assert.deepEqual(
    events.map((e) => e.occupancy),
    [...Array.from({ length: 200 }, (_, i) => i + 1), 199],
  );
  const counts = await presence.hereNow('k', ['lobby'], false, { offset: 0, limit: 0 });
  assert.equal(counts.get('lobby')?.occupancy, 199);
  assert.equal(listings(), 0, 'neither the events nor an occupancy-only here-now listed the occupants');
  const listed = await presence.hereNow('k', ['lobby'], false, { offset: 0, limit: 3 });
  assert.deepEqual(
    listed.get('lobby')?.occupants.map((o) => o.uuid),
    ['u1', 'u10', 'u100'],
  );
  assert.equal(listings(), 1);
});
