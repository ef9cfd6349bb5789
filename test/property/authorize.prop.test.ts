import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { authorizeToken, authorizeV2 } from '../../src/access/authorize.ts';
import { KEYSET_LEVEL } from '../../src/access/enforcement.ts';
import { KeysetGrants } from '../../src/access/grant-index.ts';
import { isUniversalPattern, isV2Wildcard, PatternCache } from '../../src/access/patterns.ts';
import type { TokenClaims } from '../../src/access/token/codec.ts';
import { signToken } from '../../src/access/token/sign.ts';
import { verifyToken, type VerifiedToken } from '../../src/access/token/verify.ts';
import type { Requirement, ResourceKind } from '../../src/access/types.ts';
import type { GrantLevel, GrantRecord } from '../../src/store/types.ts';
import { accessRequest, KEYSET_A, startAccess } from '../helpers/access.ts';

const SUB = 'sub-a';
const NOW = 1_700_000_000_000;
const BITS = [1, 2, 4, 8, 32, 64, 128];

// Small alphabets so generated grants and requests collide often.
const segment = fc.constantFrom('a', 'b', 'c', 'ab');
const plainName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
const wildcardName = fc.array(segment, { minLength: 1, maxLength: 2 }).map((s) => `${s.join('.')}.*`);
const requestName = fc.oneof(
  plainName,
  wildcardName,
  plainName.map((n) => `${n}-pnpres`),
  fc.constant(KEYSET_LEVEL),
);
const kind = fc.constantFrom<ResourceKind>('channels', 'groups', 'uuids');
const authKey = fc.constantFrom('', 'k1', 'k2');
const perm = fc.constantFrom(...BITS);
const perms = fc.integer({ min: 0, max: 255 });

const levelOf: Record<ResourceKind, GrantLevel> = { channels: 'channel', groups: 'channel-group', uuids: 'uuid' };

const grantArb: fc.Arbitrary<GrantRecord> = fc
  .record({
    kind,
    subkey: fc.boolean(),
    name: fc.oneof(plainName, wildcardName),
    authKey,
    perms: fc.integer({ min: 1, max: 255 }),
    expiresInMs: fc.option(fc.integer({ min: -120_000, max: 120_000 }), { nil: null }),
  })
  .map((g) => ({
    subscribeKey: SUB,
    level: g.subkey ? 'subkey' : levelOf[g.kind],
    // Wildcards only exist for channels.
    resource: g.subkey ? '' : g.kind === 'channels' || !g.name.endsWith('.*') ? g.name : g.name.slice(0, -2),
    authKey: g.authKey,
    perms: g.perms,
    ttlMinutes: g.expiresInMs === null ? 0 : 1,
    expiresAtMs: g.expiresInMs === null ? null : NOW + g.expiresInMs,
  }));

/** Grants interleaved with withdrawals (perms 0) of the same shapes. */
const grantOrWithdraw = fc.oneof({ weight: 4, arbitrary: grantArb }, { weight: 1, arbitrary: grantArb.map((g) => ({ ...g, perms: 0 })) });

const requirementArb: fc.Arbitrary<Requirement> = fc.record({ kind, name: requestName, perm });

/** The reference model: §7.1 read literally, one grant at a time, last write per key wins. */
function modelV2(grants: readonly GrantRecord[], auth: string, r: Requirement, nowMs: number): boolean {
  const latest = new Map<string, GrantRecord>();
  for (const g of grants) latest.set(JSON.stringify([g.level, g.resource, g.authKey]), g);
  for (const g of latest.values()) {
    if (g.perms === 0) continue;
    if (g.authKey !== auth && g.authKey !== '') continue;
    if (g.expiresAtMs !== null && nowMs >= g.expiresAtMs) continue;
    if ((g.perms & r.perm) !== r.perm) continue;
    if (g.level === 'subkey') return true;
    if (r.name === KEYSET_LEVEL || g.level !== levelOf[r.kind]) continue;
    if (g.resource === r.name) return true;
    if (r.kind === 'channels' && isV2Wildcard(g.resource) && r.name.startsWith(g.resource.slice(0, -1))) return true;
  }
  return false;
}

