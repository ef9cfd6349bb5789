/**
 * From a token string to a VerifiedToken for one keyset, fast: the bounded verified-token cache,
 * the in-memory mirror of the DenyList, and the pattern cache live here.
 *
 * Invariant (docs/invariants.md 8): the denylist is consulted on every use, before a cached
 * verification result is trusted; on a miss, the signature is checked before any claim is read
 * and the denylist before the claims are decoded. Then, on every use as well, a token issued before
 * the DenyList's epoch is refused: it may have been revoked in a list that was lost.
 */
import { hasAccessManager, type Keyset } from '../../keyset.ts';
import type { DenyListEntry } from '../../store/types.ts';
import { PatternCache } from '../patterns.ts';
import type { Credential } from '../types.ts';
import { TokenCache, type CachedToken } from './token-cache.ts';
import { checkTokenSignatureForKeyset, isTokenExpired, looksLikeToken, readVerifiedToken, tokenBytes, tokenIdOfBytes, type VerifiedToken } from './verify.ts';

export type TokenRefusalCode = 'TOKEN_MALFORMED' | 'TOKEN_BAD_SIGNATURE' | 'TOKEN_WRONG_KEYSET' | 'TOKEN_REVOKED' | 'TOKEN_ISSUED_BEFORE_EPOCH';

export type TokenResolution = { ok: true; token: VerifiedToken; credential: Credential } | { ok: false; code: TokenRefusalCode; reason: string };

const MALFORMED: TokenResolution = { ok: false, code: 'TOKEN_MALFORMED', reason: 'the token could not be parsed' };
const REVOKED: TokenResolution = { ok: false, code: 'TOKEN_REVOKED', reason: 'the token has been revoked' };
const BEFORE_EPOCH: TokenResolution = {
  ok: false,
  code: 'TOKEN_ISSUED_BEFORE_EPOCH',
  reason: 'the token was issued before the revocation list was last initialized (it may have been revoked in a list that was lost); issue a new token',
};

/** A token credential whose id is computed only if read (VerifiedToken.tokenId). */
class TokenCredential {
  readonly kind = 'token' as const;
  constructor(
    readonly token: string,
    private readonly verified: VerifiedToken,
  ) {}

  get tokenId(): string {
    return this.verified.tokenId;
  }
}

function denyKeyOf(subscribeKey: string, tokenId: string): string {
  return `${subscribeKey}\u0000${tokenId}`;
}

export class TokenResolver {
  private readonly cache: TokenCache;
  /** denyKey → expiresAtMs of every revoked, not yet expired token. */
  private readonly revoked = new Map<string, number>();
  /** DenyList.epoch: tokens issued (t, whole seconds) before it are refused. 0 until the store told us. */
  private epochMs = 0;

  constructor(
    /** Every configured keyset: a token failing one secret is tried against the others (wrong keyset). */
    private readonly keysets: readonly Keyset[],
    tokenCacheSize: number,
    /** Compiled patterns, shared with grant-time validation. */
    private readonly patterns: PatternCache = new PatternCache(),
  ) {
    this.cache = new TokenCache(tokenCacheSize);
  }

  /**
   * undefined when `auth` is not a token (not cached, not token-shaped): the caller treats it as
   * a v2 auth key. Otherwise the token, or why it is refused.
   */
  resolve(keyset: Keyset, auth: string, nowMs: number): TokenResolution | undefined {
    const cached = this.cache.get(auth);
    if (cached !== undefined && cached.subscribeKey === keyset.subscribeKey) return this.fromCache(auth, cached, nowMs);
    if (cached === undefined && !looksLikeToken(auth)) return undefined;
    return this.verify(keyset, auth, nowMs);
  }

  private fromCache(auth: string, cached: CachedToken, nowMs: number): TokenResolution {
    if (this.revoked.size > 0 && this.isRevoked(cached.denyKey, nowMs)) return REVOKED;
    // Verified by a previous secret whose rotation window has ended: verify again (it fails).
    if (nowMs >= cached.acceptedUntilMs) {
      this.cache.delete(auth);
      const keyset = this.keysets.find((k) => k.subscribeKey === cached.subscribeKey);
      return keyset === undefined ? MALFORMED : this.verify(keyset, auth, nowMs);
    }
    if (this.isBeforeEpoch(cached.token)) return BEFORE_EPOCH;
    // Expired entries leave the cache on sight; authorize still answers TOKEN_EXPIRED.
    if (isTokenExpired(cached.token, nowMs)) this.cache.delete(auth);
    return { ok: true, token: cached.token, credential: cached.credential };
  }

