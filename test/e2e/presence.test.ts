import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET } from '../helpers/start-server.ts';
import { makeClient, record, type Client } from '../helpers/clients.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';
import { waitFor } from '../helpers/wait-for.ts';

for (const eventEngine of [true, false]) {
  test(`presence join/leave, here_now, where_now and state (${eventEngine ? 'event engine' : 'legacy'})`, async (t) => {
    const server = await startServer({ store: 'memory' });
    const clients: Client[] = [];
    t.after(async () => {
      for (const c of clients) c.destroy();
      await server.stop();
    });
    const watcher = makeClient(server.origin, OPEN_KEYSET, 'watcher', { enableEventEngine: eventEngine });
    const alice = makeClient(server.origin, OPEN_KEYSET, 'alice', { enableEventEngine: eventEngine });
    const admin = makeClient(server.origin, OPEN_KEYSET, 'admin');
    clients.push(watcher, alice, admin);
    const seen = record(watcher);
    watcher.subscribe({ channels: ['lobby'], withPresence: true });
    await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'watcher'), 'watcher join');

    alice.subscribe({ channels: ['lobby', 'kitchen'] });
    const join = await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'alice'), 'alice join');
    assert.equal(join.channel, 'lobby');
    assert.equal(join.occupancy, 2);

    const single = await admin.hereNow({ channels: ['lobby'] });
    assert.equal(single.totalOccupancy, 2);
    assert.deepEqual(single.channels.lobby.occupants.map((o: any) => o.uuid).sort(), ['alice', 'watcher']);
    const multi = await admin.hereNow({ channels: ['lobby', 'kitchen'] });
    assert.equal(multi.totalChannels, 2);
    assert.equal(multi.channels.kitchen.occupancy, 1);
    const global = await admin.hereNow({});
    assert.equal(global.totalOccupancy, 3);
    const where = await admin.whereNow({ uuid: 'alice' });
    assert.deepEqual(where.channels, ['kitchen', 'lobby']);

    await alice.setState({ channels: ['lobby'], state: { mood: 'happy' } });
    const change = await waitFor(() => seen.presence.find((p) => p.action === 'state-change'), 'state-change');
    assert.deepEqual(change.state, { mood: 'happy' });
    const got = await admin.getState({ uuid: 'alice', channels: ['lobby'] });
    assert.deepEqual(got.channels, { lobby: { mood: 'happy' } });
    const withState = await admin.hereNow({ channels: ['lobby'], includeState: true });
    assert.deepEqual(withState.channels.lobby.occupants.find((o: any) => o.uuid === 'alice')?.state, { mood: 'happy' });

    alice.unsubscribeAll();
    const leave = await waitFor(() => seen.presence.find((p) => p.action === 'leave' && p.uuid === 'alice'), 'alice leave');
    assert.equal(leave.occupancy, 1);
  });
}

test('a uuid whose heartbeats stop times out; a parked poll keeps its uuid present (fake clock)', async (t) => {
  const clock = createFakeClock();
  const server = await startServer({ store: 'memory', clock, overrides: { presence: { sweepIntervalMs: 20 } } });
  const watcher = makeClient(server.origin, OPEN_KEYSET, 'watcher');
  const abort = new AbortController();
  t.after(async () => {
    abort.abort();
    watcher.destroy();
    await server.stop();
  });
  const seen = record(watcher);
  watcher.subscribe({ channels: ['room'], withPresence: true });
  await waitFor(() => seen.presence.find((p) => p.uuid === 'watcher'), 'watcher join');
  // A raw long-poll with a 5 s presence timeout, parked for the whole test.
  const { timetoken } = await watcher.time();
  const poll = fetch(`${server.url}/v2/subscribe/${OPEN_KEYSET.subscribeKey}/room/0?tt=${timetoken}&heartbeat=5&uuid=parked`, { signal: abort.signal }).catch(
    () => null,
  );
  await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'parked'), 'parked join');
  // A client that heartbeats once with a 5 s timeout and goes silent.
  const silent = async (uuid: string): Promise<void> => {
    const r = await fetch(`${server.url}/v2/presence/sub-key/${OPEN_KEYSET.subscribeKey}/channel/room/heartbeat?heartbeat=5&uuid=${uuid}`);
    assert.equal(r.status, 200);
    await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === uuid), `${uuid} join`);
  };
  await silent('ghost');
  clock.advance(6000);
  const timeout = await waitFor(() => seen.presence.find((p) => p.action === 'timeout' && p.uuid === 'ghost'), 'ghost timeout');
  assert.equal(timeout.channel, 'room');
  // The parked poll is a heartbeat: its uuid outlives its 5 s timeout, in that sweep and in a later one
  // (another silent uuid's timeout marks a sweep 6 s on); the watcher's 300 s presence is untouched.
  await silent('ghost-2');
  clock.advance(6000);
  await waitFor(() => seen.presence.find((p) => p.action === 'timeout' && p.uuid === 'ghost-2'), 'ghost-2 timeout');
  const here = await watcher.hereNow({ channels: ['room'] });
  assert.deepEqual(here.channels.room.occupants.map((o: any) => o.uuid).sort(), ['parked', 'watcher']);
  assert.equal(seen.presence.filter((p) => p.uuid === 'parked' && p.action === 'timeout').length, 0);
  abort.abort();
  await poll;
});
