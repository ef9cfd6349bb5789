import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import { READ } from '../../../src/access/permissions.ts';
import type { Credential, Decision } from '../../../src/access/types.ts';
import { createEnvelope } from '../../../src/realtime/envelope.ts';
import type { SubscribeAnswer } from '../../../src/realtime/subscription.ts';
import { accessRequest, KEYSET_A, OPEN_KEYSET, startAccess } from '../../helpers/access.ts';
import { deliverAndAnswer, subscriptionRig } from '../../helpers/subscriptions.ts';

/** A v3 token whose only channel grant is the pattern of issue 9: one level below `team.`. */
const TEAM_TOKEN_BODY = { ttl: 10, permissions: { patterns: { channels: { '^team\\.[^.]+$': READ } } } };

function credentialOf(d: Decision): Credential {
  assert.ok(d.allowed, d.allowed ? '' : d.message);
  return d.credential;
}

const subscribeTo = (channels: string[], params: Record<string, string>, uuid = 'user-1') =>
  accessRequest(KEYSET_A, { requirements: requirementsFor('subscribe', { channels }), params, uuid });

test('canRead with a token: its patterns decide each concrete channel; revoked, expired or wrong-uuid reads nothing', async () => {
  const { manager, clock } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, TEAM_TOKEN_BODY);
  const credential = credentialOf(manager.check(subscribeTo(['team.*'], { auth: token })));
  // The subscription gate still matches the literal `team.*` (the pattern reads it as "team." + "*").
  assert.equal(manager.canRead(credential, KEYSET_A, 'user-1', 'team.a'), true);
  assert.equal(manager.canRead(credential, KEYSET_A, 'user-1', 'team.hr.salaries'), false);
  assert.equal(manager.canRead(credential, KEYSET_A, 'user-1', 'team'), false);

  const bound = await manager.grantToken(KEYSET_A, { ...TEAM_TOKEN_BODY, permissions: { ...TEAM_TOKEN_BODY.permissions, uuid: 'alice' } });
  const boundCredential = credentialOf(manager.check(subscribeTo(['team.*'], { auth: bound }, 'alice')));
  assert.equal(manager.canRead(boundCredential, KEYSET_A, 'alice', 'team.a'), true);
  assert.equal(manager.canRead(boundCredential, KEYSET_A, 'mallory', 'team.a'), false);

  await manager.revokeToken(KEYSET_A, token);
  assert.equal(manager.canRead(credential, KEYSET_A, 'user-1', 'team.a'), false);
  clock.advance(10 * 60_000);
  assert.equal(manager.canRead(boundCredential, KEYSET_A, 'alice', 'team.a'), false, 'expired');
});

test('canRead with v2 grants: a wildcard grant covers deeper names (§3.8), other grants only their channel', async () => {
  const { manager, clock } = await startAccess();
  await manager.grantV2(KEYSET_A, { channels: ['team.*'], authKeys: ['k-team'], perms: READ, ttlMinutes: 5 });
  await manager.grantV2(KEYSET_A, { channels: ['solo'], authKeys: ['k-solo'], perms: READ, ttlMinutes: 60 });
  const team: Credential = { kind: 'authKey', authKey: 'k-team' };
  assert.equal(manager.canRead(team, KEYSET_A, 'u', 'team.hr.salaries'), true);
  assert.equal(manager.canRead(team, KEYSET_A, 'u', 'other.a'), false);
  assert.equal(manager.canRead({ kind: 'authKey', authKey: 'k-solo' }, KEYSET_A, 'u', 'solo'), true);
  assert.equal(manager.canRead({ kind: 'authKey', authKey: 'k-solo' }, KEYSET_A, 'u', 'solo.x'), false);
  assert.equal(manager.canRead({ kind: 'authKey', authKey: '' }, KEYSET_A, 'u', 'team.a'), false, 'no grant for every auth key');
  clock.advance(5 * 60_000);
  assert.equal(manager.canRead(team, KEYSET_A, 'u', 'team.a'), false, 'the grant expired');
});

test('canRead: the secret key reads everything, an open credential on a secured keyset nothing, an open keyset everything', async () => {
  const { manager } = await startAccess();
  assert.equal(manager.canRead({ kind: 'secret' }, KEYSET_A, 'u', 'team.hr.salaries'), true);
  assert.equal(manager.canRead({ kind: 'open' }, KEYSET_A, 'u', 'team.a'), false);
  assert.equal(manager.canRead({ kind: 'open' }, OPEN_KEYSET, 'u', 'team.hr.salaries'), true);
});

test('wired as the subscribe route wires it: a team.* subscriber with ^team\\.[^.]+$ gets team.a, never team.hr.salaries', async (t) => {
  const { manager, clock } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, TEAM_TOKEN_BODY);
  const { hub, service } = subscriptionRig({ clock });
  const off = manager.onChange((change) => {
    for (const w of hub.waiters(change.subscribeKey)) w.recheckAccess();
  });
  t.after(off);

  const req = subscribeTo(['team.*'], { auth: token });
  const credential = credentialOf(manager.check(req));
  const answers: SubscribeAnswer[] = [];
  const denials: unknown[] = [];
  // The same request and callbacks as src/protocol/routes/subscribe.ts builds them.
  const open = (cursor: bigint) =>
    service.open(
      {
        subscribeKey: KEYSET_A.subscribeKey,
        uuid: 'user-1',
        channels: ['team.*'],
        groups: [],
        cursor,
        filter: null,
        canRead: (channel) => manager.canRead(credential, KEYSET_A, 'user-1', channel),
      },
      {
        answer: (a) => answers.push(a),
        recheck: () => {
          const d = manager.recheck(credential, KEYSET_A, 'user-1', req.requirements);
          return d.allowed ? null : d.code;
        },
        denied: (reason) => denials.push(reason),
      },
    );
  const handle = await open(50n);
  t.after(() => handle.cancel());
  const env = (channel: string, tt: bigint) =>
    createEnvelope(
      { subscribeKey: KEYSET_A.subscribeKey, channel, timetoken: tt, publisher: 'p', payload: '1', meta: null, customMessageType: null, type: 0, stored: true },
      1,
    );
  await deliverAndAnswer(hub, [env('team.hr.salaries', 100n), env('team.hr-pnpres', 101n)]);
  assert.equal(answers.length, 0);
  await deliverAndAnswer(hub, [env('team.a', 102n)]);
  assert.deepEqual(
    answers.map((a) => a.items.map((m) => m.env.channel)),
    [['team.a']],
  );

  // A revocation ends the next parked poll with the token's denial.
  const next = await open(102n);
  t.after(() => next.cancel());
  await manager.revokeToken(KEYSET_A, token);
  assert.deepEqual(denials, ['TOKEN_REVOKED']);
});
