import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessManager, MAX_CHANGED_TARGETS } from '../../../src/access/access-manager.ts';
import { MAX_GRANT_RECORDS } from '../../../src/access/grants-v2.ts';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import type { AccessChange, Decision } from '../../../src/access/types.ts';
import { isParleyError } from '../../../src/errors.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';
import type { GrantStore } from '../../../src/store/types.ts';
import { accessRequest, KEYSET_A, OPEN_KEYSET, signedRequest, silentLogger, startAccess, withRawQuery } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);
const grantQuery = (q: Record<string, string>) => new Map(Object.entries({ r: '0', w: '0', m: '0', d: '0', g: '0', j: '0', u: '0', ...q }));
const publishTo = (channel: string) => requirementsFor('publish', { channels: [channel] });
const subscribeTo = (channels: string[], groups: string[] = []) => requirementsFor('subscribe', { channels, groups });

test('a keyset without a secret key is open: no credential needed', async () => {
  const { manager } = await startAccess();
  assert.equal(code(manager.check(accessRequest(OPEN_KEYSET, { requirements: publishTo('ch1') }))), 'allowed:open');
  assert.equal(code(manager.check(accessRequest(OPEN_KEYSET, { adminOnly: true }))), 'allowed:open');
  await assert.rejects(manager.grantV2(OPEN_KEYSET, grantQuery({ r: '1' })), { code: 'INVALID_PARAM' });
});

test('secured keysets are refused until start() has loaded the mirrors', async () => {
  const stores = createMemoryStores();
  const manager = new AccessManager({ grants: stores.grants, denyList: stores.denyList, clock: createFakeClock(), log: silentLogger, keysets: [KEYSET_A] });
  assert.equal(code(manager.check(accessRequest(KEYSET_A, { requirements: publishTo('ch1') }))), 'STORE_UNAVAILABLE');
  await manager.start();
  assert.equal(code(manager.check(accessRequest(KEYSET_A, { requirements: publishTo('ch1') }))), 'ACCESS_DENIED');
  manager.close();
});

test('signatures: valid → secret; bad, expired or missing on admin → refused, never a fall-back to auth', async () => {
  const { manager, clock } = await startAccess();
  const now = clock.nowMs();
  await manager.grantV2(KEYSET_A, grantQuery({ auth: 'k1', w: '1', channel: 'ch1' }));
  assert.equal(code(manager.check(signedRequest(KEYSET_A, now, { adminOnly: true }))), 'allowed:secret');
  assert.equal(code(manager.check(signedRequest(KEYSET_A, now, { requirements: publishTo('any') }))), 'allowed:secret');

  const unsigned = accessRequest(KEYSET_A, { adminOnly: true, params: { auth: 'k1' } });
  assert.equal(code(manager.check(unsigned)), 'SIGNATURE_MISSING');

  const good = signedRequest(KEYSET_A, now, { adminOnly: true });
  const tampered = withRawQuery(good, (raw) => raw.replace('uuid=admin-1', 'uuid=admin-2'));
  assert.equal(code(manager.check(tampered)), 'SIGNATURE_MISMATCH');
  const otherSecret = signedRequest({ ...KEYSET_A, secretKey: 'not-the-secret' }, now, { adminOnly: true });
  assert.equal(code(manager.check({ ...otherSecret, keyset: KEYSET_A })), 'SIGNATURE_MISMATCH');
  assert.equal(code(manager.check(signedRequest(KEYSET_A, now - 61_000, { adminOnly: true }))), 'SIGNATURE_EXPIRED');

  // A bad signature on a request whose auth key would be allowed is still refused.
  const badWithAuth = signedRequest(KEYSET_A, now, { requirements: publishTo('ch1'), params: { auth: 'k1' } });
  assert.equal(code(manager.check(withRawQuery(badWithAuth, (raw) => raw.replace(/signature=[^&]+/, 'signature=v2.AAAA')))), 'SIGNATURE_MISMATCH');
});

