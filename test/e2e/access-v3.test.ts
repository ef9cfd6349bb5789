import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAM_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';

/** Personas: admin holds the secret key; alice may read+write chat.*; bob may only read the lobby. */
// A whole second: a frozen clock inside the deny list epoch's own second could never mint (docs/redis.md §revocations).
async function setup(t: import('node:test').TestContext, clock = createFakeClock(Math.ceil(Date.now() / 1000) * 1000)) {
  const { server, client, admin } = await harness(t, { store: 'memory', clock });
  const aliceToken = await admin.grantToken({
    ttl: 15,
    authorized_uuid: 'alice',
    resources: { channels: { 'chat.lobby': { read: true, write: true } }, uuids: { alice: { get: true, update: true } } },
    patterns: { channels: { '^chat\\..*$': { read: true, write: true } } },
    meta: { role: 'member' },
  });
  const bobToken = await admin.grantToken({ ttl: 15, resources: { channels: { 'chat.lobby': { read: true } } } });
  return { server, clock, client, admin, aliceToken, bobToken };
}

const denied =
  (category = 'PNAccessDeniedCategory') =>
  (err: any) => {
    assert.equal(err.status?.category, category);
    assert.equal(err.status?.statusCode, 403);
    return true;
  };

test('grantToken → parseToken shows exactly the granted permissions', async (t) => {
  const { admin, aliceToken } = await setup(t);
  const parsed = admin.parseToken(aliceToken) as any;
  assert.equal(parsed.version, 2);
  assert.equal(parsed.ttl, 15);
  assert.equal(parsed.authorized_uuid, 'alice');
  assert.deepEqual(parsed.meta, { role: 'member' });
  const flags = (o: any) =>
    Object.entries(o)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .sort();
  assert.deepEqual(flags(parsed.resources.channels['chat.lobby']), ['read', 'write']);
  assert.deepEqual(flags(parsed.resources.uuids.alice), ['get', 'update']);
  assert.deepEqual(flags(parsed.patterns.channels['^chat\\..*$']), ['read', 'write']);
  assert.equal(parsed.resources.groups, undefined);
});

