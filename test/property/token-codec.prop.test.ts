import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isWellFormedUnicode, PatternCache } from '../../src/access/patterns.ts';
import { bitsToTokenPermissions } from '../../src/access/permissions.ts';
import { decodeTokenClaims, type MetaValue, type TokenClaims } from '../../src/access/token/codec.ts';
import { signToken, signTokenBytes } from '../../src/access/token/sign.ts';
import { verifyToken } from '../../src/access/token/verify.ts';
import { accessRequest, KEYSET_A, sdkParseToken, startAccess } from '../helpers/access.ts';

const SECRET = 'prop-secret';

// Any well-formed Unicode name; "__proto__" is excluded only where the SDK's plain objects would choke.
const name = fc.string({ minLength: 1, maxLength: 24, unit: 'binary' }).filter(isWellFormedUnicode);
const permissionMap = fc.array(fc.tuple(name, fc.integer({ min: 0, max: 255 })), { maxLength: 5 }).map((pairs) => new Map(pairs));
const patternMap = fc
  .array(fc.tuple(fc.constantFrom('.*', '^chat-.*$', 'a|b', '[0-9]+', 'é+'), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })
  .map((pairs) => new Map(pairs));
const metaValue: fc.Arbitrary<MetaValue> = fc.oneof(
  name,
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.boolean(),
  fc.constant(null),
);

const claimsArb: fc.Arbitrary<TokenClaims> = fc
  .record({
    version: fc.constant(2),
    issuedAtSec: fc.integer({ min: 0, max: 2 ** 32 + 5 }),
    ttlMinutes: fc.integer({ min: 1, max: 43_200 }),
    // fast-check may build records without a prototype; the codec returns plain objects.
    resources: fc.record({ channels: permissionMap, groups: permissionMap, uuids: permissionMap }).map((r) => ({ ...r })),
    patterns: fc.record({ channels: patternMap, groups: patternMap, uuids: patternMap }).map((r) => ({ ...r })),
    meta: fc.array(fc.tuple(name, metaValue), { maxLength: 4 }).map((pairs) => new Map(pairs)),
    authorizedUuid: fc.option(name, { nil: undefined }),
    // What AccessManager mints (sign.ts newTokenNonce), and any other text: the codec does not care.
    nonce: fc.option(
      fc.oneof(
        fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url')),
        name,
      ),
      { nil: undefined },
    ),
  })
  .map((c) => ({ ...c }));

test('decode(encode(claims)) deep-equals claims', () => {
  fc.assert(
    fc.property(claimsArb, (claims) => {
      const decoded = decodeTokenClaims(signTokenBytes(SECRET, claims));
      assert.deepStrictEqual(decoded, { ...claims, authorizedUuid: claims.authorizedUuid, nonce: claims.nonce });
      const verified = verifyToken(signToken(SECRET, claims), SECRET, new PatternCache());
      assert.ok(verified.ok);
      assert.deepStrictEqual(verified.token.claims, decoded);
    }),
    { numRuns: 300 },
  );
});

test('the SDK parseToken decodes every minted token into exactly the granted permissions', () => {
  const noProto = (m: ReadonlyMap<string, number>) => new Map([...m].filter(([k]) => k !== '__proto__'));
  fc.assert(
    fc.property(claimsArb, (raw) => {
      const claims: TokenClaims = {
        ...raw,
        resources: { channels: noProto(raw.resources.channels), groups: noProto(raw.resources.groups), uuids: noProto(raw.resources.uuids) },
        meta: new Map([...raw.meta].filter(([k]) => k !== '__proto__')),
      };
      const parsed = sdkParseToken(signToken(SECRET, claims))!;
      assert.equal(parsed.version, 2);
      assert.equal(parsed.timestamp, claims.issuedAtSec);
      assert.equal(parsed.ttl, claims.ttlMinutes);
      assert.equal(parsed.authorized_uuid, claims.authorizedUuid);
      for (const section of ['resources', 'patterns'] as const) {
        for (const kind of ['channels', 'groups', 'uuids'] as const) {
          const expected = Object.fromEntries([...claims[section][kind]].map(([k, bits]) => [k, bitsToTokenPermissions(bits)]));
          assert.deepStrictEqual(parsed[section]?.[kind] ?? {}, expected, `${section}.${kind}`);
        }
      }
      assert.deepStrictEqual(parsed.meta ?? {}, Object.fromEntries(claims.meta));
    }),
    { numRuns: 200 },
  );
});

test('any single bit flip or truncation of a token is refused by verification', () => {
  fc.assert(
    fc.property(claimsArb, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (claims, pos, bit, cut) => {
      const bytes = signTokenBytes(SECRET, claims);
      const cache = new PatternCache();
      const flipped = Buffer.from(bytes);
      flipped[pos % flipped.length] ^= 1 << bit;
      assert.equal(verifyToken(flipped.toString('base64url'), SECRET, cache).ok, false);
      const truncated = bytes.subarray(0, cut % bytes.length);
      assert.equal(verifyToken(truncated.toString('base64url'), SECRET, cache).ok, false);
      // Character-level damage too: dropping characters from the string form.
      const text = bytes.toString('base64url');
      assert.equal(verifyToken(text.slice(0, (cut % (text.length - 1)) + 1), SECRET, cache).ok, false);
    }),
    { numRuns: 400 },
  );
});

test('a damaged token never gets access through the Access Manager', async () => {
  const { manager } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, { ttl: 60, permissions: { resources: { channels: { ch1: 255 } } } });
  const bytes = Buffer.from(token, 'base64url');
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (pos, bit, cut) => {
      const flipped = Buffer.from(bytes);
      flipped[pos % flipped.length] ^= 1 << bit;
      const requirements = [{ kind: 'channels' as const, name: 'ch1', perm: 2 }];
      for (const damaged of [flipped.toString('base64url'), token.slice(0, cut % token.length)]) {
        assert.equal(manager.check(accessRequest(KEYSET_A, { requirements, params: { auth: damaged } })).allowed, false);
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(manager.check(accessRequest(KEYSET_A, { requirements: [{ kind: 'channels', name: 'ch1', perm: 2 }], params: { auth: token } })).allowed, true);
});
