import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessManager } from '../../../src/access/access-manager.ts';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import { READ, WRITE } from '../../../src/access/permissions.ts';
import type { AccessChange, Credential, Decision } from '../../../src/access/types.ts';
import { KICK_RETENTION_MS } from '../../../src/store/types.ts';
import { MAX_TOKEN_TTL_MINUTES } from '../../../src/access/token/grant-body.ts';
import { createSqliteStores } from '../../../src/store/sqlite/index.ts';
import { accessRequest, KEYSET_A, KEYSET_B, silentLogger, startAccess } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);
const publishTo = (channel: string) => requirementsFor('publish', { channels: [channel] });
const channelGrant = (uuid?: string) => ({
  ttlMinutes: 60,
  authorizedUuid: uuid,
  resources: { channels: new Map([['room', READ | WRITE]]), groups: new Map(), uuids: new Map() },
  patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
  meta: new Map(),
});

test('a kick refuses every token used as the uuid and issued in or before its second; others are untouched', async () => {
  const { manager, clock } = await startAccess();
  const bound = manager.mintToken(KEYSET_A, channelGrant('mallory'));
  const unbound = manager.mintToken(KEYSET_A, channelGrant());
  const alices = manager.mintToken(KEYSET_A, channelGrant('alice'));
  const as = (token: string, uuid: string) => code(manager.check(accessRequest(KEYSET_A, { uuid, requirements: publishTo('room'), params: { auth: token } })));
  assert.equal(as(bound, 'mallory'), 'allowed:token');
  assert.equal(as(unbound, 'mallory'), 'allowed:token');

  clock.advance(500);
  const result = await manager.kick(KEYSET_A, { uuid: 'mallory', tokens: true, authKeys: [] });
  assert.deepEqual(result, { kickedAtMs: clock.nowMs(), withdrawnGrants: 0 });
  assert.equal(as(bound, 'mallory'), 'UUID_KICKED');
  assert.equal(as(unbound, 'mallory'), 'UUID_KICKED', 'an unbound token used as the kicked uuid');
  assert.equal(as(unbound, 'bob'), 'allowed:token', 'the same unbound token used as another uuid');
  assert.equal(as(alices, 'alice'), 'allowed:token');
  // Another keyset's uuid of the same name is another user.
  const onB = manager.mintToken(KEYSET_B, channelGrant('mallory'));
  assert.equal(code(manager.check(accessRequest(KEYSET_B, { uuid: 'mallory', requirements: publishTo('room'), params: { auth: onB } }))), 'allowed:token');

  // Wildcard per-message checks and explain say the same.
  const credential: Credential = { kind: 'token', tokenId: 'x', token: bound };
  assert.equal(manager.canRead(credential, KEYSET_A, 'mallory', 'room'), false);
  assert.equal(manager.explain(KEYSET_A, bound, 'mallory', publishTo('room')).decision.allowed, false);
  assert.equal(manager.inspectToken(KEYSET_A, bound).state, 'kicked');
  assert.equal(manager.inspectToken(KEYSET_A, unbound).state, 'valid', 'an unbound token is refused only when used as the kicked uuid');

  // Until granted again: a token minted after the kick's second works.
  clock.advance(1000);
  const fresh = await manager.grantToken(KEYSET_A, { ttl: 60, permissions: { uuid: 'mallory', resources: { channels: { room: 3 } } } });
  assert.equal(as(fresh, 'mallory'), 'allowed:token');
  assert.equal(as(bound, 'mallory'), 'UUID_KICKED', 'the old one stays refused');
  manager.close();
});

