/**
 * The Access Manager: turns a request's credential into a Decision, and runs the admin side
 * (v2 grant/audit, v3 grant-token/revoke-token). Mirrors of the GrantStore (GrantIndex) and of the
 * DenyList (inside TokenResolver, with the verified-token cache) make check() synchronous; the
 * stores stay the source of truth, and applyRemoteChange() refreshes the mirrors when another
 * node changes them.
 *
 * Credential precedence in check() (wire-protocol.md §9 step 5, §8.4, §7.3):
 * 1. keyset without a secret key → open.
 * 2. a `signature` parameter → it IS the credential: valid → secret (bypasses grants); invalid →
 *    SIGNATURE_MISMATCH / SIGNATURE_EXPIRED, never a fall-back to `auth`.
 * 3. admin-only operation without a signature → SIGNATURE_MISSING.
 * 4. `auth` that is a cached token or looks like one (token/verify.ts looksLikeToken) → token
 *    rules; a damaged token is refused as such, never retried as a v2 auth key.
 * 5. otherwise `auth` is a v2 auth key; no `auth` at all is auth key '' and only grants made for
 *    every auth key apply (§7.1: a grant without auth keys covers everyone). With none: 403.
 *
 * Invariant (docs/invariants.md 8): the denylist is consulted on every use of a token, before any
 * cached verification result; then a token issued before the DenyList's epoch is refused (its
 * revocation may have been lost: docs/redis.md §revocations). Then a token used as a uuid an operator
 * kicked is refused if it was issued in or before the kick's second (UUID_KICKED; kick() below).
 */
