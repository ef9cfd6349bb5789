/**
 * In-memory index of Access Manager v2 grants, one KeysetGrants per subscribe key, mirrored from
 * the GrantStore (which stays the source of truth across nodes and restarts).
 *
 * Shape, chosen for the request path: grants are indexed by resource name, and each resource's
 * grants sit in a small Slot (every-auth grant, one auth key inline, a Map only beyond that), so
 * checking one requirement is one Map.get plus field reads; subkey-level grants are fields too.
 * Wildcard grants (`a.*`, `a.b.*`) are indexed by prefix (`a.`, `a.b.`) and found with at most two
 * more lookups (patterns.wildcardPrefixesOf), only when the keyset has any.
 *
 * Expiry is evaluated at check time against the caller's clock (an entry is live while
 * nowMs < expiresAtMs), so a grant stops working the moment it expires, without a restart;
 * purgeExpired() only reclaims memory.
 */
import type { GrantLevel, GrantRecord } from '../store/types.ts';
import type { ResourceKind } from './types.ts';
import { isV2Wildcard, wildcardPrefix, wildcardPrefixesOf } from './patterns.ts';
import { KEYSET_LEVEL } from './enforcement.ts';

/** One live grant as the index holds it. */
export interface GrantEntry {
  readonly level: GrantLevel;
  /** Resource name as granted ('' at subkey level; `a.*` for wildcards). */
  readonly resource: string;
  readonly authKey: string;
  readonly perms: number;
  readonly ttlMinutes: number;
  /** Infinity for grants without expiry (ttl 0). */
  readonly expiresAtMs: number;
}

/**
 * The grants on one resource (or one wildcard prefix). Most resources are granted to one auth key,
 * or to every auth key, so those live in fields; a Map appears only for a second auth key.
 */
interface Slot {
  /** The grant for every auth key (''). */
  any: GrantEntry | undefined;
  oneKey: string | undefined;
  one: GrantEntry | undefined;
  /** All keyed grants once there is more than one auth key (then `one` is unused). */
  more: Map<string, GrantEntry> | undefined;
}

function isLive(entry: GrantEntry | undefined, perm: number, nowMs: number): entry is GrantEntry {
  return entry !== undefined && (entry.perms & perm) === perm && nowMs < entry.expiresAtMs;
}

/** The caller's own grant first (explain names it), then the grant for every auth key. */
function findInSlot(slot: Slot, authKey: string, perm: number, nowMs: number): GrantEntry | undefined {
  if (authKey !== '') {
    const own = slot.more !== undefined ? slot.more.get(authKey) : slot.oneKey === authKey ? slot.one : undefined;
    if (isLive(own, perm, nowMs)) return own;
  }
  return isLive(slot.any, perm, nowMs) ? slot.any : undefined;
}

function slotSet(slot: Slot, entry: GrantEntry): void {
  const key = entry.authKey;
  if (key === '') slot.any = entry;
  else if (slot.more !== undefined) slot.more.set(key, entry);
  else if (slot.oneKey === undefined || slot.one === undefined || slot.oneKey === key) {
    slot.oneKey = key;
    slot.one = entry;
  } else {
    slot.more = new Map([
      [slot.oneKey, slot.one],
      [key, entry],
    ]);
    slot.oneKey = undefined;
    slot.one = undefined;
  }
}

function slotDelete(slot: Slot, authKey: string): void {
  if (authKey === '') slot.any = undefined;
  else if (slot.more !== undefined) slot.more.delete(authKey);
  else if (slot.oneKey === authKey) {
    slot.oneKey = undefined;
    slot.one = undefined;
  }
}

function* slotEntries(slot: Slot): IterableIterator<GrantEntry> {
  if (slot.any !== undefined) yield slot.any;
  if (slot.one !== undefined) yield slot.one;
  if (slot.more !== undefined) yield* slot.more.values();
}

function slotIsEmpty(slot: Slot): boolean {
  return slot.any === undefined && slot.one === undefined && (slot.more === undefined || slot.more.size === 0);
}

/** Drops expired entries of a slot; returns how many. */
function slotPurge(slot: Slot, nowMs: number): number {
  let purged = 0;
  for (const entry of [...slotEntries(slot)]) {
    if (entry.expiresAtMs <= nowMs) {
      slotDelete(slot, entry.authKey);
      purged++;
    }
  }
  return purged;
}

export class KeysetGrants {
  /** Subkey-level grant for every auth key. */
  private subkeyAny: GrantEntry | undefined;
  private readonly subkeyByAuth = new Map<string, GrantEntry>();
  private readonly channels = new Map<string, Slot>();
  /** Wildcard channel grants by prefix (`a.*` → `a.`). */
  private readonly wildcards = new Map<string, Slot>();
  private readonly groups = new Map<string, Slot>();
  private readonly uuids = new Map<string, Slot>();

  constructor(readonly subscribeKey: string) {}

  /**
   * The grant that gives `perm` on (kind, name) for `authKey` ('' = the request carried none, so
   * only grants for every auth key apply): subkey level, then the exact name, then wildcards.
   * KEYSET_LEVEL names are met by subkey grants only.
   */
  find(kind: ResourceKind, name: string, authKey: string, perm: number, nowMs: number): GrantEntry | undefined {
    if (isLive(this.subkeyAny, perm, nowMs)) return this.subkeyAny;
    if (authKey !== '' && this.subkeyByAuth.size > 0) {
      const own = this.subkeyByAuth.get(authKey);
      if (isLive(own, perm, nowMs)) return own;
    }
    if (name === KEYSET_LEVEL) return undefined;
    const slot = (kind === 'channels' ? this.channels : kind === 'groups' ? this.groups : this.uuids).get(name);
    if (slot !== undefined) {
      const hit = findInSlot(slot, authKey, perm, nowMs);
      if (hit !== undefined) return hit;
    }
    if (kind === 'channels' && this.wildcards.size > 0) {
      const [first, second] = wildcardPrefixesOf(name);
      const a = first === undefined ? undefined : this.wildcards.get(first);
      const hitA = a === undefined ? undefined : findInSlot(a, authKey, perm, nowMs);
      if (hitA !== undefined) return hitA;
      const b = second === undefined ? undefined : this.wildcards.get(second);
      return b === undefined ? undefined : findInSlot(b, authKey, perm, nowMs);
    }
    return undefined;
  }

