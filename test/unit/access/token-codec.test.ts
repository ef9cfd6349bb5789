import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from 'cbor-x';
import { assembleToken, decodeTokenClaims, encodeUnsignedToken, signedLength, SIG_TAIL_LENGTH, type TokenClaims } from '../../../src/access/token/codec.ts';
import { signToken, signTokenBytes, tokenHmac, tokenIdOf } from '../../../src/access/token/sign.ts';
import { checkTokenSignature, looksLikeToken, tokenBytes, verifyToken } from '../../../src/access/token/verify.ts';
import { PatternCache } from '../../../src/access/patterns.ts';
import { sdkParseToken } from '../../helpers/access.ts';

/** wire-protocol.md §8.6, verbatim. */
const EXAMPLE_HEX =
  'a841760241741a6553f1004374746c183c43726573a5446368616ea1636368310343677270a16363673105' +
  '43757372a043737063a04475756964a166757365722d31186043706174a5446368616ea1695e636861742d' +
  '2e2a240143677270a043757372a043737063a04475756964a0446d657461a164726f6c6566746573746572' +
  '447575696466757365722d314373696758207ccd3590e77540544ec4666d6110e9cc76d7f0a4d298c6751d' +
  '8e03fdfaa0f2d7';
const EXAMPLE_TOKEN =
  'qEF2AkF0GmVT8QBDdHRsGDxDcmVzpURjaGFuoWNjaDEDQ2dycKFjY2cxBUN1c3KgQ3NwY6BEdXVpZKFmdXNlci0xGGBDcGF0pURjaGFuoWleY2hhdC0uKiQBQ2dycKBDdXNyoENzcGOgRHV1aWSgRG1ldGGhZHJvbGVmdGVzdGVyRHV1aWRmdXNlci0xQ3NpZ1ggfM01kOd1QFROxGZtYRDpzHbX8KTSmMZ1HY4D_fqg8tc';
/** A real PubNub token from the SDK's tests (§8.6), signed with a secret we do not have. */
const PUBNUB_TOKEN =
  'p0F2AkF0GmEK-4NDdHRsGDxDcmVzpURjaGFuoWhjaGFubmVsMQFDZ3JwoWZncm91cDEBQ3VzcqBDc3BjoER1dWlkoWV1c2VyMQFDcGF0pURjaGFuoWIuKgFDZ3JwoWIuKgFDdXNyoENzcGOgRHV1aWShYi4qAURtZXRhoENzaWdYII5bQpWLi6Z-l5jbShWxZ7QL6o8Dz6_vxluhxrMGzQCN';

const EXAMPLE_CLAIMS: TokenClaims = {
  version: 2,
  issuedAtSec: 1700000000,
  ttlMinutes: 60,
  resources: { channels: new Map([['ch1', 3]]), groups: new Map([['cg1', 5]]), uuids: new Map([['user-1', 96]]) },
  patterns: { channels: new Map([['^chat-.*$', 1]]), groups: new Map(), uuids: new Map() },
  meta: new Map([['role', 'tester']]),
  authorizedUuid: 'user-1',
};

test('§8.6 worked example: same input → same 179 bytes → same token string', () => {
  const bytes = signTokenBytes('demo-secret', EXAMPLE_CLAIMS);
  assert.equal(bytes.length, 179);
  assert.equal(bytes.toString('hex'), EXAMPLE_HEX);
  // Issued padded, as PubNub does (§8.5); the unpadded spelling is the same token.
  assert.equal(signToken('demo-secret', EXAMPLE_CLAIMS), `${EXAMPLE_TOKEN}=`);
});

test('padded and unpadded spellings verify as the same token (same id for the denylist)', () => {
  const cache = new PatternCache();
  const padded = verifyToken(`${EXAMPLE_TOKEN}=`, 'demo-secret', cache);
  const unpadded = verifyToken(EXAMPLE_TOKEN, 'demo-secret', cache);
  assert.ok(padded.ok && unpadded.ok);
  assert.equal(padded.token.tokenId, unpadded.token.tokenId);
});

test('the signed bytes are the token with map(8)→map(7) and the 38-byte sig tail cut off', () => {
  const unsigned = encodeUnsignedToken(EXAMPLE_CLAIMS);
  const token = Buffer.from(EXAMPLE_HEX, 'hex');
  assert.equal(unsigned[0], 0xa7);
  assert.equal(token[0], 0xa8);
  assert.equal(signedLength(token), token.length - SIG_TAIL_LENGTH);
  assert.deepEqual(token.subarray(1, signedLength(token)), unsigned.subarray(1));
  assert.deepEqual(token.subarray(token.length - 32), tokenHmac('demo-secret', unsigned));
  assert.deepEqual(assembleToken(unsigned, tokenHmac('demo-secret', unsigned)), token);
});

test('the SDK parseToken decodes the §8.6 token into exactly the granted permissions', () => {
  const parsed = sdkParseToken(EXAMPLE_TOKEN)!;
  assert.equal(parsed.version, 2);
  assert.equal(parsed.timestamp, 1700000000);
  assert.equal(parsed.ttl, 60);
  assert.equal(parsed.authorized_uuid, 'user-1');
  assert.deepEqual(parsed.meta, { role: 'tester' });
  const none = { read: false, write: false, manage: false, delete: false, get: false, update: false, join: false };
  assert.deepEqual(parsed.resources, {
    channels: { ch1: { ...none, read: true, write: true } },
    groups: { cg1: { ...none, read: true, manage: true } },
    uuids: { 'user-1': { ...none, get: true, update: true } },
  });
  assert.deepEqual(parsed.patterns, { channels: { '^chat-.*$': { ...none, read: true } } });
});

