import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from 'cbor-x';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import { decodeTokenClaims, SIG_TAIL_LENGTH, type TokenClaims } from '../../../src/access/token/codec.ts';
import { signToken, TOKEN_NONCE_BYTES } from '../../../src/access/token/sign.ts';
import { tokenBytes, verifyToken } from '../../../src/access/token/verify.ts';
import { PatternCache } from '../../../src/access/patterns.ts';
import type { Decision } from '../../../src/access/types.ts';
import { AccessManager } from '../../../src/access/access-manager.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';
import { accessRequest, KEYSET_A, sdkParseToken, silentLogger, startAccess } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);

const BODY = {
  ttl: 30,
  permissions: {
    resources: { channels: { room: 3 }, groups: {}, uuids: {}, users: {}, spaces: {} },
    patterns: { channels: { '^team\\.[^.]+$': 1 }, groups: {}, uuids: {}, users: {}, spaces: {} },
    meta: { plan: 'pro' },
  },
};

const readRoom = (token: string) => accessRequest(KEYSET_A, { requirements: requirementsFor('subscribe', { channels: ['room'] }), params: { auth: token } });

/**
 * The token shape every official SDK's parseToken needs (shared/docs/sdk-differences.md §1), checked
 * with an independent CBOR decoder: top-level keys are byte strings (Dart casts them), v/t/ttl/res/pat/meta
 * are present (Python, Swift), sig is a 32-byte byte string (C#), uuid is text (Kotlin), res/pat carry
 * chan/grp/uuid maps (Swift Codable, JS), and every byte-string VALUE but sig is valid UTF-8 (Python's
 * decode_utf8_dict decodes them strictly, so raw random bytes anywhere else would break parse_token).
 */
