import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import type { Decision } from '../../../src/access/types.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';
import { createRedisStores } from '../../../src/store/redis/index.ts';
import { accessRequest, KEYSET_A, startAccess } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.ts';

const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);
const body = { ttl: 30, permissions: { resources: { channels: { ch1: 3 } }, patterns: {}, meta: {} } };
const useToken = (token: string) => accessRequest(KEYSET_A, { requirements: requirementsFor('publish', { channels: ['ch1'] }), params: { auth: token } });

test('a node restarted on storage that lost its deny list refuses every token issued before, revoked or not', async () => {
  const clock = createFakeClock();
  const first = await startAccess({ clock });
  const revoked = await first.manager.grantToken(KEYSET_A, body);
  const kept = await first.manager.grantToken(KEYSET_A, body);
  await first.manager.revokeToken(KEYSET_A, revoked);
  first.manager.close();

  // A new process on memory stores: the old revocations are gone with the old process.
  clock.advance(5_000);
  const restarted = await startAccess({ clock, stores: createMemoryStores() });
  assert.equal(code(restarted.manager.check(useToken(revoked))), 'TOKEN_ISSUED_BEFORE_EPOCH');
  assert.equal(code(restarted.manager.check(useToken(kept))), 'TOKEN_ISSUED_BEFORE_EPOCH');
  const decision = restarted.manager.check(useToken(kept));
  assert.ok(!decision.allowed && /revocation list/.test(decision.message ?? ''), JSON.stringify(decision));
  const fresh = await restarted.manager.grantToken(KEYSET_A, body);
  assert.equal(code(restarted.manager.check(useToken(fresh))), 'allowed:token');
  restarted.manager.close();
});

test('a cached token is refused once the node adopts a new epoch (the deny list is checked first)', async (t) => {
  const prefix = uniqueRedisPrefix();
  const admin = adminClient();
  const stores = createRedisStores({ url: REDIS_URL, prefix });
  t.after(async () => {
    await stores.close();
    await deleteKeysWithPrefix(admin, prefix);
    await admin.quit();
  });
  const clock = createFakeClock();
  const { manager, lines } = await startAccess({ clock, stores });
  const revoked = await manager.grantToken(KEYSET_A, body);
  const kept = await manager.grantToken(KEYSET_A, body);
  assert.equal(code(manager.check(useToken(kept))), 'allowed:token');
  await manager.revokeToken(KEYSET_A, revoked);
  const rechecked: string[] = [];
  manager.onChange((change, origin) => rechecked.push(`${change.kind}/${origin}`));

  await deleteKeysWithPrefix(admin, prefix);
  clock.advance(2_000);
  await manager.refreshEpoch();
  assert.equal(code(manager.check(useToken(kept))), 'TOKEN_ISSUED_BEFORE_EPOCH', 'the cached verification is not trusted');
  assert.equal(code(manager.check(useToken(revoked))), 'TOKEN_REVOKED', 'the mirror still knows the revocation, and wins');
  assert.ok(rechecked.includes('grants-changed/remote'), 'parked subscribers are re-checked');
  assert.ok(
    lines.some((l) => l.includes('revocation list was re-initialized')),
    'the operator is told',
  );
  // Nothing changes while the epoch stays.
  await manager.refreshEpoch();
  assert.equal((await manager.grantToken(KEYSET_A, body)).length > 0, true);
  manager.close();
});

test("a token is never stamped before the epoch: within the epoch's own second, granting waits for the next one", async () => {
  const clock = createFakeClock(1_700_000_000_400);
  const { manager } = await startAccess({ clock });
  // The epoch is 1_700_000_000_400: a token stamped t = 1_700_000_000 would read as issued before it.
  const pending = manager.grantToken(KEYSET_A, body);
  clock.advance(600);
  const token = await pending;
  assert.equal(code(manager.check(useToken(token))), 'allowed:token');
  // The synchronous path cannot wait: in the epoch's own second it refuses, retryable, rather than stamp ahead.
  const second = await startAccess({ clock: createFakeClock(1_700_000_000_400) });
  assert.throws(
    () =>
      second.manager.mintToken(KEYSET_A, {
        ttlMinutes: 5,
        resources: { channels: new Map([['ch1', 1]]), groups: new Map(), uuids: new Map() },
        patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
        meta: new Map(),
        authorizedUuid: undefined,
      }),
    { code: 'STORE_UNAVAILABLE' },
  );
  manager.close();
  second.manager.close();
});
