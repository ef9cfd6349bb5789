import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, PAM_KEYSET } from '../helpers/start-server.ts';
import { makeClient, record } from '../helpers/clients.ts';
import { harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait-for.ts';

const setup = (t: import('node:test').TestContext) => harness(t, { store: 'sqlite' });

test('v2 grants: per auth key, wildcard, channel group, audit and withdraw', async (t) => {
  const { client, admin } = await setup(t);
  const alice = client('alice', { authKey: 'alice-key' });
  const bob = client('bob', { authKey: 'bob-key' });

  await assert.rejects(alice.publish({ channel: 'chat.lobby', message: 'before' }), (e: any) => e.status.category === 'PNAccessDeniedCategory');
  const payload = await admin.grant({ channels: ['chat.*'], authKeys: ['alice-key'], read: true, write: true, ttl: 60 });
  assert.equal((payload as any).level, 'channel+auth');
  await alice.publish({ channel: 'chat.lobby', message: 'wildcard write' });
  await alice.publish({ channel: 'chat.lobby.deep', message: 'a.* covers deeper names too' });
  await assert.rejects(bob.publish({ channel: 'chat.lobby', message: 'bob' }), (e: any) => {
    assert.deepEqual(e.status.errorData.payload, { channels: ['chat.lobby'] });
    return true;
  });

  // Channel group: read on the group lets bob subscribe through it; manage lets him change it.
  await admin.channelGroups.addChannels({ channelGroup: 'cg', channels: ['news'] });
  await assert.rejects(bob.channelGroups.listChannels({ channelGroup: 'cg' }), (e: any) => e.status.statusCode === 403);
  await admin.grant({ channelGroups: ['cg'], authKeys: ['bob-key'], read: true, manage: true, ttl: 60 });
  assert.deepEqual((await bob.channelGroups.listChannels({ channelGroup: 'cg' })).channels, ['news']);
  const seen = record(bob);
  bob.subscribe({ channelGroups: ['cg'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'bob connected via group');
  await admin.publish({ channel: 'news', message: 'via group' });
  await waitFor(() => seen.messages.length === 1, 'group message');

  // Key-level grant for every auth key.
  await admin.grant({ read: true, ttl: 5 });
  const audit = (await admin.audit({})) as any;
  assert.equal(audit.level, 'subkey');
  assert.equal(audit.r, 1);
  const chAudit = (await admin.audit({ channel: 'chat.*', authKeys: ['alice-key'] })) as any;
  assert.equal(chAudit.auths['alice-key'].w, 1);
  assert.ok(chAudit.auths['alice-key'].ttl <= 60 && chAudit.auths['alice-key'].ttl >= 59);

  // All-false withdraws; a parked subscriber gets its 403 at once.
  await admin.grant({ read: false, ttl: 5 });
  await admin.grant({ channelGroups: ['cg'], authKeys: ['bob-key'], read: false, manage: false });
  const status = await waitFor(
    () => seen.statuses.find((s) => s.error === 'PNAccessDeniedCategory' || s.category === 'PNAccessDeniedCategory'),
    'parked poll denied',
  );
  assert.ok(status);
  await admin.publish({ channel: 'news', message: 'after withdraw' });
  await admin.grant({ channels: ['chat.*'], authKeys: ['alice-key'], read: false, write: false });
  await assert.rejects(alice.publish({ channel: 'chat.lobby', message: 'after' }), (e: any) => e.status.statusCode === 403);
  assert.equal(seen.messages.length, 1);
  const history = await admin.fetchMessages({ channels: ['chat.lobby'] });
  assert.deepEqual(
    history.channels['chat.lobby'].map((m: any) => m.message),
    ['wildcard write'],
  );
});

test('v2 grants survive a restart (sqlite) and a signed server client acts with full access', async (t) => {
  const first = await startServer({ store: 'sqlite', keepDataDir: true });
  t.after(() => rmSync(first.dataDir, { recursive: true, force: true }));
  const admin = makeClient(first.origin, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  await admin.grant({ channels: ['persisted'], authKeys: ['k'], write: true, ttl: 0 });
  admin.destroy();
  await first.stop();
  const second = await startServer({ store: 'sqlite', dataDir: first.dataDir });
  const c = makeClient(second.origin, PAM_KEYSET, 'u', { authKey: 'k' });
  t.after(async () => {
    c.destroy();
    await second.stop();
  });
  await c.publish({ channel: 'persisted', message: 'still allowed' });
  await assert.rejects(c.publish({ channel: 'other', message: 'x' }), (e: any) => e.status.statusCode === 403);
});
