import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import { signToken } from '../../../src/access/token/sign.ts';
import { tokenBytes } from '../../../src/access/token/verify.ts';
import type { Decision } from '../../../src/access/types.ts';
import { bodyIssuesOf, isParleyError } from '../../../src/errors.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';
import { accessRequest, KEYSET_A, KEYSET_B, sdkParseToken, signedRequest, startAccess } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);

/** The SDK's grantToken body (§8.1), for `ttl` minutes. */
function body(ttl = 15, permissions: Record<string, unknown> = {}): unknown {
  return {
    ttl,
    permissions: {
      uuid: 'user-1',
      resources: { channels: { ch1: 3 }, groups: { cg1: 5 }, uuids: { 'user-1': 96 }, users: {}, spaces: {} },
      patterns: { channels: { '^chat-.*$': 1 }, groups: {}, uuids: {}, users: {}, spaces: {} },
      meta: { role: 'tester' },
      ...permissions,
    },
  };
}

function useToken(token: string, requirements = requirementsFor('publish', { channels: ['ch1'] }), uuid = 'user-1') {
  return accessRequest(KEYSET_A, { requirements, params: { auth: token }, uuid });
}

test('grant token → the SDK parseToken sees exactly the granted permissions', async () => {
  const { manager, clock } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body());
  const parsed = sdkParseToken(token)!;
  const none = { read: false, write: false, manage: false, delete: false, get: false, update: false, join: false };
  assert.equal(parsed.version, 2);
  assert.equal(parsed.timestamp, Math.floor(clock.nowMs() / 1000));
  assert.equal(parsed.ttl, 15);
  assert.equal(parsed.authorized_uuid, 'user-1');
  assert.deepEqual(parsed.resources, {
    channels: { ch1: { ...none, read: true, write: true } },
    groups: { cg1: { ...none, read: true, manage: true } },
    uuids: { 'user-1': { ...none, get: true, update: true } },
  });
  assert.deepEqual(parsed.patterns, { channels: { '^chat-.*$': { ...none, read: true } } });
  assert.deepEqual(parsed.meta, { role: 'tester' });
});

test('a token allows what it grants, by exact entry or pattern, and nothing else', async () => {
  const { manager } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body());
  assert.equal(code(manager.check(useToken(token))), 'allowed:token');
  assert.equal(code(manager.check(useToken(token, requirementsFor('subscribe', { channels: ['ch1', 'chat-7'], groups: ['cg1'] })))), 'allowed:token');
  assert.equal(code(manager.check(useToken(token, requirementsFor('add_channels_to_group', { groups: ['cg1'] })))), 'allowed:token');
  assert.equal(code(manager.check(useToken(token, requirementsFor('set_uuid_metadata', { uuids: ['user-1'] })))), 'allowed:token');
  const denied = manager.check(useToken(token, requirementsFor('publish', { channels: ['ch1', 'chat-7', 'ch2'] })));
  assert.ok(!denied.allowed);
  assert.equal(denied.code, 'ACCESS_DENIED');
  assert.deepEqual(denied.missing, { channels: ['chat-7', 'ch2'], groups: [], uuids: [] });
});

test('authorized uuid must match the request uuid', async () => {
  const { manager } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body());
  const d = manager.check(useToken(token, undefined, 'mallory'));
  assert.equal(code(d), 'TOKEN_WRONG_UUID');
  assert.ok(!d.allowed && d.missing.channels[0] === 'ch1');
});

test('expiry on a fake clock: t + ttl·60 s; the cached entry does not outlive it', async () => {
  const { manager, clock } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body(1));
  assert.equal(code(manager.check(useToken(token))), 'allowed:token');
  assert.equal(manager.stats().cachedTokens, 1);
  clock.advance(59_999);
  assert.equal(code(manager.check(useToken(token))), 'allowed:token');
  clock.advance(1);
  assert.equal(code(manager.check(useToken(token))), 'TOKEN_EXPIRED');
  assert.equal(manager.stats().cachedTokens, 0);
  assert.equal(code(manager.check(useToken(token))), 'TOKEN_EXPIRED', 'uncached path agrees');
});