test("within the kick's second a grant for the kicked uuid waits for the next second instead of minting a refused token", async () => {
  const { manager, clock } = await startAccess();
  clock.set(1_700_000_000_200);
  await manager.kick(KEYSET_A, { uuid: 'mallory', tokens: true, authKeys: [] });
  // The fake clock does not move by itself: the wait gives up after its bounded attempts and refuses.
  assert.throws(() => manager.mintToken(KEYSET_A, channelGrant('mallory')), { code: 'STORE_UNAVAILABLE' });
  assert.throws(() => manager.mintToken(KEYSET_A, channelGrant()), { code: 'STORE_UNAVAILABLE' }, 'unbound: usable as mallory');
  assert.ok(manager.mintToken(KEYSET_A, channelGrant('alice')), 'a token bound to another uuid is not held up');
  const pending = manager.grantToken(KEYSET_A, { ttl: 60, permissions: { uuid: 'mallory', resources: { channels: { room: 3 } } } });
  clock.advance(1000);
  const token = await pending;
  assert.equal(code(manager.check(accessRequest(KEYSET_A, { uuid: 'mallory', requirements: publishTo('room'), params: { auth: token } }))), 'allowed:token');
  manager.close();
});

test('kick with auth keys withdraws every grant of those keys, at every level, and nothing else', async () => {
  const { manager, stores } = await startAccess();
  const grant = (q: Record<string, string>) =>
    manager.grantV2(KEYSET_A, new Map(Object.entries({ r: '0', w: '0', m: '0', d: '0', g: '0', j: '0', u: '0', ...q })));
  await grant({ channel: 'room', auth: 'k-mal', r: '1', w: '1' });
  await grant({ 'channel-group': 'g', auth: 'k-mal', r: '1' });
  await grant({ auth: 'k-mal', r: '1' });
  await grant({ channel: 'room', auth: 'k-bob', r: '1', w: '1' });
  await grant({ channel: 'lobby', r: '1' });
  const seen: AccessChange[] = [];
  manager.onChange((c) => seen.push(c));
  const as = (auth: string) => code(manager.check(accessRequest(KEYSET_A, { uuid: 'mallory', requirements: publishTo('room'), params: { auth } })));
  assert.equal(as('k-mal'), 'allowed:authKey');

  const result = await manager.kick(KEYSET_A, { uuid: 'mallory', tokens: false, authKeys: ['k-mal', 'k-unknown'] });
  assert.deepEqual(result, { kickedAtMs: null, withdrawnGrants: 3 });
  assert.equal(as('k-mal'), 'ACCESS_DENIED');
  assert.equal(as('k-bob'), 'allowed:authKey');
  const left = (await stores.grants.list(KEYSET_A.subscribeKey, 0)).map((g) => `${g.level}:${g.resource}:${g.authKey}`).sort();
  assert.deepEqual(left, ['channel:lobby:', 'channel:room:k-bob']);
  // The withdrawn grants are named, so other nodes re-read just those.
  assert.equal(seen.length, 1);
  const change = seen[0];
  assert.ok(change.kind === 'grants-changed' && change.subscribeKey === KEYSET_A.subscribeKey);
  assert.deepEqual(change.targets?.map((t) => `${t.level}:${t.resource}:${t.authKey}`).sort(), [
    'channel-group:g:k-mal',
    'channel:room:k-mal',
    'subkey::k-mal',
  ]);
  // Granted again: back in.
  await grant({ channel: 'room', auth: 'k-mal', w: '1' });
  assert.equal(as('k-mal'), 'allowed:authKey');
  manager.close();
});

test('kick validation: a uuid, and something to cut off; the empty auth key (grants for everyone) is not an auth key to withdraw', async () => {
  const { manager } = await startAccess();
  await assert.rejects(manager.kick(KEYSET_A, { uuid: '', tokens: true, authKeys: [] }), { code: 'INVALID_PARAM' });
  await assert.rejects(manager.kick(KEYSET_A, { uuid: 'x', tokens: false, authKeys: [] }), { code: 'INVALID_PARAM' });
  await assert.rejects(manager.kick(KEYSET_A, { uuid: 'x', tokens: false, authKeys: [''] }), { code: 'INVALID_PARAM' });
  await assert.rejects(manager.kick(KEYSET_A, { uuid: 'x', tokens: false, authKeys: Array.from({ length: 101 }, (_, i) => `k${i}`) }), {
    code: 'INVALID_PARAM',
  });
  await assert.rejects(manager.kick({ ...KEYSET_A, secretKey: '' }, { uuid: 'x', tokens: true, authKeys: [] }), { code: 'INVALID_PARAM' });
  manager.close();
});