test('alice publishes and subscribes where granted; bob may read but not write; a denied publish reaches no one', async (t) => {
  const { client, admin, aliceToken, bobToken } = await setup(t);
  const alice = client('alice');
  alice.setToken(aliceToken);
  const bob = client('bob', { enableEventEngine: false });
  bob.setToken(bobToken);
  const seen = record(bob);
  bob.subscribe({ channels: ['chat.lobby'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'bob connected');

  await alice.publish({ channel: 'chat.lobby', message: { text: 'hi bob' } });
  await alice.publish({ channel: 'chat.random', message: { text: 'pattern grant' } });
  await assert.rejects(alice.publish({ channel: 'elsewhere', message: 'x' }), (err: any) => {
    assert.equal(err.status.category, 'PNAccessDeniedCategory');
    assert.deepEqual(err.status.errorData.payload, { channels: ['elsewhere'] });
    assert.equal(err.status.errorData.code, 'ACCESS_DENIED');
    assert.equal(err.status.errorData.service, 'Access Manager');
    return true;
  });
  await assert.rejects(bob.publish({ channel: 'chat.lobby', message: { text: 'bob tries' } }), denied());
  await alice.publish({ channel: 'chat.lobby', message: { text: 'second' } });
  await waitFor(() => seen.messages.length === 2, 'two messages for bob');
  assert.deepEqual(
    seen.messages.map((m) => m.message.text),
    ['hi bob', 'second'],
  );
  const history = await admin.fetchMessages({ channels: ['chat.lobby'] });
  assert.deepEqual(
    history.channels['chat.lobby'].map((m: any) => m.message.text),
    ['hi bob', 'second'],
  );

  // Another uuid presenting alice's token is refused, with the reason.
  const mallory = client('mallory');
  mallory.setToken(aliceToken);
  await assert.rejects(mallory.publish({ channel: 'chat.lobby', message: 'steal' }), (err: any) => {
    assert.equal(err.status.category, 'PNAccessDeniedCategory');
    assert.equal(err.status.errorData.code, 'TOKEN_WRONG_UUID');
    return true;
  });
  // No credential at all, and a token with one flipped bit.
  await assert.rejects(client('nobody').publish({ channel: 'chat.lobby', message: 'x' }), denied());
  const forged = client('alice');
  const flipped = aliceToken.slice(0, 40) + (aliceToken[40] === 'A' ? 'B' : 'A') + aliceToken.slice(41);
  forged.setToken(flipped);
  await assert.rejects(forged.publish({ channel: 'chat.lobby', message: 'x' }), denied());
});

test('a subscribe denied on one channel fails as PubNub does (both loops)', async (t) => {
  const { client, bobToken } = await setup(t);
  for (const enableEventEngine of [true, false]) {
    const bob = client('bob', { enableEventEngine });
    bob.setToken(bobToken);
    const seen = record(bob);
    bob.subscribe({ channels: ['chat.lobby', 'secret'] });
    const status = await waitFor(
      () => seen.statuses.find((s) => s.category === 'PNAccessDeniedCategory' || s.error === 'PNAccessDeniedCategory'),
      `denial status (${enableEventEngine ? 'EE' : 'legacy'})`,
    );
    if (enableEventEngine) assert.equal(status.category, 'PNConnectionErrorCategory');
    else assert.deepEqual(status.errorData.payload, { channels: ['secret'] });
  }
});

test('revokeToken takes effect at once, also for a parked subscriber', async (t) => {
  const { client, admin, aliceToken } = await setup(t);
  const alice = client('alice', { enableEventEngine: false });
  alice.setToken(aliceToken);
  const seen = record(alice);
  alice.subscribe({ channels: ['chat.lobby'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await admin.publish({ channel: 'chat.lobby', message: { n: 1 } });
  await waitFor(() => seen.messages.length === 1, 'first message');

  // The parked poll is answered by the revocation itself, not when its long-poll ends (bench/latency.ts times it).
  await admin.revokeToken(aliceToken);
  const status = await waitFor(() => seen.statuses.find((s) => s.category === 'PNAccessDeniedCategory'), 'parked poll denied');
  assert.equal(status.errorData.code, 'TOKEN_REVOKED');
  await admin.publish({ channel: 'chat.lobby', message: { n: 2 } });
  await assert.rejects(alice.publish({ channel: 'chat.lobby', message: 'after revoke' }), (err: any) => err.status.errorData.code === 'TOKEN_REVOKED');
  assert.equal(seen.messages.length, 1);
});

test('an expired token stops a parked subscriber: nothing more is delivered, its next answer is 403', async (t) => {
  const { client, admin, clock } = await setup(t);
  const short = await admin.grantToken({ ttl: 1, resources: { channels: { room: { read: true, write: true } } } });
  // Signed requests carry real-time timestamps, so after the fake clock jumps the writer uses a token.
  const writer = client('writer');
  writer.setToken(await admin.grantToken({ ttl: 60, resources: { channels: { room: { write: true } } } }));
  const sub = client('sub', { enableEventEngine: false });
  sub.setToken(short);
  const seen = record(sub);
  sub.subscribe({ channels: ['room'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await admin.publish({ channel: 'room', message: { n: 1 } });
  await waitFor(() => seen.messages.length === 1, 'first message');
  // The subscriber has re-polled and is parked; a minute passes.
  clock.advance(61_000);
  await writer.publish({ channel: 'room', message: { n: 2 } });
  const status = await waitFor(() => seen.statuses.find((s) => s.category === 'PNAccessDeniedCategory'), 'denied after expiry');
  assert.equal(status.errorData.code, 'TOKEN_EXPIRED');
  assert.equal(seen.messages.length, 1);
});

test('grant and revoke require a valid secret-key signature', async (t) => {
  const { server, client, aliceToken } = await setup(t);
  const anon = client('anon');
  await assert.rejects(anon.grantToken({ ttl: 5, resources: { channels: { x: { read: true } } } }), () => true); // SDK refuses without secret
  const forger = client('forger', { secretKey: 'not-the-secret' });
  await assert.rejects(forger.grantToken({ ttl: 5, resources: { channels: { x: { read: true } } } }), (err: any) => {
    assert.equal(err.status.statusCode, 403);
    assert.equal(err.status.errorData.code, 'SIGNATURE_MISMATCH');
    return true;
  });
  await assert.rejects(forger.revokeToken(aliceToken), denied());
  await assert.rejects(forger.grant({ channels: ['x'], authKeys: ['k'], read: true }), denied());
  // Unsigned admin calls over raw HTTP.
  const r = await fetch(`${server.url}/v3/pam/${PAM_KEYSET.subscribeKey}/grant?uuid=x`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).code, 'SIGNATURE_MISSING');
  const audit = await fetch(`${server.url}/v2/auth/audit/sub-key/${PAM_KEYSET.subscribeKey}?uuid=x`);
  assert.equal(audit.status, 403);
});

test('grant-token validation errors come back in the v3 shape', async (t) => {
  const { admin } = await setup(t);
  await assert.rejects(admin.grantToken({ ttl: 0, resources: { channels: { x: { read: true } } } }), (err: any) => {
    assert.equal(err.status.statusCode, 400);
    assert.equal(err.status.errorData.error.details[0].location, 'ttl');
    return true;
  });
  await assert.rejects(admin.grantToken({ ttl: 5, patterns: { channels: { '(a+)+$': { read: true } } } }), (err: any) => err.status.statusCode === 400);
  const many = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`${i}-`.padEnd(90, 'x'), { read: true }]));
  await assert.rejects(admin.grantToken({ ttl: 5, resources: { channels: many } }), (err: any) => {
    assert.equal(err.status.statusCode, 400);
    assert.match(err.status.errorData.error.message, /larger than 32768 bytes/);
    return true;
  });
});