import type { Clock } from '../clock.ts';
import { type DenialCode, ParleyError } from '../errors.ts';
import { hasAccessManager, type Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import { type DenyList, type GrantRecord, type GrantStore, type GrantTarget, grantTargetKey, type KickEntry } from '../store/types.ts';
import type { AccessChange, AccessRequest, Credential, Decision, Requirement } from './types.ts';
import { authorizeToken, authorizeV2, deny, explain as explainDecision, findInToken, missingAll, type Explanation } from './authorize.ts';
import { GrantIndex } from './grant-index.ts';
import { KickList } from './kick-list.ts';
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
import { isWellFormedUnicode, PatternCache } from './patterns.ts';
import { READ } from './permissions.ts';
import { DEFAULT_SIGNATURE_WINDOW_SEC, verifyRequestSignature } from './signature.ts';
import { TOKEN_VERSION } from './token/codec.ts';
import { checkGrantTokenRequest, MAX_TOKEN_TTL_MINUTES, parseGrantTokenBody, type GrantTokenRequest } from './token/grant-body.ts';
import { newTokenNonce, signToken } from './token/sign.ts';
import { TokenResolver } from './token/token-resolver.ts';
import { inspectToken, type TokenInspection } from './token/inspect.ts';
import { isTokenExpired } from './token/verify.ts';
import { KeyedSerial } from './keyed-serial.ts';

export interface AccessManagerDeps {
  grants: GrantStore;
  denyList: DenyList;
  clock: Clock;
  log: Logger;
  keysets: readonly Keyset[];
  /** Accepted skew of signed requests' `timestamp` (default 60). */
  signatureWindowSec?: number;
  /** Accept v1 request signatures where they apply (signature.ts VerifyOptions.acceptV1; default true). */
  acceptV1Signatures?: boolean;
  /** Verified tokens kept in memory (default 10 000; 0 disables the cache). */
  tokenCacheSize?: number;
  /** How often expired mirror entries are reclaimed (default 60 000; 0 disables). Expiry itself is checked on use. */
  purgeIntervalMs?: number;
  /** The per-token nonce (token/codec.ts `n`); default 128 random bits. Injected so tests can replay. */
  tokenNonce?: () => string;
}

/** What POST /v1/admin/{sub}/kick asks for (docs/security.md "Operator console, kick and rotation"). */
export interface KickRequest {
  uuid: string;
  /** Refuse every token used as the uuid and issued in or before the kick's second. */
  tokens: boolean;
  /** v2 auth keys whose grants are withdrawn (every level); [] for none. */
  authKeys: readonly string[];
}

export interface KickResult {
  /** When the kick took effect for tokens (ms), or null when tokens were not kicked. */
  kickedAtMs: number | null;
  /** v2 grant records withdrawn for the named auth keys. */
  withdrawnGrants: number;
}

/** Most auth keys one kick names. */
export const MAX_KICK_AUTH_KEYS = 100;
/**
 * A grant change names its grants to the other nodes when there are at most this many (each then
 * re-reads just those: GrantStore.get); a larger one has them re-read the keyset's whole list.
 */
export const MAX_CHANGED_TARGETS = 1000;

/** The change event of these records: their targets when few enough to name. */
function grantsChanged(subscribeKey: string, records: readonly GrantRecord[]): AccessChange {
  if (records.length > MAX_CHANGED_TARGETS) return { kind: 'grants-changed', subscribeKey };
  return { kind: 'grants-changed', subscribeKey, targets: records.map((r) => ({ level: r.level, resource: r.resource, authKey: r.authKey })) };
}

/** 'local' changes were made on this node (forward them to other nodes); 'remote' ones came from another. */
export type AccessChangeOrigin = 'local' | 'remote';
export type AccessChangeListener = (change: AccessChange, origin: AccessChangeOrigin) => void;

const OPEN: Decision = Object.freeze({ allowed: true, credential: Object.freeze({ kind: 'open' }) }) as Decision;
const SECRET: Decision = Object.freeze({ allowed: true, credential: Object.freeze({ kind: 'secret' }) }) as Decision;

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
  private readonly acceptV1: boolean;
  private readonly purgeIntervalMs: number;
  private readonly tokenNonce: () => string;
  private readonly index = new GrantIndex();
  private readonly tokens: TokenResolver;
  private readonly patterns = new PatternCache();
  private readonly validatePattern = (source: string) => this.patterns.validate(source);
  private readonly listeners = new Set<AccessChangeListener>();
  /** The DenyList's kicks in force (kick-list.ts). */
  private readonly kicks = new KickList();
  /** Per-keyset chain so grant writes and reloads apply to the index in order. */
  private readonly serial = new KeyedSerial();
  private started = false;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(deps: AccessManagerDeps) {
    this.grants = deps.grants;
    this.denyList = deps.denyList;
    this.clock = deps.clock;
    this.log = deps.log;
    this.keysets = deps.keysets;
    this.windowSec = deps.signatureWindowSec ?? DEFAULT_SIGNATURE_WINDOW_SEC;
    this.acceptV1 = deps.acceptV1Signatures ?? true;
    this.tokens = new TokenResolver(deps.keysets, deps.tokenCacheSize ?? 10_000, this.patterns);
    this.purgeIntervalMs = deps.purgeIntervalMs ?? 60_000;
    this.tokenNonce = deps.tokenNonce ?? newTokenNonce;
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
    const revoked = await this.denyList.list(nowMs);
    this.tokens.loadRevoked(revoked);
    this.kicks.load(await this.denyList.listKicks(nowMs));
    await this.refreshEpoch();
    if (this.purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => this.purgeExpired(), this.purgeIntervalMs);
      this.purgeTimer.unref();
    }
    this.started = true;
    this.log.info(
      { grants: grantCount, revokedTokens: revoked.length, kicks: this.kicks.size, denyListEpoch: new Date(this.tokens.epoch).toISOString() },
      'access manager started',
    );
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
    this.tokens.purgeExpired(nowMs);
    this.kicks.purge(nowMs);
  }

  /** Mirror sizes, for metrics and tests. */
  stats(): { grants: number; revokedTokens: number; cachedTokens: number; compiledPatterns: number } {
    let grants = 0;
    for (const keyset of this.keysets) grants += this.index.keyset(keyset.subscribeKey).size;
    return { grants, ...this.tokens.stats() };
  }

  // -------------------------------------------------------------------------------------------
  // Request path (synchronous)

  check(req: AccessRequest): Decision {
    const keyset = req.keyset;
    if (!hasAccessManager(keyset)) return OPEN;
    if (!this.started) return this.refuse(req, 'STORE_UNAVAILABLE', 'Access Manager is not started');
    const nowMs = this.clock.nowMs();
    if (req.query.has('signature')) {
      const verdict = verifyRequestSignature(req, keyset, nowMs, { windowSec: this.windowSec, acceptV1: this.acceptV1 });
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

  /**
   * Whether an established credential may read one channel now: the per-message check of wildcard
   * subscriptions (docs/access-matrix.md "Wildcard subscriptions"). Same rules as recheck() with one
   * READ requirement on `channel`, without building a Decision; false also for a revoked, expired or
   * wrong-uuid token. Not logged: a wildcard subscriber is expected to skip channels it cannot read.
   */
  canRead(credential: Credential, keyset: Keyset, uuid: string, channel: string): boolean {
    if (!hasAccessManager(keyset)) return true;
    const nowMs = this.clock.nowMs();
    switch (credential.kind) {
      case 'secret':
        return true;
      case 'open':
        return false;
      case 'authKey':
        return this.index.keyset(keyset.subscribeKey).find('channels', channel, credential.authKey, READ, nowMs) !== undefined;
      case 'token': {
        const resolved = this.tokens.resolve(keyset, credential.token, nowMs);
        if (resolved === undefined || !resolved.ok) return false;
        const token = resolved.token;
        if (isTokenExpired(token, nowMs)) return false;
        if (this.kicks.refuses(keyset.subscribeKey, uuid, token.claims.issuedAtSec)) return false;
        if (token.claims.authorizedUuid !== undefined && token.claims.authorizedUuid !== uuid) return false;
        return findInToken(token, 'channels', channel, READ) !== undefined;
      }
    }
  }

  private decide(keyset: Keyset, auth: string, uuid: string, requirements: readonly Requirement[], nowMs: number): Decision {
    const resolved = auth.length > 0 ? this.tokens.resolve(keyset, auth, nowMs) : undefined;
    if (resolved !== undefined) {
      if (!resolved.ok) return deny(resolved.code, missingAll(requirements), `Forbidden: ${resolved.reason}`);
      if (this.kicks.refuses(keyset.subscribeKey, uuid, resolved.token.claims.issuedAtSec)) return kickedDenial(requirements);
      return authorizeToken(requirements, resolved.token, { nowMs, uuid, credential: resolved.credential });
    }
    const credential: Credential = { kind: 'authKey', authKey: auth };
    return authorizeV2(requirements, this.index.keyset(keyset.subscribeKey), auth, { nowMs, uuid, credential });
  }

  private refuse(req: AccessRequest, code: DenialCode, message: string): Decision {
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
    const resolved = auth.length > 0 ? this.tokens.resolve(keyset, auth, nowMs) : undefined;
    if (resolved !== undefined) {
      if (!resolved.ok) {
        const decision = deny(resolved.code, missingAll(requirements), `Forbidden: ${resolved.reason}`);
        return { decision, checks: requirements.map((requirement) => ({ requirement, allowed: false, detail: resolved.reason })) };
      }
      if (this.kicks.refuses(keyset.subscribeKey, uuid, resolved.token.claims.issuedAtSec)) {
        const decision = kickedDenial(requirements);
        return { decision, checks: requirements.map((requirement) => ({ requirement, allowed: false, detail: KICKED_REASON })) };
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
    await this.serial.run(subscribeKey, async () => {
      await this.grants.put(records);
      this.index.keyset(subscribeKey).apply(records);
    });
    this.emit(grantsChanged(subscribeKey, records), 'local');
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
    const parsed = parseGrantTokenBody(body, this.validatePattern);
    if (!parsed.ok) {
      throw new ParleyError('INVALID_PARAM', parsed.message, { details: { source: 'grant', details: parsed.details } });
    }
    await this.untilAfterEpochSecond();
    await this.untilAfterKickSecond(keyset.subscribeKey, parsed.value.authorizedUuid);
    return this.sign(keyset, parsed.value);
  }

  /**
   * Mints a token from a request built in code (demo app server, CLI). The §8.1 rules apply here
   * too (ParleyError('INVALID_PARAM') with details), so nothing unsafe is ever signed.
   */
  mintToken(keyset: Keyset, request: GrantTokenRequest): string {
    requireSecret(keyset);
    const issues = checkGrantTokenRequest(request, this.validatePattern);
    if (issues.length > 0) {
      throw new ParleyError('INVALID_PARAM', issues[0].location === 'ttl' ? 'Invalid ttl' : 'Invalid permissions', {
        details: { source: 'grant', details: issues },
      });
    }
    return this.sign(keyset, request);
  }

  /**
   * A token's `t` is whole seconds and is never stamped ahead of the clock (a token stamped ahead could
   * read as issued after a later epoch and outlive a lost revocation). So within the second in which the
   * deny list's epoch was recorded, minting waits (< 1 s, once per new epoch) for the next second.
   */
  private async untilAfterEpochSecond(): Promise<void> {
    const boundaryMs = Math.ceil(this.tokens.epoch / 1000) * 1000;
    for (let attempt = 0; attempt < 3 && this.clock.nowMs() < boundaryMs; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, boundaryMs - this.clock.nowMs()) + 1));
    }
  }

  /**
   * A kick refuses tokens issued in or before its second (`t` is whole seconds), so a token minted in
   * that second for the kicked uuid (or for any uuid, when unbound) would be refused at once: minting
   * waits (< 1 s) for the next second instead.
   */
  private async untilAfterKickSecond(subscribeKey: string, authorizedUuid: string | undefined): Promise<void> {
    for (let attempt = 0; attempt < 3 && this.kicks.blocksMinting(subscribeKey, authorizedUuid, Math.floor(this.clock.nowMs() / 1000)); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (this.clock.nowMs() % 1000) + 1));
    }
  }

  private sign(keyset: Keyset, request: GrantTokenRequest): string {
    const issuedAtSec = Math.floor(this.clock.nowMs() / 1000);
    if (issuedAtSec * 1000 < this.tokens.epoch) {
      throw new ParleyError('STORE_UNAVAILABLE', 'the revocation list was initialized less than a second ago: retry the grant');
    }
    if (this.kicks.blocksMinting(keyset.subscribeKey, request.authorizedUuid, issuedAtSec)) {
      throw new ParleyError('STORE_UNAVAILABLE', 'a uuid this token could be used as was kicked less than a second ago: retry the grant');
    }
    return signToken(keyset.secretKey, {
      version: TOKEN_VERSION,
      issuedAtSec,
      ttlMinutes: request.ttlMinutes,
      resources: request.resources,
      patterns: request.patterns,
      meta: request.meta,
      authorizedUuid: request.authorizedUuid,
      nonce: this.tokenNonce(),
    });
  }

  /** §8.2: denylisted until the token's own expiry; 400-class INVALID_PARAM for a token that is not ours. */
  async revokeToken(keyset: Keyset, token: string): Promise<void> {
    requireSecret(keyset);
    const verified = this.tokens.verifySignatureOnly(keyset, token, this.clock.nowMs());
    if (verified === undefined) {
      throw new ParleyError('INVALID_PARAM', 'Invalid token', {
        details: { source: 'revoke', details: [{ message: 'the token is malformed or was not issued for this keyset', location: 'token' }] },
      });
    }
    const { tokenId, expiresAtMs } = verified;
    // An expired token can no longer be used: there is nothing to revoke, and nothing to store.
    if (isTokenExpired(verified, this.clock.nowMs())) return;
    await this.denyList.add({ subscribeKey: keyset.subscribeKey, tokenId, expiresAtMs });
    this.tokens.markRevoked(keyset.subscribeKey, tokenId, expiresAtMs);
    this.emit({ kind: 'token-revoked', subscribeKey: keyset.subscribeKey, tokenId }, 'local');
  }

  /**
   * Cuts one uuid off now (docs/security.md "Operator console, kick and rotation"). `tokens`: every
   * token used as the uuid and issued in or before this second is refused (UUID_KICKED) from now on,
   * here and, through the DenyList and the change event, on every node and after restarts; a token
   * granted after the kick works. `authKeys`: the grants of those v2 auth keys are withdrawn (any level),
   * so they are refused until granted again. Parked subscribers are re-checked by the change listeners
   * and answered 403. Presence is not this class's: the caller sends the leave.
   */
  async kick(keyset: Keyset, request: KickRequest): Promise<KickResult> {
    requireSecret(keyset);
    const { uuid, tokens, authKeys } = request;
    if (typeof uuid !== 'string' || uuid.length === 0 || uuid.length > 256 || !isWellFormedUnicode(uuid)) {
      throw new ParleyError('INVALID_PARAM', 'kick.uuid: must be a uuid of 1 to 256 characters');
    }
    if (authKeys.length > MAX_KICK_AUTH_KEYS)
      throw new ParleyError('INVALID_PARAM', `kick.authKeys: at most ${MAX_KICK_AUTH_KEYS} auth keys per kick (got ${authKeys.length})`);
    authKeys.forEach((k, i) => {
      // '' would be the grants made for every auth key: withdrawing those is a grant, not a kick.
      if (typeof k !== 'string' || k.length === 0 || k.length > 256)
        throw new ParleyError('INVALID_PARAM', `kick.authKeys[${i}]: must be an auth key of 1 to 256 characters`);
    });
    if (!tokens && authKeys.length === 0) throw new ParleyError('INVALID_PARAM', 'kick: nothing to cut off: set tokens, authKeys or both');
    const subscribeKey = keyset.subscribeKey;
    let kickedAtMs: number | null = null;
    if (tokens) {
      const entry: KickEntry = { subscribeKey, uuid, kickedAtMs: this.clock.nowMs() };
      await this.denyList.addKick(entry);
      this.kicks.load([entry]);
      kickedAtMs = entry.kickedAtMs;
      this.emit({ kind: 'uuid-kicked', subscribeKey, uuid, kickedAtMs }, 'local');
    }
    let withdrawn: GrantRecord[] = [];
    if (authKeys.length > 0) {
      const wanted = new Set(authKeys);
      await this.serial.run(subscribeKey, async () => {
        const records = (await this.grants.list(subscribeKey, this.clock.nowMs()))
          .filter((r) => wanted.has(r.authKey))
          .map((r) => ({ ...r, perms: 0, ttlMinutes: 0, expiresAtMs: null }));
        if (records.length === 0) return;
        await this.grants.put(records);
        this.index.keyset(subscribeKey).apply(records);
        withdrawn = records;
      });
      if (withdrawn.length > 0) this.emit(grantsChanged(subscribeKey, withdrawn), 'local');
    }
    const withdrawnGrants = withdrawn.length;
    this.log.info({ subscribeKey, uuid, tokens, authKeys: authKeys.length, withdrawnGrants }, 'uuid kicked');
    return { kickedAtMs, withdrawnGrants };
  }

  /** When the uuid was last kicked (ms), if a kick is in force. */
  kickedAt(keyset: Keyset, uuid: string): number | undefined {
    return this.kicks.kickedAt(keyset.subscribeKey, uuid);
  }

  /** A token's state and claims, for the operator console (token/inspect.ts). */
  inspectToken(keyset: Keyset, token: string): TokenInspection {
    requireSecret(keyset);
    return inspectToken(keyset, token, { nowMs: this.clock.nowMs(), tokens: this.tokens, patterns: this.patterns, kicks: this.kicks });
  }

  /** The keyset's secrets changed (a rotation, or its window ended): cached tokens must be verified again. */
  forgetVerifiedTokens(subscribeKey: string): void {
    this.tokens.forgetKeyset(subscribeKey);
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
      const expiresAtMs = this.tokens.cachedExpiryOf(change.subscribeKey, change.tokenId) ?? nowMs + MAX_TOKEN_TTL_MINUTES * 60_000;
      this.tokens.markRevoked(change.subscribeKey, change.tokenId, expiresAtMs);
    } else if (change.kind === 'uuid-kicked') {
      this.kicks.load([{ subscribeKey: change.subscribeKey, uuid: change.uuid, kickedAtMs: change.kickedAtMs }]);
    } else if (change.targets !== undefined) {
      await this.refreshGrants(change.subscribeKey, change.targets);
    } else {
      await this.reloadGrants(change.subscribeKey);
    }
    this.emit(change, 'remote');
  }

  /**
   * Reloads every mirror from the stores, then re-checks listeners' subscribers: used after this node
   * may have missed other nodes' changes (a gap in the link between nodes).
   */
  async resync(): Promise<void> {
    for (const keyset of this.keysets) {
      if (!hasAccessManager(keyset)) continue;
      await this.reloadGrants(keyset.subscribeKey);
    }
    this.tokens.loadRevoked(await this.denyList.list(this.clock.nowMs()));
    this.kicks.load(await this.denyList.listKicks(this.clock.nowMs()));
    await this.refreshEpoch({ emit: false });
    for (const keyset of this.keysets) {
      if (hasAccessManager(keyset)) this.emit({ kind: 'grants-changed', subscribeKey: keyset.subscribeKey }, 'remote');
    }
  }

  /**
   * Reads the DenyList's epoch (recording one when its storage has none) and adopts a later one: the
   * revocation list was lost and re-initialized, so tokens issued before it are refused from now on
   * (TOKEN_ISSUED_BEFORE_EPOCH) and parked subscribers are re-checked. Runs after the denylist was read
   * (start, resync): had the list been lost before that read, this read sees the new epoch. Also run
   * periodically, for a loss that came without a gap in this node's link. The proposal is later than the
   * known epoch, so a re-initialization is noticed even when this node's clock lags the one that set it.
   */
  async refreshEpoch(options: { emit?: boolean } = {}): Promise<void> {
    const known = this.tokens.epoch;
    const epochMs = await this.denyList.epoch(Math.max(this.clock.nowMs(), known + 1));
    if (epochMs <= known) return;
    this.tokens.setEpoch(epochMs);
    if (known === 0) return;
    this.log.warn(
      { denyListEpoch: new Date(epochMs).toISOString() },
      'the revocation list was re-initialized (its storage lost its data): tokens issued before its new epoch are refused and must be re-issued',
    );
    if (options.emit === false) return;
    for (const keyset of this.keysets) {
      if (hasAccessManager(keyset)) this.emit({ kind: 'grants-changed', subscribeKey: keyset.subscribeKey }, 'remote');
    }
  }

  /**
   * Re-reads these grants from the store into the mirror: each is set to what the store holds, or
   * withdrawn when it holds none. The store is read after the change event arrived, and the event was
   * sent after its write, so the mirror ends where the store is, whatever order events of several nodes
   * arrive in.
   */
  private async refreshGrants(subscribeKey: string, targets: readonly GrantTarget[]): Promise<void> {
    await this.serial.run(subscribeKey, async () => {
      const records = await this.grants.get(subscribeKey, targets, this.clock.nowMs());
      const held = new Set(records.map(grantTargetKey));
      const withdrawn = targets
        .filter((t) => !held.has(grantTargetKey(t)))
        .map((t): GrantRecord => ({ subscribeKey, level: t.level, resource: t.resource, authKey: t.authKey, perms: 0, ttlMinutes: 0, expiresAtMs: null }));
      this.index.keyset(subscribeKey).apply([...records, ...withdrawn]);
    });
  }

  /** Replaces a keyset's grant mirror with the store's current list. */
  async reloadGrants(subscribeKey: string): Promise<void> {
    await this.serial.run(subscribeKey, async () => {
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
}

const KICKED_REASON = 'the uuid was kicked by an operator after this token was issued; it needs a token granted after the kick';

function kickedDenial(requirements: readonly Requirement[]): Decision {
  return deny('UUID_KICKED', missingAll(requirements), `Forbidden: ${KICKED_REASON}`);
}

function requireSecret(keyset: Keyset): void {
  if (!hasAccessManager(keyset)) {
    throw new ParleyError('INVALID_PARAM', 'Access Manager is not enabled for this keyset (it has no secret key)');
  }
}