  allows(kind: ResourceKind, name: string, authKey: string, perm: number, nowMs: number): boolean {
    return this.find(kind, name, authKey, perm, nowMs) !== undefined;
  }

  /** Applies store records: perms 0 withdraws, anything else replaces (GrantStore.put semantics). */
  apply(records: readonly GrantRecord[]): void {
    for (const r of records) {
      if (r.subscribeKey !== this.subscribeKey) continue;
      if (r.perms === 0) this.remove(r.level, r.resource, r.authKey);
      else this.set(r);
    }
  }

  private mapFor(level: GrantLevel, resource: string): [Map<string, Slot>, string] | undefined {
    switch (level) {
      case 'subkey':
        return undefined;
      case 'channel':
        return isV2Wildcard(resource) ? [this.wildcards, wildcardPrefix(resource)] : [this.channels, resource];
      case 'channel-group':
        return [this.groups, resource];
      case 'uuid':
        return [this.uuids, resource];
    }
  }

  private set(r: GrantRecord): void {
    const entry: GrantEntry = {
      level: r.level,
      resource: r.resource,
      authKey: r.authKey,
      perms: r.perms,
      ttlMinutes: r.ttlMinutes,
      expiresAtMs: r.expiresAtMs ?? Infinity,
    };
    const target = this.mapFor(r.level, r.resource);
    if (target === undefined) {
      if (r.authKey === '') this.subkeyAny = entry;
      else this.subkeyByAuth.set(r.authKey, entry);
      return;
    }
    const [map, key] = target;
    let slot = map.get(key);
    if (slot === undefined) {
      slot = { any: undefined, oneKey: undefined, one: undefined, more: undefined };
      map.set(key, slot);
    }
    slotSet(slot, entry);
  }

  private remove(level: GrantLevel, resource: string, authKey: string): void {
    const target = this.mapFor(level, resource);
    if (target === undefined) {
      if (authKey === '') this.subkeyAny = undefined;
      else this.subkeyByAuth.delete(authKey);
      return;
    }
    const [map, key] = target;
    const slot = map.get(key);
    if (slot === undefined) return;
    slotDelete(slot, authKey);
    if (slotIsEmpty(slot)) map.delete(key);
  }

  /** Drops entries with expiresAtMs <= nowMs; returns how many. */
  purgeExpired(nowMs: number): number {
    let purged = 0;
    if (this.subkeyAny !== undefined && this.subkeyAny.expiresAtMs <= nowMs) {
      this.subkeyAny = undefined;
      purged++;
    }
    for (const [key, entry] of this.subkeyByAuth) {
      if (entry.expiresAtMs <= nowMs) {
        this.subkeyByAuth.delete(key);
        purged++;
      }
    }
    for (const map of [this.channels, this.wildcards, this.groups, this.uuids]) {
      for (const [key, slot] of map) {
        purged += slotPurge(slot, nowMs);
        if (slotIsEmpty(slot)) map.delete(key);
      }
    }
    return purged;
  }

  /** Every live entry, for explain and diagnostics. */
  *entries(nowMs: number): IterableIterator<GrantEntry> {
    if (this.subkeyAny !== undefined && nowMs < this.subkeyAny.expiresAtMs) yield this.subkeyAny;
    for (const entry of this.subkeyByAuth.values()) if (nowMs < entry.expiresAtMs) yield entry;
    for (const map of [this.channels, this.wildcards, this.groups, this.uuids]) {
      for (const slot of map.values()) for (const entry of slotEntries(slot)) if (nowMs < entry.expiresAtMs) yield entry;
    }
  }

  get size(): number {
    let n = (this.subkeyAny ? 1 : 0) + this.subkeyByAuth.size;
    for (const map of [this.channels, this.wildcards, this.groups, this.uuids]) {
      for (const slot of map.values()) for (const _ of slotEntries(slot)) n++;
    }
    return n;
  }
}

/** The per-keyset indexes of one process. */
export class GrantIndex {
  private readonly keysets = new Map<string, KeysetGrants>();

  /** The index of a keyset (created empty on first use: no grants means deny). */
  keyset(subscribeKey: string): KeysetGrants {
    let grants = this.keysets.get(subscribeKey);
    if (grants === undefined) {
      grants = new KeysetGrants(subscribeKey);
      this.keysets.set(subscribeKey, grants);
    }
    return grants;
  }

  /** Replaces a keyset's grants with a fresh list from the store (start-up, remote change). */
  replace(subscribeKey: string, records: readonly GrantRecord[]): void {
    const grants = new KeysetGrants(subscribeKey);
    grants.apply(records);
    // One assignment: a concurrent check sees the old index or the new one, never a mix.
    this.keysets.set(subscribeKey, grants);
  }

  apply(records: readonly GrantRecord[]): void {
    for (const r of records) this.keyset(r.subscribeKey).apply([r]);
  }

  purgeExpired(nowMs: number): number {
    let purged = 0;
    for (const grants of this.keysets.values()) purged += grants.purgeExpired(nowMs);
    return purged;
  }
}
