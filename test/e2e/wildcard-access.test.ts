import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PAM_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Issue 9 §2, with the real SDK: a token whose pattern is `^team\.[^.]+$` may open a `team.*`
 * subscription (the pattern matches the literal text `team.*`), but receives only the channels its
 * pattern reads: `team.a`, never `team.hr.salaries`; and nobody gets presence through a wildcard.
 */
async function setup(t: TestContext) {
  const { client, admin } = await harness(t, { store: 'memory' });
  const token = await admin.grantToken({ ttl: 15, patterns: { channels: { '^team\\.[^.]+$': { read: true } } } });
  const eve = client('eve', { enableEventEngine: false });
  eve.setToken(token);
  const seen = record(eve);
  eve.subscribe({ channels: ['team.*'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'eve connected');
  return { client, admin, eve, seen };
}

test('a team.* subscriber whose token reads ^team\\.[^.]+$ gets team.a and never team.hr.salaries', async (t) => {
  const { admin, seen } = await setup(t);
  await admin.publish({ channel: 'team.hr.salaries', message: { ceo: 1_000_000 } });
  await admin.publish({ channel: 'team.hr.salaries', message: { cfo: 900_000 } });
  await admin.publish({ channel: 'team.a', message: { text: 'hello team' } });
  // Deliveries are in timetoken order: anything from team.hr.salaries would arrive before team.a.
  await waitFor(() => seen.messages.find((m) => m.channel === 'team.a'), 'the team.a message');
  await admin.publish({ channel: 'team.b', message: { text: 'second' } });
  await waitFor(() => seen.messages.find((m) => m.channel === 'team.b'), 'the team.b message');
  assert.deepEqual(
    seen.messages.map((m) => [m.channel, m.subscription, m.message]),
    [
      ['team.a', 'team.*', { text: 'hello team' }],
      ['team.b', 'team.*', { text: 'second' }],
    ],
  );
  assert.equal(
    seen.statuses.find((s) => s.category === 'PNAccessDeniedCategory'),
    undefined,
  );
});

test('presence events never reach a wildcard subscriber; a direct presence subscriber gets them', async (t) => {
  const { client, admin, seen } = await setup(t);
  const watcher = client('watcher', { secretKey: PAM_KEYSET.secretKey, enableEventEngine: false });
  const watched = record(watcher);
  watcher.subscribe({ channels: ['team.b'], withPresence: true });
  await waitFor(() => watched.presence.find((p) => p.action === 'join' && p.uuid === 'watcher'), 'the join event on team.b-pnpres');
  await admin.publish({ channel: 'team.b', message: { text: 'after the join' } });
  await waitFor(() => seen.messages.find((m) => m.channel === 'team.b'), 'the team.b message');
  assert.deepEqual(seen.presence, []);
  assert.deepEqual(
    seen.messages.map((m) => m.channel),
    ['team.b'],
  );
});
