/**
 * Runtime secret-key rotation (docs/security.md "Operator console, kick and rotation"). A rotation gives
 * a keyset a new secret and keeps the old one accepted until a deadline (the overlap window): request
 * signatures, v3 tokens and file URLs made with either verify (keyset-secrets.ts), new tokens are signed
 * with the new one, and after the deadline the old one is refused.
 *
 * Rotations are kept in the SecretRotationStore so every node and every restart applies them, sealed so
 * that the store never holds a secret in clear: each record carries the new secret sealed under the old
 * one and the old secret sealed under the new one (AES-256-GCM, key = HKDF-SHA256 of the secret, the
 * record's fields as associated data). A node replays the records in order from the secrets its config
 * gives it: a record it can open with its current secret moves it forward; one whose old side it can
 * open means its config already holds the new secret (the operator updated it), and gives it the
 * previous secret for the rest of the window. Records it cannot open are not about its secrets.
 *
 * This component owns the one place where a Keyset's secrets change at run time: the keyset objects
 * (built by app.ts, never the frozen config) are updated in place, so every holder of the keyset
 * (parked polls included) sees the change at once.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { ParleyError } from '../errors.ts';
import { hasAccessManager, type Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import type { SecretRotationRecord, SecretRotationStore } from '../store/types.ts';
import { MAX_TOKEN_TTL_MINUTES } from './token/grant-body.ts';
import { KeyedSerial } from './keyed-serial.ts';

/** A secret a rotation may install: printable ASCII, 32 to 256 characters. */
const SECRET_SHAPE = /^[\x21-\x7e]{32,256}$/;
/** Longest overlap window: the longest a v3 token lives (30 days). */
export const MAX_OVERLAP_MINUTES = MAX_TOKEN_TTL_MINUTES;

export interface KeysetSecrets {
  readonly secretKey: string;
  readonly previous?: { readonly secretKey: string; readonly validUntilMs: number };
}

export interface RotationRequest {
  /** The new secret. */
  secretKey: string;
  /** How long the old secret stays accepted, minutes (0: it stops now). */
  overlapMinutes: number;
}

export interface RotationResult {
  rotatedAtMs: number;
  previousValidUntilMs: number;
}

export interface RotationStatus {
  /** Until when the previous secret is accepted (ms), or null when there is none in force. */
  previousValidUntilMs: number | null;
}

/** 'rotated': the secrets changed; 'window-ended': the previous secret stopped being accepted. */
export type SecretsChange = 'rotated' | 'window-ended';
export type SecretsListener = (subscribeKey: string, change: SecretsChange, origin: 'local' | 'remote') => void;

export interface SecretRotationDeps {
  store: SecretRotationStore;
  /** The runtime keysets (mutable objects, see the header comment). */
  keysets: readonly Keyset[];
  clock: Clock;
  log: Logger;
}

const SEAL_INFO = 'parley secret rotation v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function sealKey(secretKey: string, subscribeKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.from(subscribeKey, 'utf8'), SEAL_INFO, 32));
}

function associatedData(r: Pick<SecretRotationRecord, 'subscribeKey' | 'rotatedAtMs' | 'previousValidUntilMs'>): Buffer {
  return Buffer.from(`${r.subscribeKey}\n${r.rotatedAtMs}\n${r.previousValidUntilMs}`, 'utf8');
}