test('the signature window is configurable', async () => {
  const { manager, clock } = await startAccess({ signatureWindowSec: 300 });
  assert.equal(code(manager.check(signedRequest(KEYSET_A, clock.nowMs() - 250_000, { adminOnly: true }))), 'allowed:secret');
});

test('v2 grant (§7.1, §12.2 shape) then check: only the granted auth key, only the granted bits', async () => {
  const { manager } = await startAccess();
  const payload = await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'auth-a', r: '1', w: '1', ttl: '60' }));
  assert.deepEqual(payload, {
    level: 'channel+auth',
    subscribe_key: KEYSET_A.subscribeKey,
    ttl: 60,
    channel: 'ch1',
    auths: { 'auth-a': { r: 1, w: 1, m: 0, d: 0, g: 0, u: 0, j: 0 } },
  });
  const as = (auth: string | undefined, requirements = publishTo('ch1')) =>
    code(manager.check(accessRequest(KEYSET_A, { requirements, params: auth === undefined ? undefined : { auth } })));
  assert.equal(as('auth-a'), 'allowed:authKey');
  assert.equal(as('auth-a', subscribeTo(['ch1'])), 'allowed:authKey');
  assert.equal(as('auth-a', subscribeTo(['ch1', 'ch1-pnpres'])), 'ACCESS_DENIED', '-pnpres is checked separately');
  assert.equal(as('auth-a', publishTo('ch2')), 'ACCESS_DENIED');
  assert.equal(as('auth-b'), 'ACCESS_DENIED');
  assert.equal(as(undefined), 'ACCESS_DENIED');
  const denied = manager.check(accessRequest(KEYSET_A, { requirements: subscribeTo(['ch1', 'x'], ['g']), params: { auth: 'auth-b' } }));
  assert.ok(!denied.allowed);
  assert.deepEqual(denied.missing, { channels: ['ch1', 'x'], groups: ['g'], uuids: [] });
});

test('v2 grant without auth covers every auth key and requests without one', async () => {
  const { manager } = await startAccess();
  const payload = await manager.grantV2(KEYSET_A, grantQuery({ channel: 'lobby,news', r: '1' }));
  assert.equal(payload.level, 'channel');
  assert.deepEqual(Object.keys(payload.channels as object), ['lobby', 'news']);
  for (const params of [{}, { auth: 'whoever' }] as Array<Record<string, string>>) {
    assert.equal(code(manager.check(accessRequest(KEYSET_A, { requirements: subscribeTo(['lobby', 'news']), params }))), 'allowed:authKey');
  }
});

test('v2 key-level, group, uuid and wildcard grants', async () => {
  const { manager } = await startAccess();
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ auth: 'admin-ish', r: '1', m: '1' }))).level, 'subkey');
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ 'channel-group': 'cg1', auth: 'k', m: '1' }))).level, 'channel-group+auth');
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ 'target-uuid': 'u9', auth: 'k', g: '1', u: '1' }))).level, 'user');
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ channel: 'chat.*', auth: 'k', w: '1' }))).level, 'channel+auth');
  const as = (auth: string, requirements: ReturnType<typeof publishTo>) => code(manager.check(accessRequest(KEYSET_A, { requirements, params: { auth } })));
  assert.equal(as('admin-ish', requirementsFor('list_groups')), 'allowed:authKey');
  assert.equal(as('admin-ish', subscribeTo(['anything'], ['any-group'])), 'allowed:authKey');
  assert.equal(as('admin-ish', publishTo('anything')), 'ACCESS_DENIED');
  assert.equal(as('k', requirementsFor('add_channels_to_group', { groups: ['cg1'] })), 'allowed:authKey');
  assert.equal(as('k', requirementsFor('list_groups')), 'ACCESS_DENIED', 'a group grant is not keyset level');
  assert.equal(as('k', requirementsFor('set_uuid_metadata', { uuids: ['u9'] })), 'allowed:authKey');
  assert.equal(as('k', requirementsFor('remove_uuid_metadata', { uuids: ['u9'] })), 'ACCESS_DENIED');
  assert.equal(as('k', publishTo('chat.room1')), 'allowed:authKey');
  assert.equal(as('k', publishTo('chat.room1.thread')), 'allowed:authKey');
  assert.equal(as('k', publishTo('chatroom')), 'ACCESS_DENIED');
});

