/**
 * The Access Manager: turns a request's credential into a Decision, and runs the admin side
 * (v2 grant/audit, v3 grant-token/revoke-token). Mirrors of the GrantStore (GrantIndex) and the
 * DenyList (a Map) make check() synchronous; the stores stay the source of truth, and
 * applyRemoteChange() refreshes the mirrors when another node changes them.
 *
 * Credential precedence in check() (wire-protocol.md §9 step 5, §8.4, §7.3):
 * 1. keyset without a secret key → open.
 * 2. a `signature` parameter → it IS the credential: valid → secret (bypasses grants); invalid →
 *    SIGNATURE_MISMATCH / SIGNATURE_EXPIRED, never a fall-back to `auth`.
 * 3. admin-only operation without a signature → SIGNATURE_MISSING.
 * 4. `auth` that looks like a v3 token (token/verify.ts looksLikeToken) → token rules; a damaged
 *    token is refused as such, never retried as a v2 auth key.
 * 5. otherwise `auth` is a v2 auth key; no `auth` at all is auth key '' and only grants made for
 *    every auth key apply (§7.1: a grant without auth keys covers everyone). With none: 403.
 *
 * Invariant (docs/invariants.md): the denylist is consulted on every use of a token, before any
 * cached verification result.
 */
import type { Clock } from '../clock.ts';
import { ParleyError, type ErrorCode } from '../errors.ts';
import { hasAccessManager, type Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import type { DenyList, GrantStore } from '../store/types.ts';
import type { AccessChange, AccessRequest, Credential, Decision, Requirement } from './types.ts';
import { authorizeToken, authorizeV2, deny, explain as explainDecision, missingAll, type Explanation } from './authorize.ts';
import { GrantIndex } from './grant-index.ts';
import {
  auditPayload,
  grantPayload,
  grantRecords,
  parseAuditV2Query,
  parseGrantV2Query,
  resolveGrantV2,
  type AuditV2Params,
  type GrantV2Params,
} from './grants-v2.ts';
import { PatternCache } from './patterns.ts';
import { DEFAULT_SIGNATURE_WINDOW_SEC, verifyRequestSignature } from './signature.ts';
import { TOKEN_VERSION } from './token/codec.ts';
import { MAX_TOKEN_TTL_MINUTES, parseGrantTokenBody, type GrantTokenRequest } from './token/grant-body.ts';
import { signToken } from './token/sign.ts';
import { TokenCache, type CachedToken } from './token/token-cache.ts';
import {
  checkTokenSignature,
  isTokenExpired,
  looksLikeToken,
  readVerifiedToken,
  tokenBytes,
  tokenIdOfBytes,
  type VerifiedToken,
} from './token/verify.ts';

export interface AccessManagerDeps {
  grants: GrantStore;
  denyList: DenyList;
  clock: Clock;
  log: Logger;
  keysets: readonly Keyset[];
  /** Accepted skew of signed requests' `timestamp` (default 60). */
  signatureWindowSec?: number;
  /** Verified tokens kept in memory (default 10 000; 0 disables the cache). */
  tokenCacheSize?: number;
  /** How often expired mirror entries are reclaimed (default 60 000; 0 disables). Expiry itself is checked on use. */
  purgeIntervalMs?: number;
}

/** 'local' changes were made on this node (forward them to other nodes); 'remote' ones came from another. */
export type AccessChangeOrigin = 'local' | 'remote';
export type AccessChangeListener = (change: AccessChange, origin: AccessChangeOrigin) => void;

type TokenResolution =
  | { ok: true; token: VerifiedToken; credential: Credential }
  | { ok: false; code: 'TOKEN_MALFORMED' | 'TOKEN_BAD_SIGNATURE' | 'TOKEN_WRONG_KEYSET' | 'TOKEN_REVOKED'; reason: string };

const OPEN: Decision = Object.freeze({ allowed: true, credential: Object.freeze({ kind: 'open' }) }) as Decision;
const SECRET: Decision = Object.freeze({ allowed: true, credential: Object.freeze({ kind: 'secret' }) }) as Decision;

/** A token credential whose id is computed only if read (token/verify.ts VerifiedToken.tokenId). */
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

function isQueryMap(value: unknown): value is ReadonlyMap<string, string> {
  return typeof value === 'object' && value !== null && typeof (value as { get?: unknown }).get === 'function';
}

export class AccessManager {
  private readonly grants: GrantStore;
  private readonly denyList: DenyList;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly keysets: readonly Keyset[];
  private readonly windowSec: number;
  private readonly purgeIntervalMs: number;
  private readonly index = new GrantIndex();
  /** denyKey → expiresAtMs of every revoked, not yet expired token. */
  private readonly revoked = new Map<string, number>();
  private readonly cache: TokenCache;
  private readonly patterns = new PatternCache();
  private readonly listeners = new Set<AccessChangeListener>();
  /** Per-keyset chain so grant writes and reloads apply to the index in order. */
  private readonly queues = new Map<string, Promise<void>>();
  private started = false;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(deps: AccessManagerDeps) {
    this.grants = deps.grants;
    this.denyList = deps.denyList;
    this.clock = deps.clock;
    this.log = deps.log;
    this.keysets = deps.keysets;
    this.windowSec = deps.signatureWindowSec ?? DEFAULT_SIGNATURE_WINDOW_SEC;
    this.cache = new TokenCache(deps.tokenCacheSize ?? 10_000);
    this.purgeIntervalMs = deps.purgeIntervalMs ?? 60_000;
  }

  /** Loads the grant and denylist mirrors; check() refuses secured keysets until this resolves. */
  async start(): Promise<void> {
    if (this.started) return;
    const nowMs = this.clock.nowMs();
    let grantCount = 0;
    for (const keyset of this.keysets) {
      if (!hasAccessManager(keyset)) continue;
      const records = await this.grants.list(keyset.subscribeKey, nowMs);
      this.index.replace(keyset.subscribeKey, records);
      grantCount += records.length;
    }
    for (const entry of await this.denyList.list(nowMs)) {
      this.revoked.set(denyKeyOf(entry.subscribeKey, entry.tokenId), entry.expiresAtMs);
    }
    if (this.purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => this.purgeExpired(), this.purgeIntervalMs);
      this.purgeTimer.unref();
    }
    this.started = true;
    this.log.info({ grants: grantCount, revokedTokens: this.revoked.size }, 'access manager started');
  }

  close(): void {
    if (this.purgeTimer !== undefined) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
    this.listeners.clear();
  }

  /** Reclaims expired mirror entries; decisions never depend on it (expiry is checked on use). */
  purgeExpired(): void {
    const nowMs = this.clock.nowMs();
    this.index.purgeExpired(nowMs);
    this.cache.purgeExpired(nowMs);
    for (const [key, expiresAtMs] of this.revoked) if (expiresAtMs <= nowMs) this.revoked.delete(key);
  }

  /** Mirror sizes, for metrics and tests. */
  stats(): { grants: number; revokedTokens: number; cachedTokens: number; compiledPatterns: number } {
    let grants = 0;
    for (const keyset of this.keysets) grants += this.index.keyset(keyset.subscribeKey).size;
    return { grants, revokedTokens: this.revoked.size, cachedTokens: this.cache.size, compiledPatterns: this.patterns.size };
  }

  // -------------------------------------------------------------------------------------------
  // Request path (synchronous)

  check(req: AccessRequest): Decision {
    const keyset = req.keyset;
    if (!hasAccessManager(keyset)) return OPEN;
    if (!this.started) return this.refuse(req, 'STORE_UNAVAILABLE', 'Access Manager is not started');
    const nowMs = this.clock.nowMs();
    if (req.query.has('signature')) {
      const verdict = verifyRequestSignature(req, keyset, nowMs, this.windowSec);
      return verdict.ok ? SECRET : this.refuse(req, verdict.code, `Forbidden: ${verdict.reason}`);
    }
    if (req.adminOnly) return this.refuse(req, 'SIGNATURE_MISSING', 'Forbidden: this operation requires a request signed with the secret key');
    const auth = req.query.get('auth') ?? '';
    const decision = this.decide(keyset, auth, req.uuid, req.requirements, nowMs);
    if (!decision.allowed) this.logDenial(keyset.subscribeKey, decision, req.uuid);
    return decision;
  }

  /** For parked subscribers: same rules, the credential already established (no signature window). */
  recheck(credential: Credential, keyset: Keyset, uuid: string, requirements: readonly Requirement[]): Decision {
    if (!hasAccessManager(keyset)) return OPEN;
    let decision: Decision;
    switch (credential.kind) {
      case 'secret':
        return SECRET;
      case 'open':
        // Established while Access Manager was off for this keyset; it is on now.
        decision = deny('ACCESS_DENIED', missingAll(requirements), 'Forbidden: credentials required');
        break;
      case 'authKey':
        decision = authorizeV2(requirements, this.index.keyset(keyset.subscribeKey), credential.authKey, {
          nowMs: this.clock.nowMs(),
          uuid,
          credential,
        });
        break;
      case 'token':
        decision = this.decide(keyset, credential.token, uuid, requirements, this.clock.nowMs());
        break;
    }
    if (!decision.allowed) this.logDenial(keyset.subscribeKey, decision, uuid);
    return decision;
  }

  private decide(keyset: Keyset, auth: string, uuid: string, requirements: readonly Requirement[], nowMs: number): Decision {
    if (auth.length > 0) {
      const cached = this.cache.get(auth);
      if (cached !== undefined || looksLikeToken(auth)) {
        const resolved =
          cached !== undefined && cached.subscribeKey === keyset.subscribeKey
            ? this.fromCache(auth, cached, nowMs)
            : this.verifyUncached(keyset, auth, nowMs);
        if (!resolved.ok) return deny(resolved.code, missingAll(requirements), `Forbidden: ${resolved.reason}`);
        return authorizeToken(requirements, resolved.token, { nowMs, uuid, credential: resolved.credential });
      }
    }
    const credential: Credential = { kind: 'authKey', authKey: auth };
    return authorizeV2(requirements, this.index.keyset(keyset.subscribeKey), auth, { nowMs, uuid, credential });
  }

  private fromCache(auth: string, cached: CachedToken, nowMs: number): TokenResolution {
    // Denylist before the cached result, on every use.
    if (this.revoked.size > 0 && this.isRevoked(cached.denyKey, nowMs)) {
      return { ok: false, code: 'TOKEN_REVOKED', reason: 'the token has been revoked' };
    }
    // Expired entries leave the cache on sight; authorizeToken still answers TOKEN_EXPIRED.
    if (isTokenExpired(cached.token, nowMs)) this.cache.delete(auth);
    return { ok: true, token: cached.token, credential: cached.credential };
  }

  private verifyUncached(keyset: Keyset, auth: string, nowMs: number): TokenResolution {
    const bytes = tokenBytes(auth);
    if (bytes === null) return { ok: false, code: 'TOKEN_MALFORMED', reason: 'the token could not be parsed' };
    const check = checkTokenSignature(bytes, keyset.secretKey);
    if (check === 'malformed') return { ok: false, code: 'TOKEN_MALFORMED', reason: 'the token could not be parsed' };
    if (check === 'bad') {
      return this.signedByOtherKeyset(bytes, keyset)
        ? { ok: false, code: 'TOKEN_WRONG_KEYSET', reason: 'the token was issued for another keyset' }
        : { ok: false, code: 'TOKEN_BAD_SIGNATURE', reason: 'the token signature does not verify' };
    }
    // The signature is good: the id comes from its bytes, before any claim is read.
    let tokenId: string | undefined;
    if (this.revoked.size > 0) {
      tokenId = tokenIdOfBytes(bytes);
      if (this.isRevoked(denyKeyOf(keyset.subscribeKey, tokenId), nowMs)) {
        return { ok: false, code: 'TOKEN_REVOKED', reason: 'the token has been revoked' };
      }
    }
    const verdict = readVerifiedToken(bytes, this.patterns, tokenId);
    if (!verdict.ok) return { ok: false, code: 'TOKEN_MALFORMED', reason: 'the token could not be parsed' };
    const token = verdict.token;
    if (this.cache.maxEntries > 0 && !isTokenExpired(token, nowMs)) {
      const credential = new TokenCredential(auth, token);
      this.cache.set(auth, { token, credential, subscribeKey: keyset.subscribeKey, denyKey: denyKeyOf(keyset.subscribeKey, token.tokenId), recent: false });
      return { ok: true, token, credential };
    }
    return { ok: true, token, credential: new TokenCredential(auth, token) };
  }

  /** Only on failure: tells "wrong keyset" from "forged" by trying the other keysets' secrets. */
  private signedByOtherKeyset(bytes: Buffer, keyset: Keyset): boolean {
    for (const other of this.keysets) {
      if (other.subscribeKey === keyset.subscribeKey || !hasAccessManager(other) || other.secretKey === keyset.secretKey) continue;
      if (checkTokenSignature(bytes, other.secretKey) === 'ok') return true;
    }
    return false;
  }

  private isRevoked(denyKey: string, nowMs: number): boolean {
    const expiresAtMs = this.revoked.get(denyKey);
    return expiresAtMs !== undefined && nowMs < expiresAtMs;
  }

  private refuse(req: AccessRequest, code: ErrorCode, message: string): Decision {
    const decision = deny(code, missingAll(req.requirements), message);
    this.logDenial(req.keyset.subscribeKey, decision, req.uuid);
    return decision;
  }

  /** Code and resources only: never the auth key, token or signature (style.md §3.6). */
  private logDenial(subscribeKey: string, decision: Decision, uuid: string): void {
    if (decision.allowed || !this.log.isLevelEnabled('debug')) return;
    this.log.debug({ subscribeKey, uuid, code: decision.code, missing: decision.missing }, 'access denied');
  }

  /** Which grant or pattern decided each requirement, for the CLI; `auth` as the client would send it. */
  explain(keyset: Keyset, auth: string, uuid: string, requirements: readonly Requirement[]): Explanation {
    const nowMs = this.clock.nowMs();
    if (!hasAccessManager(keyset)) {
      return { decision: OPEN, checks: requirements.map((requirement) => ({ requirement, allowed: true, detail: 'Access Manager is off for this keyset' })) };
    }
    if (auth.length > 0 && looksLikeToken(auth)) {
      const resolved = this.verifyUncached(keyset, auth, nowMs);
      if (!resolved.ok) {
        const decision = deny(resolved.code, missingAll(requirements), `Forbidden: ${resolved.reason}`);
        return { decision, checks: requirements.map((requirement) => ({ requirement, allowed: false, detail: resolved.reason })) };
      }
      return explainDecision(requirements, { kind: 'v3', token: resolved.token }, { nowMs, uuid, credential: resolved.credential });
    }
    const grants = this.index.keyset(keyset.subscribeKey);
    return explainDecision(requirements, { kind: 'v2', grants, authKey: auth }, { nowMs, uuid, credential: { kind: 'authKey', authKey: auth } });
  }

  // -------------------------------------------------------------------------------------------
  // Admin side (reached only after a valid secret-key signature)

  /** §7.1. `input` is the decoded query of the request or already-parsed params. */
  async grantV2(keyset: Keyset, input: GrantV2Params | ReadonlyMap<string, string>): Promise<Record<string, unknown>> {
    requireSecret(keyset);
    const grant = resolveGrantV2(isQueryMap(input) ? parseGrantV2Query(input) : input);
    const subscribeKey = keyset.subscribeKey;
    const records = grantRecords(subscribeKey, grant, this.clock.nowMs());
    await this.serial(subscribeKey, async () => {
      await this.grants.put(records);
      this.index.keyset(subscribeKey).apply(records);
    });
    this.emit({ kind: 'grants-changed', subscribeKey }, 'local');
    return grantPayload(subscribeKey, grant);
  }

  /** §7.2, read from the store (the source of truth across nodes). */
  async auditV2(keyset: Keyset, input: AuditV2Params | ReadonlyMap<string, string> = {}): Promise<Record<string, unknown>> {
    requireSecret(keyset);
    const params = isQueryMap(input) ? parseAuditV2Query(input) : input;
    const nowMs = this.clock.nowMs();
    const records = await this.grants.list(keyset.subscribeKey, nowMs);
    return auditPayload(keyset.subscribeKey, records, params, nowMs);
  }

  /** §8.1: validates the JSON body; ParleyError('INVALID_PARAM') carries the §1.5 details. */
  async grantToken(keyset: Keyset, body: unknown): Promise<string> {
    requireSecret(keyset);
    const parsed = parseGrantTokenBody(body);
    if (!parsed.ok) {
      throw new ParleyError('INVALID_PARAM', parsed.message, { details: { source: 'grant', details: parsed.details } });
    }
    return this.mintToken(keyset, parsed.value);
  }

  /** Mints a token from an already validated request (demo app server, CLI). */
  mintToken(keyset: Keyset, request: GrantTokenRequest): string {
    requireSecret(keyset);
    return signToken(keyset.secretKey, {
      version: TOKEN_VERSION,
      issuedAtSec: Math.floor(this.clock.nowMs() / 1000),
      ttlMinutes: request.ttlMinutes,
      resources: request.resources,
      patterns: request.patterns,
      meta: request.meta,
      authorizedUuid: request.authorizedUuid,
    });
  }

  /** §8.2: denylisted until the token's own expiry; 400-class INVALID_PARAM for a token that is not ours. */
  async revokeToken(keyset: Keyset, token: string): Promise<void> {
    requireSecret(keyset);
    const bytes = tokenBytes(token);
    const verdict = bytes !== null && checkTokenSignature(bytes, keyset.secretKey) === 'ok' ? readVerifiedToken(bytes, this.patterns) : undefined;
    if (verdict === undefined || !verdict.ok) {
      throw new ParleyError('INVALID_PARAM', 'Invalid token', {
        details: { source: 'revoke', details: [{ message: 'the token is malformed or was not issued for this keyset', location: 'token' }] },
      });
    }
    const { tokenId, expiresAtMs } = verdict.token;
    // An expired token can no longer be used: there is nothing to revoke, and nothing to store.
    if (isTokenExpired(verdict.token, this.clock.nowMs())) return;
    await this.denyList.add({ subscribeKey: keyset.subscribeKey, tokenId, expiresAtMs });
    this.markRevoked(keyset.subscribeKey, tokenId, expiresAtMs);
    this.emit({ kind: 'token-revoked', subscribeKey: keyset.subscribeKey, tokenId }, 'local');
  }

  private markRevoked(subscribeKey: string, tokenId: string, expiresAtMs: number): void {
    this.revoked.set(denyKeyOf(subscribeKey, tokenId), expiresAtMs);
    this.cache.invalidateTokenId(subscribeKey, tokenId);
  }

  // -------------------------------------------------------------------------------------------
  // Change propagation

  /** Listeners run synchronously after the change is in effect here; returns an unsubscribe function. */
  onChange(listener: AccessChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another node's change: refresh the mirror, then tell local listeners (origin 'remote'). */
  async applyRemoteChange(change: AccessChange): Promise<void> {
    if (change.kind === 'token-revoked') {
      // The event carries no expiry: a cached copy knows it, otherwise the longest possible
      // token lifetime is a safe upper bound (the store keeps the exact one for restarts).
      const nowMs = this.clock.nowMs();
      const expiresAtMs = this.cache.expiryOf(change.subscribeKey, change.tokenId) ?? nowMs + MAX_TOKEN_TTL_MINUTES * 60_000;
      this.markRevoked(change.subscribeKey, change.tokenId, expiresAtMs);
    } else {
      await this.reloadGrants(change.subscribeKey);
    }
    this.emit(change, 'remote');
  }

  /** Replaces a keyset's grant mirror with the store's current list. */
  async reloadGrants(subscribeKey: string): Promise<void> {
    await this.serial(subscribeKey, async () => {
      const records = await this.grants.list(subscribeKey, this.clock.nowMs());
      this.index.replace(subscribeKey, records);
    });
  }

  private emit(change: AccessChange, origin: AccessChangeOrigin): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change, origin);
      } catch (err) {
        this.log.error({ err, change: change.kind }, 'access change listener failed');
      }
    }
  }

  private serial(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}

function requireSecret(keyset: Keyset): void {
  if (!hasAccessManager(keyset)) {
    throw new ParleyError('INVALID_PARAM', 'Access Manager is not enabled for this keyset (it has no secret key)');
  }
}
