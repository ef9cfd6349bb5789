/**
 * Bounded cache of verified tokens, keyed by the token string as received (performance.md lever 3).
 *
 * - Bounded: at most maxEntries; eviction is CLOCK-style (second chance): a hit only sets a flag,
 *   so the hot path is one Map.get and a store, with no Map re-insertion per hit.
 * - Never outlives the token: the reader checks expiresAtMs on every hit (AccessManager), and
 *   purgeExpired() drops dead entries.
 * - Invalidated by revocation: invalidateTokenId() drops every spelling of a revoked token. The
 *   denylist is still consulted before any cached result, so invalidation is belt and braces.
 */
import type { Credential } from '../types.ts';
import type { VerifiedToken } from './verify.ts';

export interface CachedToken {
  readonly token: VerifiedToken;
  /** Handed out on every hit, so a hit allocates nothing. */
  readonly credential: Credential;
  /** The keyset whose secret verified it: a hit for another keyset is a miss. */
  readonly subscribeKey: string;
  /** `subscribeKey NUL tokenId`, precomputed for the denylist mirror lookup. */
  readonly denyKey: string;
  /**
   * Until when the secret that verified it is accepted (ms): Infinity for the keyset's current secret,
   * the window's end for the previous one after a rotation. Past it the entry must be verified again.
   */
  readonly acceptedUntilMs: number;
  /** Set on every hit, cleared when eviction passes over the entry once. */
  recent: boolean;
}

export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();

  constructor(readonly maxEntries: number) {}

  get(tokenString: string): CachedToken | undefined {
    const entry = this.entries.get(tokenString);
    if (entry !== undefined) entry.recent = true;
    return entry;
  }

  set(tokenString: string, entry: CachedToken): void {
    if (this.maxEntries <= 0) return;
    if (!this.entries.has(tokenString) && this.entries.size >= this.maxEntries) this.evictOne();
    this.entries.set(tokenString, entry);
  }

  delete(tokenString: string): void {
    this.entries.delete(tokenString);
  }

  /** Oldest entry not used since the hand last passed; recently used ones move to the back once. */
  private evictOne(): void {
    for (let scanned = 0; scanned <= this.entries.size; scanned++) {
      const first = this.entries.entries().next();
      if (first.done) return;
      const [key, entry] = first.value;
      this.entries.delete(key);
      if (!entry.recent) return;
      entry.recent = false;
      this.entries.set(key, entry);
    }
    // Every entry was recent twice over: drop the oldest.
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }

  /** Drops every cached spelling of a token; returns how many. */
  invalidateTokenId(subscribeKey: string, tokenId: string): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.subscribeKey === subscribeKey && entry.token.tokenId === tokenId) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Drops every token of a keyset (its secrets changed: each must be verified again); returns how many. */
  deleteKeyset(subscribeKey: string): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.subscribeKey !== subscribeKey) continue;
      this.entries.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Expiry of a cached token with this id, if any (sizes a remote revocation's denylist entry). */
  expiryOf(subscribeKey: string, tokenId: string): number | undefined {
    for (const entry of this.entries.values()) {
      if (entry.subscribeKey === subscribeKey && entry.token.tokenId === tokenId) return entry.token.expiresAtMs;
    }
    return undefined;
  }

  purgeExpired(nowMs: number): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (nowMs >= entry.token.expiresAtMs) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