function index(grants: readonly GrantRecord[]): KeysetGrants {
  const g = new KeysetGrants(SUB);
  g.apply(grants);
  return g;
}

const ctx = (nowMs = NOW, uuid = 'u1') => ({ nowMs, uuid, credential: { kind: 'authKey' as const, authKey: 'x' } });

test('v2: authorize agrees with the reference model on random grants and requests', () => {
  fc.assert(
    fc.property(
      fc.array(grantOrWithdraw, { maxLength: 14 }),
      authKey,
      fc.array(requirementArb, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: -60_000, max: 60_000 }),
      (grants, auth, reqs, dt) => {
        const now = NOW + dt;
        const d = authorizeV2(reqs, index(grants), auth, ctx(now));
        const expected = reqs.every((r) => modelV2(grants, auth, r, now));
        assert.equal(d.allowed, expected);
        if (!d.allowed) {
          const unmet = reqs.filter((r) => !modelV2(grants, auth, r, now) && r.name !== KEYSET_LEVEL);
          for (const r of unmet) assert.ok(d.missing[r.kind].includes(r.name));
          const listed = d.missing.channels.length + d.missing.groups.length + d.missing.uuids.length;
          assert.equal(listed, new Set(unmet.map((r) => `${r.kind}/${r.name}`)).size);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('v2: purging expired grants never changes a decision, now or later', () => {
  fc.assert(
    fc.property(fc.array(grantOrWithdraw, { maxLength: 12 }), authKey, requirementArb, fc.integer({ min: 0, max: 200_000 }), (grants, auth, r, dt) => {
      const g = index(grants);
      const before = authorizeV2([r], g, auth, ctx(NOW + dt)).allowed;
      g.purgeExpired(NOW);
      assert.equal(authorizeV2([r], g, auth, ctx(NOW + dt)).allowed, before);
    }),
    { numRuns: 300 },
  );
});

test('v2: adding a grant for a new (level, resource, auth) never removes access', () => {
  fc.assert(
    fc.property(fc.array(grantArb, { maxLength: 10 }), grantArb, authKey, requirementArb, (grants, extra, auth, r) => {
      const key = (g: GrantRecord) => JSON.stringify([g.level, g.resource, g.authKey]);
      fc.pre(!grants.some((g) => key(g) === key(extra)));
      const before = authorizeV2([r], index(grants), auth, ctx()).allowed;
      const after = authorizeV2([r], index([...grants, extra]), auth, ctx()).allowed;
      assert.ok(!before || after);
    }),
    { numRuns: 500 },
  );
});

test('v2: withdrawing (perms 0) never adds access', () => {
  fc.assert(
    fc.property(fc.array(grantArb, { minLength: 1, maxLength: 10 }), fc.nat(), authKey, requirementArb, (grants, i, auth, r) => {
      const target = grants[i % grants.length];
      const before = authorizeV2([r], index(grants), auth, ctx()).allowed;
      const after = authorizeV2([r], index([...grants, { ...target, perms: 0 }]), auth, ctx()).allowed;
      assert.ok(before || !after);
    }),
    { numRuns: 300 },
  );
});

test('v2: an expired grant never allows', () => {
  fc.assert(
    fc.property(
      fc.array(grantArb, { minLength: 1, maxLength: 10 }),
      authKey,
      requirementArb,
      fc.integer({ min: 0, max: 10_000_000 }),
      (grants, auth, r, late) => {
        const expired = grants.map((g) => ({ ...g, expiresAtMs: NOW, ttlMinutes: 1 }));
        assert.equal(authorizeV2([r], index(expired), auth, ctx(NOW + late)).allowed, false);
      },
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// v3

const SAFE_PATTERNS = ['a.*', '^b-[0-9]+$', 'c|d', '.*', 'a\\.b', '[ab]+', 'ab?', '^.*$'];
const tokenName = fc.oneof(plainName, fc.constantFrom('b-1', 'b-22', 'c', 'd', 'ab', 'ba'));
const permissionMap = (names: fc.Arbitrary<string>) => fc.dictionary(names, perms, { maxKeys: 4 }).map((o) => new Map(Object.entries(o)));
const claimsArb: fc.Arbitrary<TokenClaims> = fc.record({
  version: fc.constant(2),
  issuedAtSec: fc.constant(NOW / 1000),
  ttlMinutes: fc.integer({ min: 1, max: 3 }),
  resources: fc.record({ channels: permissionMap(tokenName), groups: permissionMap(tokenName), uuids: permissionMap(tokenName) }),
  patterns: fc.record({
    channels: permissionMap(fc.constantFrom(...SAFE_PATTERNS)),
    groups: permissionMap(fc.constantFrom(...SAFE_PATTERNS)),
    uuids: permissionMap(fc.constantFrom(...SAFE_PATTERNS)),
  }),
  meta: fc.constant(new Map()),
  authorizedUuid: fc.option(fc.constantFrom('u1', 'u2'), { nil: undefined }),
});
const tokenRequirement: fc.Arbitrary<Requirement> = fc.record({ kind, name: fc.oneof(tokenName, fc.constant(KEYSET_LEVEL)), perm });

function verified(claims: TokenClaims): VerifiedToken {
  const v = verifyToken(signToken('s', claims), 's', new PatternCache());
  assert.ok(v.ok);
  return v.token;
}

function modelV3(claims: TokenClaims, r: Requirement): boolean {
  const has = (bits: number | undefined) => bits !== undefined && (bits & r.perm) === r.perm;
  if (r.name === KEYSET_LEVEL) return [...claims.patterns[r.kind]].some(([p, bits]) => isUniversalPattern(p) && has(bits));
  if (has(claims.resources[r.kind].get(r.name))) return true;
  return [...claims.patterns[r.kind]].some(([p, bits]) => has(bits) && new RegExp(`^(?:${p})$`).test(r.name));
}

test('v3: authorize agrees with the reference model (exact res, full-match patterns, expiry, uuid)', () => {
  fc.assert(
    fc.property(
      claimsArb,
      fc.array(tokenRequirement, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 240_000 }),
      fc.constantFrom('u1', 'u2'),
      (claims, reqs, dt, uuid) => {
        const d = authorizeToken(reqs, verified(claims), ctx(NOW + dt, uuid));
        const expired = dt >= claims.ttlMinutes * 60_000;
        const wrongUuid = claims.authorizedUuid !== undefined && claims.authorizedUuid !== uuid;
        if (expired) assert.equal(d.allowed ? 'allowed' : d.code, 'TOKEN_EXPIRED');
        else if (wrongUuid) assert.equal(d.allowed ? 'allowed' : d.code, 'TOKEN_WRONG_UUID');
        else
          assert.equal(
            d.allowed,
            reqs.every((r) => modelV3(claims, r)),
          );
      },
    ),
    { numRuns: 500 },
  );
});

test('the denylist always wins: a revoked token is refused for every request, cached or not', async () => {
  await fc.assert(
    fc.asyncProperty(claimsArb, fc.array(tokenRequirement, { maxLength: 3 }), fc.boolean(), fc.boolean(), async (claims, reqs, warmCache, remote) => {
      const { manager, clock } = await startAccess();
      // mintToken applies the §8.1 rules: at least one resource.
      const channels = new Map([...claims.resources.channels, ['always', 1]]);
      const token = manager.mintToken(KEYSET_A, { ...claims, resources: { ...claims.resources, channels } });
      const uuid = claims.authorizedUuid ?? 'u1';
      const request = accessRequest(KEYSET_A, { requirements: reqs, params: { auth: token }, uuid });
      if (warmCache) manager.check(request);
      if (remote) {
        const v = verifyToken(token, KEYSET_A.secretKey, new PatternCache());
        assert.ok(v.ok);
        await manager.applyRemoteChange({ kind: 'token-revoked', subscribeKey: KEYSET_A.subscribeKey, tokenId: v.token.tokenId });
      } else {
        await manager.revokeToken(KEYSET_A, token);
      }
      const d = manager.check(request);
      assert.equal(d.allowed ? 'allowed' : d.code, 'TOKEN_REVOKED');
      assert.ok(clock.nowMs() === NOW);
    }),
    { numRuns: 60 },
  );
});