/** base64url(iv | ciphertext | tag). */
export function seal(plain: string, underSecret: string, subscribeKey: string, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealKey(underSecret, subscribeKey), iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The plain text, or undefined when `withSecret` is not the secret it was sealed under (or it was altered). */
export function open(sealed: string, withSecret: string, subscribeKey: string, aad: Buffer): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(withSecret, subscribeKey), bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Seals one rotation from `oldSecret` to `newSecret` (the record the store keeps). */
export function sealRotation(
  subscribeKey: string,
  oldSecret: string,
  newSecret: string,
  rotatedAtMs: number,
  previousValidUntilMs: number,
): SecretRotationRecord {
  const aad = associatedData({ subscribeKey, rotatedAtMs, previousValidUntilMs });
  return {
    subscribeKey,
    rotatedAtMs,
    previousValidUntilMs,
    sealedNew: seal(newSecret, oldSecret, subscribeKey, aad),
    sealedPrevious: seal(oldSecret, newSecret, subscribeKey, aad),
  };
}

/**
 * The secrets a keyset has after its rotations, replayed in order from what the config gives. When the
 * config and a record both name the same previous secret, the earlier deadline wins (an operator who
 * cut the old secret short in the config is never overridden by a longer window).
 */
export function replayRotations(base: KeysetSecrets, records: readonly SecretRotationRecord[], seen?: Set<string>): KeysetSecrets {
  let state: KeysetSecrets = base;
  seen?.add(base.secretKey);
  if (base.previous !== undefined) seen?.add(base.previous.secretKey);
  for (const r of records) {
    const aad = associatedData(r);
    const newer = open(r.sealedNew, state.secretKey, r.subscribeKey, aad);
    if (newer !== undefined) {
      seen?.add(newer);
      state = { secretKey: newer, previous: { secretKey: state.secretKey, validUntilMs: r.previousValidUntilMs } };
      continue;
    }
    const older = open(r.sealedPrevious, state.secretKey, r.subscribeKey, aad);
    if (older === undefined) continue;
    seen?.add(older);
    const validUntilMs = state.previous?.secretKey === older ? Math.min(state.previous.validUntilMs, r.previousValidUntilMs) : r.previousValidUntilMs;
    state = { secretKey: state.secretKey, previous: { secretKey: older, validUntilMs } };
  }
  return state;
}

type MutableKeyset = { secretKey: string; previous?: { secretKey: string; validUntilMs: number } };

/** The one in-place update of a keyset's secrets (see the header comment). */
function applySecrets(keyset: Keyset, secrets: KeysetSecrets): boolean {
  const target = keyset as MutableKeyset;
  const before = `${target.secretKey}\n${target.previous?.secretKey ?? ''}\n${target.previous?.validUntilMs ?? ''}`;
  target.secretKey = secrets.secretKey;
  if (secrets.previous === undefined) delete target.previous;
  else target.previous = { secretKey: secrets.previous.secretKey, validUntilMs: secrets.previous.validUntilMs };
  return before !== `${target.secretKey}\n${target.previous?.secretKey ?? ''}\n${target.previous?.validUntilMs ?? ''}`;
}

export class SecretRotation {
  private readonly store: SecretRotationStore;
  private readonly keysets: readonly Keyset[];
  private readonly clock: Clock;
  private readonly log: Logger;
  /** What the config gave each keyset: every replay starts here. */
  private readonly base = new Map<string, KeysetSecrets>();
  private readonly listeners = new Set<SecretsListener>();
  /** Per-keyset chain so rotations and reloads apply in order. */
  private readonly serial = new KeyedSerial();

  constructor(deps: SecretRotationDeps) {
    this.store = deps.store;
    this.keysets = deps.keysets;
    this.clock = deps.clock;
    this.log = deps.log;
    for (const k of deps.keysets) this.base.set(k.subscribeKey, { secretKey: k.secretKey, previous: k.previous });
  }

  /** Applies the stored rotations of every keyset with a secret (before the node serves). */
  async start(): Promise<void> {
    for (const keyset of this.keysets) {
      if (hasAccessManager(keyset)) await this.reload(keyset.subscribeKey, 'remote');
    }
  }

  onChange(listener: SecretsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads a keyset's rotations (another node rotated, or a gap in the link to the other nodes). */
  reload(subscribeKey: string, origin: 'local' | 'remote' = 'remote'): Promise<void> {
    return this.serial.run(subscribeKey, async () => {
      const keyset = this.keysets.find((k) => k.subscribeKey === subscribeKey);
      const base = this.base.get(subscribeKey);
      if (keyset === undefined || base === undefined || !hasAccessManager(keyset)) return;
      const records = await this.store.list(subscribeKey);
      if (applySecrets(keyset, this.inForce(replayRotations(base, records)))) {
        this.log.info({ subscribeKey, previousValidUntil: isoOrNull(keyset.previous?.validUntilMs) }, 'keyset secrets updated from the stored rotations');
        this.emit(subscribeKey, 'rotated', origin);
      }
    });
  }

  /**
   * Installs `request.secretKey` as the keyset's secret; the current one stays accepted for
   * overlapMinutes. A previous secret still in its window stops at once (one previous at a time).
   * INVALID_PARAM for a secret of the wrong shape or one any keyset already uses; CONFLICT when another
   * node rotated the same keyset at the same moment (then this rotation did not take effect).
   */
  rotate(keyset: Keyset, request: RotationRequest): Promise<RotationResult> {
    return this.serial.run(keyset.subscribeKey, async () => {
      if (!hasAccessManager(keyset)) throw new ParleyError('INVALID_PARAM', 'this keyset has no secret key: there is nothing to rotate');
      const { secretKey, overlapMinutes } = request;
      if (typeof secretKey !== 'string' || !SECRET_SHAPE.test(secretKey)) {
        throw new ParleyError('INVALID_PARAM', 'secretKey: must be 32 to 256 printable ASCII characters without spaces');
      }
      if (!Number.isInteger(overlapMinutes) || overlapMinutes < 0 || overlapMinutes > MAX_OVERLAP_MINUTES) {
        throw new ParleyError(
          'INVALID_PARAM',
          `overlapMinutes: must be a whole number of minutes 0..${MAX_OVERLAP_MINUTES} (got ${String(overlapMinutes).slice(0, 20)})`,
        );
      }
      // Never back to a secret this keyset had (it may be why the rotation is made), nor another keyset's.
      const used = new Set<string>();
      replayRotations(this.base.get(keyset.subscribeKey) ?? { secretKey: keyset.secretKey }, await this.store.list(keyset.subscribeKey), used);
      for (const other of this.keysets) {
        used.add(other.secretKey);
        if (other.previous !== undefined) used.add(other.previous.secretKey);
      }
      if (used.has(secretKey)) {
        throw new ParleyError('INVALID_PARAM', 'secretKey: already used (by this keyset now or before, or by another keyset); choose a new one');
      }
      const rotatedAtMs = this.clock.nowMs();
      const previousValidUntilMs = rotatedAtMs + overlapMinutes * 60_000;
      await this.store.append(sealRotation(keyset.subscribeKey, keyset.secretKey, secretKey, rotatedAtMs, previousValidUntilMs));
      const base = this.base.get(keyset.subscribeKey) ?? { secretKey: keyset.secretKey };
      const next = replayRotations(base, await this.store.list(keyset.subscribeKey));
      if (next.secretKey !== secretKey) {
        throw new ParleyError(
          'CONFLICT',
          'another rotation of this keyset was stored at the same time and took effect instead; read the keyset again and retry',
        );
      }
      applySecrets(keyset, this.inForce(next));
      this.log.info({ subscribeKey: keyset.subscribeKey, previousValidUntil: isoOrNull(previousValidUntilMs) }, 'keyset secret rotated');
      this.emit(keyset.subscribeKey, 'rotated', 'local');
      return { rotatedAtMs, previousValidUntilMs };
    });
  }

  /** Without a previous secret whose window has already ended. */
  private inForce(secrets: KeysetSecrets): KeysetSecrets {
    const previous = secrets.previous;
    return previous !== undefined && this.clock.nowMs() >= previous.validUntilMs ? { secretKey: secrets.secretKey } : secrets;
  }

  status(keyset: Keyset): RotationStatus {
    const previous = keyset.previous;
    return { previousValidUntilMs: previous !== undefined && this.clock.nowMs() < previous.validUntilMs ? previous.validUntilMs : null };
  }

  /**
   * Drops previous secrets whose window has ended and tells the listeners, so parked subscribers
   * whose tokens only the old secret verified are re-checked (and refused). Verification never needs
   * this (the window is checked on every use); it only makes the refusal reach parked polls promptly.
   */
  retireExpired(): void {
    const nowMs = this.clock.nowMs();
    for (const keyset of this.keysets) {
      const previous = keyset.previous;
      if (previous === undefined || nowMs < previous.validUntilMs) continue;
      applySecrets(keyset, { secretKey: keyset.secretKey });
      this.log.info({ subscribeKey: keyset.subscribeKey }, 'the previous secret key is no longer accepted (its rotation window ended)');
      this.emit(keyset.subscribeKey, 'window-ended', 'local');
    }
  }

  private emit(subscribeKey: string, change: SecretsChange, origin: 'local' | 'remote'): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(subscribeKey, change, origin);
      } catch (err) {
        this.log.error({ err }, 'secret rotation listener failed');
      }
    }
  }
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** A fresh random secret of the shape rotate() accepts (the CLI's default): 32 random bytes, base64url. */
export function newSecretKey(): string {
  return `sec-c-${randomBytes(32).toString('base64url')}`;
}