test('tokens without authorized uuid, with empty sections, non-ASCII names and every meta scalar', () => {
  const claims: TokenClaims = {
    version: 2,
    issuedAtSec: 1800000000,
    ttlMinutes: 43200,
    resources: {
      channels: new Map([
        ['ch é/ü', 239],
        ['x'.repeat(300), 1],
      ]),
      groups: new Map(),
      uuids: new Map(),
    },
    patterns: { channels: new Map(), groups: new Map([['^team-[0-9]+$', 5]]), uuids: new Map([['.*', 104]]) },
    meta: new Map<string, string | number | boolean | null>([
      ['s', 'ünï'],
      ['i', -42],
      ['big', 70000],
      ['f', 1.5],
      ['t', true],
      ['f2', false],
      ['n', null],
    ]),
  };
  const token = signToken('k', claims);
  const bytes = tokenBytes(token)!;
  assert.equal(bytes[0], 0xa7, 'map(7) without uuid');
  assert.deepEqual(decodeTokenClaims(bytes), { ...claims, authorizedUuid: undefined, nonce: undefined });
  const parsed = sdkParseToken(token)!;
  assert.equal(parsed.authorized_uuid, undefined);
  assert.deepEqual(Object.keys(parsed.resources!.channels!), ['ch é/ü', 'x'.repeat(300)]);
  assert.equal(parsed.resources!.groups, undefined);
  assert.deepEqual(parsed.patterns!.uuids!['.*'], { read: false, write: false, manage: false, delete: true, get: true, update: true, join: false });
  assert.deepEqual(parsed.meta, { s: 'ünï', i: -42, big: 70000, f: 1.5, t: true, f2: false, n: null });
});

test("our decoder reads PubNub's own token layout; cbor-x agrees on the structure", () => {
  const bytes = tokenBytes(PUBNUB_TOKEN)!;
  const claims = decodeTokenClaims(bytes);
  assert.equal(claims.issuedAtSec, 1628109699);
  assert.deepEqual([...claims.resources.channels], [['channel1', 1]]);
  assert.deepEqual([...claims.patterns.uuids], [['.*', 1]]);
  assert.equal(claims.meta.size, 0);
  const viaCborX = new Decoder({ mapsAsObjects: false, useRecords: false } as never).decode(bytes) as Map<Uint8Array, unknown>;
  assert.equal(viaCborX.size, 7);
  // The PubNub token is not ours: it does not verify with any secret we know.
  assert.equal(verifyToken(PUBNUB_TOKEN, 'demo-secret', new PatternCache()).ok, false);
});

test('verifyToken: good token, wrong secret, truncated, tail damage, garbage', () => {
  const cache = new PatternCache();
  const ok = verifyToken(EXAMPLE_TOKEN, 'demo-secret', cache);
  assert.ok(ok.ok);
  assert.equal(ok.token.tokenId, tokenIdOf(Buffer.from(EXAMPLE_HEX, 'hex').subarray(-32)));
  assert.equal(ok.token.expiresAtMs, (1700000000 + 3600) * 1000);
  assert.equal(ok.token.patterns.channels[0].regex.test('chat-1'), true);
  const code = (t: string, secret = 'demo-secret') => {
    const v = verifyToken(t, secret, cache);
    return v.ok ? 'ok' : v.code;
  };
  assert.equal(code(EXAMPLE_TOKEN, 'other'), 'TOKEN_BAD_SIGNATURE');
  assert.equal(code(EXAMPLE_TOKEN.slice(0, -4)), 'TOKEN_MALFORMED');
  assert.equal(code(EXAMPLE_TOKEN.slice(0, 100)), 'TOKEN_MALFORMED');
  assert.equal(code(''), 'TOKEN_MALFORMED');
  assert.equal(code('x'), 'TOKEN_MALFORMED');
  const flipped = Buffer.from(EXAMPLE_HEX, 'hex');
  flipped[40] ^= 1;
  assert.equal(code(flipped.toString('base64url')), 'TOKEN_BAD_SIGNATURE');
});

test('checkTokenSignature restores the header byte it patches', () => {
  const bytes = Buffer.from(EXAMPLE_HEX, 'hex');
  assert.equal(checkTokenSignature(bytes, 'demo-secret'), 'ok');
  assert.equal(bytes.toString('hex'), EXAMPLE_HEX);
  assert.equal(checkTokenSignature(bytes, 'wrong'), 'bad');
  assert.equal(bytes.toString('hex'), EXAMPLE_HEX);
});

test('looksLikeToken tells v3 tokens from ordinary v2 auth keys by form', () => {
  assert.equal(looksLikeToken(EXAMPLE_TOKEN), true);
  assert.equal(looksLikeToken(PUBNUB_TOKEN), true);
  assert.equal(looksLikeToken(EXAMPLE_TOKEN.slice(0, 70)), true, 'a truncated token still looks like one');
  for (const key of ['auth-a', 'user-auth-key', 'secret-key-123', 'q'.repeat(80), 'aEF2'.repeat(30), '', '0f8e6c2a-1e4b-4c55-b8a4-8d0e6a3e9b11']) {
    assert.equal(looksLikeToken(key), false, key);
  }
});