test('v2 validation: ttl range, wildcard form, uuid mixing, flag values', async () => {
  const { manager } = await startAccess();
  const rejects = async (q: Record<string, string>, pattern: RegExp) =>
    assert.rejects(manager.grantV2(KEYSET_A, grantQuery(q)), (e) => isParleyError(e) && e.code === 'INVALID_PARAM' && pattern.test(e.message));
  await rejects({ channel: 'c', r: '1', ttl: '525601' }, /grant\.ttl: out of range/);
  await rejects({ channel: 'c', r: '1', ttl: '-1' }, /grant\.ttl/);
  await rejects({ channel: 'a.b.c.*', r: '1' }, /wildcard/);
  await rejects({ channel: 'a,,b', r: '1' }, /channels\[1\]: must not be empty/);
  await rejects({ channel: 'c', 'target-uuid': 'u', auth: 'k', g: '1' }, /cannot be combined/);
  await rejects({ channel: 'c', r: 'yes' }, /grant\.r: must be 1 or 0/);
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ channel: 'c', r: '1', ttl: '525600' }))).ttl, 525600);
  assert.equal((await manager.grantV2(KEYSET_A, grantQuery({ channel: 'c', r: '1' }))).ttl, 1440, 'default ttl');
});

test('v2 TTL expiry on a fake clock; ttl 0 never expires; all-zero flags withdraw', async () => {
  const { manager, clock } = await startAccess();
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'short', auth: 'k', r: '1', ttl: '1' }));
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'forever', auth: 'k', r: '1', ttl: '0' }));
  const reads = (ch: string) => manager.check(accessRequest(KEYSET_A, { requirements: subscribeTo([ch]), params: { auth: 'k' } })).allowed;
  assert.equal(reads('short'), true);
  clock.advance(59_999);
  assert.equal(reads('short'), true);
  clock.advance(1);
  assert.equal(reads('short'), false, 'expired exactly at ttl, without a restart or purge');
  clock.advance(365 * 24 * 3_600_000);
  assert.equal(reads('forever'), true);
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'forever', auth: 'k' }));
  assert.equal(reads('forever'), false, 'withdrawn');
  manager.purgeExpired();
  assert.equal(manager.stats().grants, 0);
});

test('v2 audit (§7.2) reports live grants with remaining ttl', async () => {
  const { manager, clock } = await startAccess();
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'auth-a', r: '1', w: '1', ttl: '60' }));
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', r: '1', ttl: '0' }));
  await manager.grantV2(KEYSET_A, grantQuery({ 'channel-group': 'cg1', m: '1', ttl: '10' }));
  await manager.grantV2(KEYSET_A, grantQuery({ r: '1', ttl: '30' }));
  clock.advance(5 * 60_000);
  assert.deepEqual(
    await manager.auditV2(
      KEYSET_A,
      new Map([
        ['channel', 'ch1'],
        ['auth', 'auth-a'],
      ]),
    ),
    {
      level: 'channel+auth',
      subscribe_key: KEYSET_A.subscribeKey,
      channel: 'ch1',
      auths: { 'auth-a': { r: 1, w: 1, m: 0, d: 0, g: 0, u: 0, j: 0, ttl: 55 } },
    },
  );
  const channel = (await manager.auditV2(KEYSET_A, { channel: 'ch1' })) as { channels: Record<string, Record<string, unknown>> };
  assert.equal(channel.channels.ch1.r, 1);
  assert.equal(channel.channels.ch1.ttl, 0, 'no expiry');
  assert.deepEqual(Object.keys(channel.channels.ch1.auths as object), ['auth-a']);
  const group = (await manager.auditV2(KEYSET_A, { group: 'cg1' })) as Record<string, any>;
  assert.deepEqual(group['channel-groups'].cg1, { r: 0, m: 1, ttl: 5 });
  const subkey = (await manager.auditV2(KEYSET_A)) as Record<string, any>;
  assert.equal(subkey.level, 'subkey');
  assert.equal(subkey.r, 1);
  assert.equal(subkey.ttl, 25);
  assert.deepEqual(Object.keys(subkey.channels.ch1.auths), ['auth-a']);
  clock.advance(60 * 60_000);
  assert.deepEqual(await manager.auditV2(KEYSET_A, { channel: 'ch1', authKeys: ['auth-a'] }), {
    level: 'channel+auth',
    subscribe_key: KEYSET_A.subscribeKey,
    channel: 'ch1',
    auths: {},
  });
});

