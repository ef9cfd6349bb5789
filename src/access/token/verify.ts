/**
 * v3 token verification. Order matters (style.md habit 6, performance.md lever 2):
 * 1. base64url → bytes; 2. layout check (header + fixed sig tail); 3. HMAC over the raw signed
 * slice, constant-time compare; only then 4. decode claims and compile patterns.
 * Nothing in the token is read before its signature checks out. Expiry, revocation and the
 * authorized uuid are checked by the caller (AccessManager / authorize.ts), against a clock.
 */
import { timingSafeEqual } from 'node:crypto';
import { acceptedSecrets, type AcceptedSecret, type SecretHolder } from '../keyset-secrets.ts';
import type { ResourceKind } from '../types.ts';
import { isUniversalPattern, type CompiledPattern, type PatternCache } from '../patterns.ts';
import { decodeTokenClaims, permissionMapOf, signatureOf, signedLength, SIGNATURE_LENGTH, TokenFormatError, type TokenClaims } from './codec.ts';
import { tokenHmac, tokenIdOf } from './sign.ts';

/** Tokens travel in the query string; PubNub's request limit is 32 KiB (wire-protocol.md §0 item 15). */
export const MAX_TOKEN_LENGTH = 32 * 1024;
/** Far below any real token (a minimal one is ~160 characters); anything shorter is an auth key. */
export const MIN_TOKEN_LENGTH = 64;

export interface CompiledPatterns {
  readonly channels: readonly CompiledPattern[];
  readonly groups: readonly CompiledPattern[];
  readonly uuids: readonly CompiledPattern[];
}

const NO_PATTERNS: readonly CompiledPattern[] = Object.freeze([]);

/** A token whose signature verified; immutable and safe to cache until expiresAtMs. */
export class VerifiedToken {
  /** (t + ttl·60 s) in ms; the token is expired when nowMs >= expiresAtMs. */
  readonly expiresAtMs: number;
  private id: string | undefined;

  constructor(
    readonly claims: TokenClaims,
    readonly patterns: CompiledPatterns,
    private readonly signature: Uint8Array,
    tokenId?: string,
  ) {
    this.expiresAtMs = (claims.issuedAtSec + claims.ttlMinutes * 60) * 1000;
    this.id = tokenId;
  }

  /**
   * Hex SHA-256 of the signature bytes: the denylist key. Computed on first use: a SHA-256 costs
   * about a third of the token's HMAC, and an uncached check needs it only when the keyset's
   * denylist is non-empty or a credential's id is read (parked subscribers, revocation).
   */
  get tokenId(): string {
    if (this.id === undefined) this.id = tokenIdOf(this.signature);
    return this.id;
  }
}

export type TokenVerdict = { ok: true; token: VerifiedToken } | { ok: false; code: 'TOKEN_MALFORMED' | 'TOKEN_BAD_SIGNATURE'; reason: string };

function b64Index(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 45) return 62; // -
  if (code === 95) return 63; // _
  return -1;
}

/**
 * Tells a v3 token from a v2 auth key by form: length 64..32768, base64url whose first bytes are a
 * CBOR map header followed by the key `v` (byte or text string), the opening of every v3 token
 * (`qEF2…`, `p0F2…`). Only four characters are inspected; verification judges the rest.
 * An auth key of that form is treated as a (bad) token, never as an auth key: deliberately, so a
 * token damaged after its first bytes is refused as a token. A string that is not token-shaped can
 * only ever get what v2 grants give it (for a random string: the grants for every auth key).
 */
export function looksLikeToken(value: string): boolean {
  if (value.length < MIN_TOKEN_LENGTH || value.length > MAX_TOKEN_LENGTH) return false;
  const i0 = b64Index(value.charCodeAt(0));
  const i1 = b64Index(value.charCodeAt(1));
  const i2 = b64Index(value.charCodeAt(2));
  const i3 = b64Index(value.charCodeAt(3));
  if ((i0 | i1 | i2 | i3) < 0) return false;
  const b0 = (i0 << 2) | (i1 >> 4);
  const b1 = ((i1 & 15) << 4) | (i2 >> 2);
  const b2 = ((i2 & 3) << 6) | i3;
  return b0 >> 5 === 5 && (b1 === 0x41 || b1 === 0x61) && b2 === 0x76;
}

/**
 * base64url → bytes, or null when the length cannot be base64 of anything. No charset scan:
 * Node's decoder also takes the standard alphabet and skips stray characters, so several
 * spellings may decode to the same bytes; that is harmless because the HMAC, not the spelling,
 * decides (the SDK's parseToken accepts the same variants, §8.5), and the denylist keys on the
 * signature. A spelling that changes the bytes fails the HMAC.
 */
