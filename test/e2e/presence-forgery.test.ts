import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../helpers/harness.ts';
import { PAM_KEYSET } from '../helpers/start-server.ts';

/**
 * Issue 9 §2: with the Access Manager on, presence cannot be forged. Before, a request with no
 * credential at all made any uuid leave any channel, and where_now told anyone where any uuid was.
 */

const SUB = PAM_KEYSET.subscribeKey;

async function call(base: string, path: string, query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}?${query}`);
  return { status: res.status, body: await res.json() };
}

test('an anonymous leave for another uuid is refused and changes nothing', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  await admin.grant({ channels: ['room'], authKeys: ['victim-key'], read: true, ttl: 10 });
  const joined = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/heartbeat`, 'uuid=victim&auth=victim-key&heartbeat=60');
  assert.equal(joined.status, 200);
  assert.deepEqual(
    (await admin.hereNow({ channels: ['room'] })).channels.room.occupants.map((o) => o.uuid),
    ['victim'],
  );

  const forged = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/leave`, 'uuid=victim');
  assert.equal(forged.status, 403);
  assert.deepEqual(forged.body.payload, { channels: ['room'] });
  const wrongKey = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/leave`, 'uuid=victim&auth=guess');
  assert.equal(wrongKey.status, 403);
  assert.deepEqual(
    (await admin.hereNow({ channels: ['room'] })).channels.room.occupants.map((o) => o.uuid),
    ['victim'],
  );

  // The victim itself, with its read grant, may leave.
  const own = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/leave`, 'uuid=victim&auth=victim-key');
  assert.equal(own.status, 200);
  assert.equal((await admin.hereNow({ channels: ['room'] })).channels.room?.occupancy ?? 0, 0);
});

test('a token bound to a uuid acts only as that uuid, for presence too', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  const token = await admin.grantToken({ ttl: 10, authorized_uuid: 'mallory', resources: { channels: { room: { read: true } } } });
  const asSelf = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/heartbeat`, `uuid=mallory&auth=${encodeURIComponent(token)}`);
  assert.equal(asSelf.status, 200);
  for (const action of ['heartbeat', 'leave']) {
    const forged = await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/${action}`, `uuid=victim&auth=${encodeURIComponent(token)}`);
    assert.equal(forged.status, 403, action);
    assert.equal(forged.body.code, 'TOKEN_WRONG_UUID');
  }
});

test("where_now: one's own is open, another uuid's needs get on that uuid", async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  await admin.grant({ channels: ['room'], authKeys: ['victim-key'], read: true, ttl: 10 });
  assert.equal((await call(server.url, `/v2/presence/sub-key/${SUB}/channel/room/heartbeat`, 'uuid=victim&auth=victim-key&heartbeat=60')).status, 200);

  const anonymous = await call(server.url, `/v2/presence/sub-key/${SUB}/uuid/victim`, 'uuid=stranger');
  assert.equal(anonymous.status, 403);
  assert.deepEqual(anonymous.body.payload, { uuids: ['victim'] });
  const own = await call(server.url, `/v2/presence/sub-key/${SUB}/uuid/victim`, 'uuid=victim&auth=victim-key');
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.payload.channels, ['room']);

  await admin.grant({ uuids: ['victim'], authKeys: ['watcher-key'], get: true, ttl: 10 });
  const granted = await call(server.url, `/v2/presence/sub-key/${SUB}/uuid/victim`, 'uuid=watcher&auth=watcher-key');
  assert.equal(granted.status, 200);
  assert.deepEqual(granted.body.payload.channels, ['room']);
});