test('grants live in the GrantStore: a restarted manager, or another node after a change event, sees them', async () => {
  const stores = createMemoryStores();
  const clock = createFakeClock();
  const nodeA = await startAccess({ stores, clock });
  const nodeB = await startAccess({ stores, clock });
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'k', w: '1' }));
  const req = accessRequest(KEYSET_A, { requirements: publishTo('ch1'), params: { auth: 'k' } });
  assert.equal(nodeB.manager.check(req).allowed, false, 'node B has not heard yet');
  const seen: Array<[AccessChange, string]> = [];
  nodeB.manager.onChange((change, origin) => seen.push([change, origin]));
  await nodeB.manager.applyRemoteChange({ kind: 'grants-changed', subscribeKey: KEYSET_A.subscribeKey });
  assert.equal(nodeB.manager.check(req).allowed, true);
  assert.deepEqual(seen, [[{ kind: 'grants-changed', subscribeKey: KEYSET_A.subscribeKey }, 'remote']]);
  const restarted = await startAccess({ stores, clock });
  assert.equal(restarted.manager.check(req).allowed, true);
});

test('a grant names its grants to the other nodes, which re-read just those (withdrawals too) instead of the whole list', async () => {
  const stores = createMemoryStores();
  const clock = createFakeClock();
  const reads: string[] = [];
  const grants: GrantStore = {
    put: (g) => stores.grants.put(g),
    list: (sk, now) => {
      reads.push('list');
      return stores.grants.list(sk, now);
    },
    get: (sk, targets, now) => {
      reads.push(`get ${targets.length}`);
      return stores.grants.get(sk, targets, now);
    },
    purgeExpired: (now) => stores.grants.purgeExpired(now),
  };
  const nodeA = await startAccess({ stores, clock });
  const nodeB = await startAccess({ stores: { ...stores, grants }, clock });
  // Many other grants in the keyset: node B must not read them again for one change.
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: Array.from({ length: 500 }, (_, i) => `other.${i}`).join(','), auth: 'x', r: '1' }));
  const changes: AccessChange[] = [];
  nodeA.manager.onChange((change) => changes.push(change));
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1,ch2', auth: 'k,j', w: '1' }));
  const change = changes[0];
  assert.ok(change.kind === 'grants-changed');
  assert.deepEqual(change.targets?.map((t) => `${t.level}/${t.resource}/${t.authKey}`).sort(), [
    'channel/ch1/j',
    'channel/ch1/k',
    'channel/ch2/j',
    'channel/ch2/k',
  ]);
  const req = (channel: string, auth: string) => accessRequest(KEYSET_A, { requirements: publishTo(channel), params: { auth } });
  reads.length = 0;
  await nodeB.manager.applyRemoteChange(change);
  assert.deepEqual(reads, ['get 4']);
  assert.equal(nodeB.manager.check(req('ch2', 'j')).allowed, true);

  // A withdrawal reaches node B the same way: the store holds none of them any more.
  changes.length = 0;
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch2', auth: 'j' }));
  reads.length = 0;
  await nodeB.manager.applyRemoteChange(changes[0]);
  assert.deepEqual(reads, ['get 1']);
  assert.equal(nodeB.manager.check(req('ch2', 'j')).allowed, false);
  assert.equal(nodeB.manager.check(req('ch1', 'j')).allowed, true, 'only the named grant is withdrawn');

  // Events of two nodes arriving in either order leave the mirror where the store is.
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch3', auth: 'k', w: '1' }));
  const granted = changes.at(-1)!;
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch3', auth: 'k' }));
  const withdrawn = changes.at(-1)!;
  await nodeB.manager.applyRemoteChange(withdrawn);
  await nodeB.manager.applyRemoteChange(granted);
  assert.equal(nodeB.manager.check(req('ch3', 'k')).allowed, false, 'the later event re-reads the store, not its own payload');

  // A change too large to name has the other nodes re-read the keyset's list.
  changes.length = 0;
  const channels = Array.from({ length: MAX_CHANGED_TARGETS + 1 }, (_, i) => `big.${i}`).join(',');
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: channels, auth: 'z', r: '1' }));
  assert.deepEqual(changes, [{ kind: 'grants-changed', subscribeKey: KEYSET_A.subscribeKey }]);
  reads.length = 0;
  await nodeB.manager.applyRemoteChange(changes[0]);
  assert.deepEqual(reads, ['list']);
});