test('revocation: denied at once, cache invalidated, denylist survives a restart, until the token expires', async () => {
  const stores = createMemoryStores();
  const clock = createFakeClock();
  const { manager } = await startAccess({ stores, clock });
  const token = await manager.grantToken(KEYSET_A, body(10));
  assert.equal(code(manager.check(useToken(token))), 'allowed:token');
  assert.equal(manager.stats().cachedTokens, 1);
  await manager.revokeToken(KEYSET_A, token);
  assert.equal(manager.stats().cachedTokens, 0, 'cache invalidated');
  assert.equal(code(manager.check(useToken(token))), 'TOKEN_REVOKED');
  assert.equal(code(manager.check(useToken(token))), 'TOKEN_REVOKED');
  await manager.revokeToken(KEYSET_A, token); // idempotent

  const restarted = await startAccess({ stores, clock });
  assert.equal(code(restarted.manager.check(useToken(token))), 'TOKEN_REVOKED');
  clock.advance(10 * 60_000);
  assert.equal(code(restarted.manager.check(useToken(token))), 'TOKEN_EXPIRED');
  assert.equal(await stores.denyList.purgeExpired(clock.nowMs()), 1);
});

test('the denylist wins over a cached verification (remote revocation reaches this node)', async () => {
  const stores = createMemoryStores();
  const clock = createFakeClock();
  const nodeA = await startAccess({ stores, clock });
  const nodeB = await startAccess({ stores, clock });
  const token = await nodeA.manager.grantToken(KEYSET_A, body());
  assert.equal(code(nodeB.manager.check(useToken(token))), 'allowed:token');
  const changes: string[] = [];
  nodeA.manager.onChange((c, origin) => {
    changes.push(origin);
    if (origin === 'local') void nodeB.manager.applyRemoteChange(c);
  });
  await nodeA.manager.revokeToken(KEYSET_A, token);
  assert.equal(code(nodeB.manager.check(useToken(token))), 'TOKEN_REVOKED');
  assert.deepEqual(changes, ['local']);
});

test('a token from another keyset, a forged one, a damaged one', async () => {
  const { manager } = await startAccess();
  const fromB = await manager.grantToken(KEYSET_B, body());
  assert.equal(code(manager.check(useToken(fromB))), 'TOKEN_WRONG_KEYSET');
  const forged = signToken('guessed-secret', {
    version: 2,
    issuedAtSec: 1_700_000_000,
    ttlMinutes: 60,
    resources: { channels: new Map([['ch1', 255]]), groups: new Map(), uuids: new Map() },
    patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
    meta: new Map(),
  });
  assert.equal(code(manager.check(useToken(forged))), 'TOKEN_BAD_SIGNATURE');
  const token = await manager.grantToken(KEYSET_A, body());
  assert.equal(code(manager.check(useToken(token.slice(0, -6)))), 'TOKEN_MALFORMED');
  const flipped = tokenBytes(token)!;
  flipped[20] ^= 0x10;
  assert.equal(code(manager.check(useToken(flipped.toString('base64url')))), 'TOKEN_BAD_SIGNATURE');
});

test('a damaged token is never treated as a v2 auth key, even with a grant for every auth key', async () => {
  const { manager } = await startAccess();
  await manager.grantV2(
    KEYSET_A,
    new Map([
      ['channel', 'ch1'],
      ['w', '1'],
    ]),
  );
  const token = await manager.grantToken(KEYSET_A, body());
  assert.equal(code(manager.check(useToken('plain-auth-key'))), 'allowed:authKey', 'ordinary auth keys get the public grant');
  assert.equal(code(manager.check(useToken(token.slice(0, 90)))), 'TOKEN_MALFORMED');
});

test('grant-token validation errors carry the §1.5 details; revoke of an invalid token is 400-class', async () => {
  const { manager } = await startAccess();
  await assert.rejects(manager.grantToken(KEYSET_A, body(0)), (e) => {
    assert.ok(isParleyError(e));
    assert.equal(e.code, 'INVALID_PARAM');
    assert.equal(e.message, 'Invalid ttl');
    assert.equal(bodyIssuesOf(e)?.source, 'grant');
    assert.deepEqual(
      (bodyIssuesOf(e)?.details ?? []).map((d) => d.location),
      ['ttl'],
    );
    return true;
  });
  for (const bad of ['not-a-token', await manager.grantToken(KEYSET_B, body())]) {
    await assert.rejects(manager.revokeToken(KEYSET_A, bad), (e) => isParleyError(e) && e.code === 'INVALID_PARAM' && bodyIssuesOf(e)?.source === 'revoke');
  }
});