  /** The uncached path; caches what verifies and has not expired. */
  verify(keyset: Keyset, auth: string, nowMs: number): TokenResolution {
    const bytes = tokenBytes(auth);
    if (bytes === null) return MALFORMED;
    const { check, secret } = checkTokenSignatureForKeyset(bytes, keyset, nowMs);
    if (check === 'malformed') return MALFORMED;
    if (check === 'bad') {
      return this.signedByOtherKeyset(bytes, keyset, nowMs)
        ? { ok: false, code: 'TOKEN_WRONG_KEYSET', reason: 'the token was issued for another keyset' }
        : { ok: false, code: 'TOKEN_BAD_SIGNATURE', reason: 'the token signature does not verify' };
    }
    // The signature is good: the id comes from its bytes, before any claim is read.
    let tokenId: string | undefined;
    if (this.revoked.size > 0) {
      tokenId = tokenIdOfBytes(bytes);
      if (this.isRevoked(denyKeyOf(keyset.subscribeKey, tokenId), nowMs)) return REVOKED;
    }
    const verdict = readVerifiedToken(bytes, this.patterns, tokenId);
    if (!verdict.ok) return MALFORMED;
    const token = verdict.token;
    if (this.isBeforeEpoch(token)) return BEFORE_EPOCH;
    const credential = new TokenCredential(auth, token);
    if (this.cache.maxEntries > 0 && !isTokenExpired(token, nowMs)) {
      const denyKey = denyKeyOf(keyset.subscribeKey, token.tokenId);
      const acceptedUntilMs = secret?.validUntilMs ?? Infinity;
      this.cache.set(auth, { token, credential, subscribeKey: keyset.subscribeKey, denyKey, acceptedUntilMs, recent: false });
    }
    return { ok: true, token, credential };
  }

  /**
   * Signature and structure only (revocation, expiry not considered): for revoke-token, under any
   * secret the keyset accepts at nowMs.
   */
  verifySignatureOnly(keyset: Keyset, auth: string, nowMs: number): VerifiedToken | undefined {
    const bytes = tokenBytes(auth);
    if (bytes === null || checkTokenSignatureForKeyset(bytes, keyset, nowMs).check !== 'ok') return undefined;
    const verdict = readVerifiedToken(bytes, this.patterns);
    return verdict.ok ? verdict.token : undefined;
  }

  /** Only on failure: tells "wrong keyset" from "forged" by trying the other keysets' accepted secrets. */
  signedByOtherKeyset(bytes: Buffer, keyset: Keyset, nowMs: number): boolean {
    for (const other of this.keysets) {
      if (other.subscribeKey === keyset.subscribeKey || !hasAccessManager(other)) continue;
      if (checkTokenSignatureForKeyset(bytes, other, nowMs).check === 'ok') return true;
    }
    return false;
  }

  /** A keyset's secrets changed (rotation): its cached tokens must be verified again. */
  forgetKeyset(subscribeKey: string): void {
    this.cache.deleteKeyset(subscribeKey);
  }

  /** Whether a token id is on the denylist mirror at nowMs. */
  isRevokedId(subscribeKey: string, tokenId: string, nowMs: number): boolean {
    return this.isRevoked(denyKeyOf(subscribeKey, tokenId), nowMs);
  }

  /** Whether a verified token was issued before the DenyList's epoch (TOKEN_ISSUED_BEFORE_EPOCH). */
  issuedBeforeEpoch(token: VerifiedToken): boolean {
    return this.isBeforeEpoch(token);
  }

  private isRevoked(denyKey: string, nowMs: number): boolean {
    const expiresAtMs = this.revoked.get(denyKey);
    return expiresAtMs !== undefined && nowMs < expiresAtMs;
  }

  /** `t` is whole seconds: a token stamped in the epoch's own second but before it is refused too. */
  private isBeforeEpoch(token: VerifiedToken): boolean {
    return token.claims.issuedAtSec * 1000 < this.epochMs;
  }

  /** Adopts the DenyList's epoch; it only moves forward (a lower value would re-admit what was refused). */
  setEpoch(epochMs: number): void {
    if (epochMs > this.epochMs) this.epochMs = epochMs;
  }

  get epoch(): number {
    return this.epochMs;
  }

  /** Warms the mirror from DenyList.list() at start. */
  loadRevoked(entries: readonly DenyListEntry[]): void {
    for (const e of entries) this.revoked.set(denyKeyOf(e.subscribeKey, e.tokenId), e.expiresAtMs);
  }

  /** Effective immediately on this node; drops every cached spelling of the token. */
  markRevoked(subscribeKey: string, tokenId: string, expiresAtMs: number): void {
    this.revoked.set(denyKeyOf(subscribeKey, tokenId), expiresAtMs);
    this.cache.invalidateTokenId(subscribeKey, tokenId);
  }

  /** Expiry of a cached token with this id, if this node has seen it. */
  cachedExpiryOf(subscribeKey: string, tokenId: string): number | undefined {
    return this.cache.expiryOf(subscribeKey, tokenId);
  }

  purgeExpired(nowMs: number): void {
    this.cache.purgeExpired(nowMs);
    for (const [key, expiresAtMs] of this.revoked) if (expiresAtMs <= nowMs) this.revoked.delete(key);
  }

  stats(): { revokedTokens: number; cachedTokens: number; compiledPatterns: number } {
    return { revokedTokens: this.revoked.size, cachedTokens: this.cache.size, compiledPatterns: this.patterns.size };
  }
}