test('a kick reaches parked subscribers (recheck), other nodes (the change event) and later nodes (the store)', async () => {
  const clock = createFakeClock();
  const a = await startAccess({ clock });
  const token = a.manager.mintToken(KEYSET_A, channelGrant('mallory'));
  const credential: Credential = { kind: 'token', tokenId: 'x', token };
  const subscribe = requirementsFor('subscribe', { channels: ['room'] });
  const b = await startAccess({ clock, stores: a.stores });
  assert.equal(code(b.manager.recheck(credential, KEYSET_A, 'mallory', subscribe)), 'allowed:token');

  const local: AccessChange[] = [];
  a.manager.onChange((change, origin) => {
    local.push(change);
    // What app.ts does with a local change: re-check parked polls here, broadcast to the other nodes.
    assert.equal(origin, 'local');
    assert.equal(code(a.manager.recheck(credential, KEYSET_A, 'mallory', subscribe)), 'UUID_KICKED');
  });
  clock.advance(10);
  await a.manager.kick(KEYSET_A, { uuid: 'mallory', tokens: true, authKeys: [] });
  assert.equal(local.length, 1);
  const change = local[0];
  assert.equal(change.kind, 'uuid-kicked');

  const remote: string[] = [];
  b.manager.onChange((c, origin) => remote.push(`${c.kind}:${origin}`));
  await b.manager.applyRemoteChange(change);
  assert.deepEqual(remote, ['uuid-kicked:remote']);
  assert.equal(code(b.manager.recheck(credential, KEYSET_A, 'mallory', subscribe)), 'UUID_KICKED');

  // A node that starts later reads it from the store.
  const c = await startAccess({ clock, stores: a.stores });
  assert.equal(code(c.manager.recheck(credential, KEYSET_A, 'mallory', subscribe)), 'UUID_KICKED');
  for (const m of [a.manager, b.manager, c.manager]) m.close();
});

test('a kick survives a restart on SQLite, and is forgotten once every token it could refuse has expired', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-kick-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'parley.db');
  const clock = createFakeClock();
  const first = createSqliteStores({ file });
  const before = await startAccess({ clock, stores: first });
  const token = before.manager.mintToken(KEYSET_A, { ...channelGrant('mallory'), ttlMinutes: MAX_TOKEN_TTL_MINUTES });
  clock.advance(1000);
  await before.manager.kick(KEYSET_A, { uuid: 'mallory', tokens: true, authKeys: [] });
  before.manager.close();
  await first.close();

  const reopened = createSqliteStores({ file });
  t.after(() => reopened.close());
  const manager = new AccessManager({
    grants: reopened.grants,
    denyList: reopened.denyList,
    clock,
    log: silentLogger,
    keysets: [KEYSET_A],
    purgeIntervalMs: 0,
  });
  await manager.start();
  const as = () => code(manager.check(accessRequest(KEYSET_A, { uuid: 'mallory', requirements: publishTo('room'), params: { auth: token } })));
  assert.equal(as(), 'UUID_KICKED');
  assert.equal(KICK_RETENTION_MS, MAX_TOKEN_TTL_MINUTES * 60_000, 'a kick is kept exactly as long as a token can live');
  clock.advance(KICK_RETENTION_MS);
  manager.purgeExpired();
  assert.equal(await reopened.denyList.purgeExpired(clock.nowMs()), 1);
  assert.equal(as(), 'TOKEN_EXPIRED', 'the token it refused has expired by then anyway');
  manager.close();
});