export function tokenBytes(token: string): Buffer | null {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || token.length % 4 === 1) return null;
  return Buffer.from(token, 'base64url');
}

export type SignatureCheck = 'ok' | 'malformed' | 'bad';

/**
 * HMAC over the raw signed slice: the token bytes with the header decremented (map(n) →
 * map(n-1)) and the sig tail cut off. The header byte is patched in place and restored, so no
 * copy is made; `bytes` must be a buffer the caller owns.
 */
export function checkTokenSignature(bytes: Buffer, secretKey: string): SignatureCheck {
  const end = signedLength(bytes);
  if (end < 0) return 'malformed';
  const header = bytes[0];
  bytes[0] = header - 1;
  let mac: Buffer;
  try {
    mac = tokenHmac(secretKey, bytes.subarray(0, end));
  } finally {
    bytes[0] = header;
  }
  const sig = bytes.subarray(bytes.length - SIGNATURE_LENGTH);
  return mac.length === sig.length && timingSafeEqual(mac, sig) ? 'ok' : 'bad';
}

/**
 * checkTokenSignature under every secret the keyset accepts at nowMs (after a rotation, the previous
 * one within its window: keyset-secrets.ts). Each candidate is computed and compared in constant time;
 * `secret` is the one that verified ('ok' only).
 */
export function checkTokenSignatureForKeyset(bytes: Buffer, keys: SecretHolder, nowMs: number): { check: SignatureCheck; secret?: AcceptedSecret } {
  let found: AcceptedSecret | undefined;
  for (const candidate of acceptedSecrets(keys, nowMs)) {
    const check = checkTokenSignature(bytes, candidate.secretKey);
    if (check === 'malformed') return { check };
    if (check === 'ok' && found === undefined) found = candidate;
  }
  return found === undefined ? { check: 'bad' } : { check: 'ok', secret: found };
}

function compileKind(claims: TokenClaims, kind: ResourceKind, cache: PatternCache): readonly CompiledPattern[] {
  const map = permissionMapOf(claims.patterns, kind);
  if (map.size === 0) return NO_PATTERNS;
  const out: CompiledPattern[] = [];
  for (const [source, perms] of map) {
    out.push({ source, regex: cache.get(source), perms, isUniversal: isUniversalPattern(source) });
  }
  return out;
}

/** Denylist id straight from verified bytes, before any claim is decoded. */
export function tokenIdOfBytes(bytes: Uint8Array): string {
  return tokenIdOf(signatureOf(bytes));
}

/** Decode + compile, for bytes whose signature already verified (tokenId if already computed). */
export function readVerifiedToken(bytes: Buffer, patternCache: PatternCache, tokenId?: string): TokenVerdict {
  let claims: TokenClaims;
  let patterns: CompiledPatterns;
  try {
    claims = decodeTokenClaims(bytes);
    patterns = {
      channels: compileKind(claims, 'channels', patternCache),
      groups: compileKind(claims, 'groups', patternCache),
      uuids: compileKind(claims, 'uuids', patternCache),
    };
  } catch (err) {
    if (err instanceof TokenFormatError || err instanceof SyntaxError) {
      return { ok: false, code: 'TOKEN_MALFORMED', reason: err.message };
    }
    throw err;
  }
  // Copy the 32 signature bytes so the cached token does not pin the whole decoded buffer.
  return { ok: true, token: new VerifiedToken(claims, patterns, new Uint8Array(signatureOf(bytes)), tokenId) };
}

/** The whole pipeline for one keyset secret. */
export function verifyToken(token: string, secretKey: string, patternCache: PatternCache): TokenVerdict {
  const bytes = tokenBytes(token);
  if (bytes === null) return { ok: false, code: 'TOKEN_MALFORMED', reason: 'not base64url' };
  const check = checkTokenSignature(bytes, secretKey);
  if (check === 'malformed') return { ok: false, code: 'TOKEN_MALFORMED', reason: 'not a Parley token layout' };
  if (check === 'bad') return { ok: false, code: 'TOKEN_BAD_SIGNATURE', reason: 'signature does not verify' };
  return readVerifiedToken(bytes, patternCache);
}

/** Whether the token expired at nowMs (same convention as v2 grants: live while nowMs < expiry). */
export function isTokenExpired(token: VerifiedToken, nowMs: number): boolean {
  return nowMs >= token.expiresAtMs;
}