test('mintToken applies the same rules as the grant-token body: nothing unsafe is signed', async () => {
  const { manager } = await startAccess();
  const empty = { channels: new Map<string, number>(), groups: new Map<string, number>(), uuids: new Map<string, number>() };
  const request = { ttlMinutes: 5, resources: empty, patterns: { ...empty, channels: new Map([['(a+)+', 1]]) }, meta: new Map() };
  assert.throws(
    () => manager.mintToken(KEYSET_A, request),
    (e) => {
      assert.ok(isParleyError(e) && e.code === 'INVALID_PARAM');
      assert.deepEqual(
        (bodyIssuesOf(e)?.details ?? []).map((d) => d.location),
        ['permissions.patterns.channels["(a+)+"]'],
      );
      return true;
    },
  );
  assert.throws(
    () => manager.mintToken(KEYSET_A, { ...request, patterns: empty }),
    (e) => isParleyError(e) && /permissions/.test(JSON.stringify(e.details)),
  );
  assert.throws(
    () => manager.mintToken(KEYSET_A, { ...request, ttlMinutes: 0, patterns: { ...empty, channels: new Map([['ok', 1]]) } }),
    (e) => isParleyError(e) && e.message === 'Invalid ttl',
  );
  assert.equal(typeof manager.mintToken(KEYSET_A, { ...request, patterns: { ...empty, channels: new Map([['ok.*', 1]]) } }), 'string');
});

test('revoking an already expired token is a no-op', async () => {
  const { manager, clock, stores } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body(1));
  clock.advance(120_000);
  await manager.revokeToken(KEYSET_A, token);
  assert.deepEqual(await stores.denyList.list(clock.nowMs()), []);
});

test('the token cache is bounded', async () => {
  const { manager } = await startAccess({ tokenCacheSize: 2 });
  for (let i = 0; i < 5; i++) {
    const token = await manager.grantToken(KEYSET_A, body(5 + i));
    assert.equal(manager.check(useToken(token)).allowed, true);
  }
  assert.equal(manager.stats().cachedTokens, 2);
  const uncached = await startAccess({ tokenCacheSize: 0 });
  const token = await uncached.manager.grantToken(KEYSET_A, body());
  assert.equal(uncached.manager.check(useToken(token)).allowed, true);
  assert.equal(uncached.manager.stats().cachedTokens, 0);
});

test('denials are logged at debug with code and resources, never the token, auth key or signature', async () => {
  const { manager, lines, clock } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, body());
  manager.check(useToken(token, requirementsFor('publish', { channels: ['nope'] })));
  manager.check(useToken(token.slice(0, -5)));
  manager.check(accessRequest(KEYSET_A, { requirements: requirementsFor('publish', { channels: ['x'] }), params: { auth: 'sekrit-auth-key' } }));
  const signed = signedRequest(KEYSET_A, clock.nowMs() - 3_600_000, { adminOnly: true });
  manager.check(signed);
  const denials = lines.filter((l) => l.includes('access denied'));
  assert.equal(denials.length, 4);
  assert.ok(denials.some((l) => l.includes('"TOKEN_MALFORMED"') && l.includes('"ch1"')));
  const signature = signed.query.get('signature')!;
  for (const line of lines) {
    assert.ok(!line.includes(token.slice(0, 40)), 'no token');
    assert.ok(!line.includes('sekrit-auth-key'), 'no auth key');
    assert.ok(!line.includes(signature.slice(3, 30)), 'no signature');
    assert.ok(!line.includes(KEYSET_A.secretKey), 'no secret');
  }
});

test('v2 payload keys named __proto__ are data', async () => {
  const { manager } = await startAccess();
  const payload = await manager.grantV2(
    KEYSET_A,
    new Map([
      ['channel', '__proto__,x'],
      ['r', '1'],
    ]),
  );
  assert.deepEqual(Object.keys(payload.channels as object), ['__proto__', 'x']);
  assert.equal(JSON.stringify(payload).includes('"__proto__":{"r":1'), true);
});