function assertEverySdkCanParse(token: string): Map<string, unknown> {
  const raw = new Decoder({ mapsAsObjects: false, useRecords: false } as never).decode(tokenBytes(token)!) as Map<unknown, unknown>;
  const top = new Map<string, unknown>();
  for (const [k, v] of raw) {
    assert.ok(k instanceof Uint8Array, 'top-level keys are byte strings');
    top.set(Buffer.from(k).toString('latin1'), v);
  }
  for (const key of ['v', 't', 'ttl', 'res', 'pat', 'meta', 'sig']) assert.ok(top.has(key), `top-level ${key}`);
  assert.ok(top.get('sig') instanceof Uint8Array && (top.get('sig') as Uint8Array).length === 32);
  if (top.has('uuid')) assert.equal(typeof top.get('uuid'), 'string');
  for (const section of ['res', 'pat']) {
    const names = [...(top.get(section) as Map<Uint8Array, unknown>).keys()].map((k) => Buffer.from(k).toString('latin1'));
    for (const sub of ['chan', 'grp', 'uuid']) assert.ok(names.includes(sub), `${section}.${sub}`);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const walk = (value: unknown, key: string): void => {
    if (value instanceof Uint8Array) {
      if (key !== 'sig') assert.doesNotThrow(() => utf8.decode(value), `byte string under ${key} is valid UTF-8`);
    } else if (value instanceof Map) for (const [k, v] of value) walk(v, k instanceof Uint8Array ? Buffer.from(k).toString('latin1') : String(k));
  };
  for (const [k, v] of top) walk(v, k);
  return top;
}

test('two grants with identical inputs at the same clock time give different tokens, each with its own nonce', async () => {
  const { manager } = await startAccess();
  const a = await manager.grantToken(KEYSET_A, BODY);
  const b = await manager.grantToken(KEYSET_A, BODY);
  assert.notEqual(a, b);
  const ca = decodeTokenClaims(tokenBytes(a)!);
  const cb = decodeTokenClaims(tokenBytes(b)!);
  assert.equal(ca.issuedAtSec, cb.issuedAtSec, 'same second');
  assert.notEqual(ca.nonce, cb.nonce);
  for (const nonce of [ca.nonce, cb.nonce]) {
    assert.equal(Buffer.from(nonce!, 'base64url').length, TOKEN_NONCE_BYTES, '128 random bits');
  }
  // The nonce is invisible to clients: both parse to the same grant, signatures apart.
  const { signature: _sa, ...pa } = sdkParseToken(a)!;
  const { signature: _sb, ...pb } = sdkParseToken(b)!;
  assert.deepEqual(pa, pb);
  assert.deepEqual(pa.meta, { plan: 'pro' });
});

test('revoking one of two identical grants leaves the other valid', async () => {
  const { manager } = await startAccess();
  const a = await manager.grantToken(KEYSET_A, BODY);
  const b = manager.mintToken(KEYSET_A, {
    ttlMinutes: 30,
    resources: { channels: new Map([['room', 3]]), groups: new Map(), uuids: new Map() },
    patterns: { channels: new Map([['^team\\.[^.]+$', 1]]), groups: new Map(), uuids: new Map() },
    meta: new Map([['plan', 'pro']]),
  });
  assert.equal(code(manager.check(readRoom(a))), 'allowed:token');
  assert.equal(code(manager.check(readRoom(b))), 'allowed:token');
  await manager.revokeToken(KEYSET_A, a);
  assert.equal(code(manager.check(readRoom(a))), 'TOKEN_REVOKED');
  assert.equal(code(manager.check(readRoom(b))), 'allowed:token');
  assert.equal(manager.stats().revokedTokens, 1);
});

test('the nonce is the only difference: with a fixed nonce two grants are byte-identical (injectable)', async () => {
  const stores = createMemoryStores();
  const manager = new AccessManager({
    grants: stores.grants,
    denyList: stores.denyList,
    clock: createFakeClock(),
    log: silentLogger,
    keysets: [KEYSET_A],
    purgeIntervalMs: 0,
    tokenNonce: () => 'fixed-nonce',
  });
  await manager.start();
  const a = await manager.grantToken(KEYSET_A, BODY);
  assert.equal(await manager.grantToken(KEYSET_A, BODY), a);
  assert.equal(decodeTokenClaims(tokenBytes(a)!).nonce, 'fixed-nonce');
});

test('layout: `n` is a one-byte byte-string key with a text value, just before sig; every SDK rule holds', async () => {
  const { manager } = await startAccess();
  const token = await manager.grantToken(KEYSET_A, { ...BODY, permissions: { ...BODY.permissions, uuid: 'user-1' } });
  const bytes = tokenBytes(token)!;
  assert.equal(bytes[0], 0xa9, 'map(9): v t ttl res pat meta uuid n sig');
  const tail = bytes.length - SIG_TAIL_LENGTH;
  const nonceEntry = bytes.subarray(tail - 2 - 1 - 22, tail);
  assert.deepEqual([...nonceEntry.subarray(0, 3)], [0x41, 0x6e, 0x60 + 22], 'bstr "n", tstr(22)');
  const top = assertEverySdkCanParse(token);
  assert.equal(typeof top.get('n'), 'string');
  assert.equal(sdkParseToken(token)!.authorized_uuid, 'user-1');
});

test('the verifier accepts tokens with and without a nonce; the nonce is signed like every claim', async () => {
  const { manager, clock } = await startAccess();
  const claims: TokenClaims = {
    version: 2,
    issuedAtSec: Math.floor(clock.nowMs() / 1000),
    ttlMinutes: 30,
    resources: { channels: new Map([['room', 1]]), groups: new Map(), uuids: new Map() },
    patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
    meta: new Map(),
  };
  const without = signToken(KEYSET_A.secretKey, claims);
  const withNonce = signToken(KEYSET_A.secretKey, { ...claims, nonce: 'abc' });
  for (const token of [without, withNonce]) {
    assert.equal(code(manager.check(readRoom(token))), 'allowed:token');
    assertEverySdkCanParse(token);
  }
  assert.equal(tokenBytes(without)![0] + 1, tokenBytes(withNonce)![0]);
  // Changing the nonce after signing breaks the signature.
  const tampered = tokenBytes(withNonce)!;
  const at = tampered.indexOf(Buffer.from('abc'));
  tampered[at] = 0x78;
  const verdict = verifyToken(tampered.toString('base64url'), KEYSET_A.secretKey, new PatternCache());
  assert.equal(verdict.ok ? 'ok' : verdict.code, 'TOKEN_BAD_SIGNATURE');
});