test('a grant writes at most MAX_GRANT_RECORDS grants: resources × auth keys past it is refused, naming both', async () => {
  const { manager, stores } = await startAccess();
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(',');
  await assert.rejects(manager.grantV2(KEYSET_A, grantQuery({ channel: names('c', 101), auth: names('a', 100), r: '1' })), (err: unknown) => {
    assert.ok(isParleyError(err) && err.code === 'INVALID_PARAM');
    assert.match(err.message, /101 channels, groups or uuids × 100 auth keys make 10100 grants; at most 10000/);
    return true;
  });
  assert.deepEqual(await stores.grants.list(KEYSET_A.subscribeKey, 0), [], 'nothing written');
  await manager.grantV2(KEYSET_A, grantQuery({ channel: names('c', 100), auth: names('a', 100), r: '1' }));
  assert.equal((await stores.grants.list(KEYSET_A.subscribeKey, 0)).length, MAX_GRANT_RECORDS);
});

test('change listeners hear local grants and revocations; a throwing listener harms no one', async () => {
  const { manager, clock } = await startAccess();
  const seen: string[] = [];
  manager.onChange(() => {
    throw new Error('listener bug');
  });
  const off = manager.onChange((change, origin) => seen.push(`${change.kind}:${origin}`));
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'c', r: '1' }));
  const token = await manager.grantToken(KEYSET_A, { ttl: 5, permissions: { resources: { channels: { c: 1 } } } });
  await manager.revokeToken(KEYSET_A, token);
  off();
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'c' }));
  assert.deepEqual(seen, ['grants-changed:local', 'token-revoked:local']);
  assert.ok(clock.nowMs() > 0);
});

test('recheck for parked subscribers: secret stays, withdrawn grants and revoked tokens end', async () => {
  const { manager } = await startAccess();
  const reqs = subscribeTo(['ch1']);
  assert.equal(code(manager.recheck({ kind: 'secret' }, KEYSET_A, 'u', reqs)), 'allowed:secret');
  assert.equal(code(manager.recheck({ kind: 'open' }, OPEN_KEYSET, 'u', reqs)), 'allowed:open');
  assert.equal(code(manager.recheck({ kind: 'open' }, KEYSET_A, 'u', reqs)), 'ACCESS_DENIED');
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'k', r: '1' }));
  const first = manager.check(accessRequest(KEYSET_A, { requirements: reqs, params: { auth: 'k' } }));
  assert.ok(first.allowed);
  assert.equal(code(manager.recheck(first.credential, KEYSET_A, 'user-1', reqs)), 'allowed:authKey');
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'k' }));
  assert.equal(code(manager.recheck(first.credential, KEYSET_A, 'user-1', reqs)), 'ACCESS_DENIED');

  const token = await manager.grantToken(KEYSET_A, { ttl: 5, permissions: { resources: { channels: { ch1: 1 } } } });
  const viaToken = manager.check(accessRequest(KEYSET_A, { requirements: reqs, params: { auth: token } }));
  assert.ok(viaToken.allowed && viaToken.credential.kind === 'token');
  assert.equal(code(manager.recheck(viaToken.credential, KEYSET_A, 'user-1', reqs)), 'allowed:token');
  await manager.revokeToken(KEYSET_A, token);
  assert.equal(code(manager.recheck(viaToken.credential, KEYSET_A, 'user-1', reqs)), 'TOKEN_REVOKED');
});

test('explain on the manager resolves the credential the way check() does', async () => {
  const { manager } = await startAccess();
  await manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch1', auth: 'k', r: '1' }));
  const e = manager.explain(KEYSET_A, 'k', 'u', subscribeTo(['ch1', 'ch2']));
  assert.deepEqual(
    e.checks.map((c) => c.allowed),
    [true, false],
  );
  const token = await manager.grantToken(KEYSET_A, { ttl: 5, permissions: { patterns: { channels: { 'ch.*': 1 } } } });
  assert.match(manager.explain(KEYSET_A, token, 'u', subscribeTo(['ch7'])).checks[0].detail, /pattern "ch\.\*"/);
  assert.match(manager.explain(KEYSET_A, token.slice(0, -3), 'u', subscribeTo(['ch7'])).checks[0].detail, /could not be parsed/);
});

test('resync reloads grants and the denylist a node missed while cut off from the others', async () => {
  const stores = createMemoryStores();
  const clock = createFakeClock();
  const nodeA = await startAccess({ stores, clock });
  const nodeB = await startAccess({ stores, clock });
  const token = await nodeA.manager.grantToken(KEYSET_A, { ttl: 10, permissions: { resources: { channels: { ch1: 2 } } } });
  const viaToken = accessRequest(KEYSET_A, { requirements: publishTo('ch1'), params: { auth: token } });
  const viaKey = accessRequest(KEYSET_A, { requirements: publishTo('ch2'), params: { auth: 'k' } });
  assert.equal(code(nodeB.manager.check(viaToken)), 'allowed:token');
  // Changes made on A while B hears nothing:
  await nodeA.manager.revokeToken(KEYSET_A, token);
  await nodeA.manager.grantV2(KEYSET_A, grantQuery({ channel: 'ch2', auth: 'k', w: '1' }));
  assert.equal(code(nodeB.manager.check(viaToken)), 'allowed:token', 'stale until resync');
  assert.equal(code(nodeB.manager.check(viaKey)), 'ACCESS_DENIED');
  const seen: string[] = [];
  nodeB.manager.onChange((c, origin) => seen.push(`${c.kind}:${origin}`));
  await nodeB.manager.resync();
  assert.equal(code(nodeB.manager.check(viaToken)), 'TOKEN_REVOKED');
  assert.equal(code(nodeB.manager.check(viaKey)), 'allowed:authKey');
  assert.ok(seen.includes('grants-changed:remote'));
});

test('tokens are issued padded (Python, Swift, C# need it); every spelling is the same token, revoked together', async () => {
  const { manager } = await startAccess();
  const reqs = subscribeTo(['ch1']);
  // Find a token whose length needs padding (two in three do); the nonce changes the length.
  let token = '';
  for (let i = 0; i < 20 && !token.endsWith('='); i++) {
    token = await manager.grantToken(KEYSET_A, { ttl: 5, permissions: { resources: { channels: { ch1: 1 } }, meta: { i } } });
  }
  assert.ok(token.endsWith('='), token);
  assert.equal(token.length % 4, 0);
  const unpadded = token.replace(/=+$/, '');
  for (const spelling of [token, unpadded]) {
    assert.equal(code(manager.check(accessRequest(KEYSET_A, { requirements: reqs, params: { auth: spelling } }))), 'allowed:token');
  }
  await manager.revokeToken(KEYSET_A, unpadded);
  for (const spelling of [token, unpadded]) {
    assert.equal(code(manager.check(accessRequest(KEYSET_A, { requirements: reqs, params: { auth: spelling } }))), 'TOKEN_REVOKED');
  }
});
