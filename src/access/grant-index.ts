/**
 * In-memory index of Access Manager v2 grants, one KeysetGrants per subscribe key, mirrored from
 * the GrantStore (which stays the source of truth across nodes and restarts).
 *
 * Shape, chosen for the request path: grants are indexed first by auth key, then by resource, so
 * the check of one requirement is one Map.get per applicable auth key ('' = every auth key) plus a
 * field read for subkey-level grants. Wildcard grants (`a.*`, `a.b.*`) are indexed by prefix
 * (`a.`, `a.b.`) and found with at most two more lookups (patterns.wildcardPrefixesOf).
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

/** Every grant of one auth key ('' included) within one keyset. */
export interface AuthTable {
  subkey: GrantEntry | undefined;
  readonly channels: Map<string, GrantEntry>;
  /** Wildcard channel grants by prefix (`a.*` → `a.`). */
  readonly wildcards: Map<string, GrantEntry>;
  readonly groups: Map<string, GrantEntry>;
  readonly uuids: Map<string, GrantEntry>;
}

function newTable(): AuthTable {
  return { subkey: undefined, channels: new Map(), wildcards: new Map(), groups: new Map(), uuids: new Map() };
}

function isLive(entry: GrantEntry | undefined, perm: number, nowMs: number): entry is GrantEntry {
  return entry !== undefined && (entry.perms & perm) === perm && nowMs < entry.expiresAtMs;
}

/**
 * The grant in `table` that gives `perm` on (kind, name), or undefined. Subkey level first, then
 * the exact name, then wildcards. KEYSET_LEVEL names are met by subkey grants only.
 */
export function findInTable(table: AuthTable, kind: ResourceKind, name: string, perm: number, nowMs: number): GrantEntry | undefined {
  const subkey = table.subkey;
  if (isLive(subkey, perm, nowMs)) return subkey;
  if (name === KEYSET_LEVEL) return undefined;
  const map = kind === 'channels' ? table.channels : kind === 'groups' ? table.groups : table.uuids;
  const exact = map.get(name);
  if (isLive(exact, perm, nowMs)) return exact;
  if (kind === 'channels' && table.wildcards.size > 0) {
    const [first, second] = wildcardPrefixesOf(name);
    if (first !== undefined) {
      const a = table.wildcards.get(first);
      if (isLive(a, perm, nowMs)) return a;
      if (second !== undefined) {
        const b = table.wildcards.get(second);
        if (isLive(b, perm, nowMs)) return b;
      }
    }
  }
  return undefined;
}

export class KeysetGrants {
  private readonly tables = new Map<string, AuthTable>();

  constructor(readonly subscribeKey: string) {}

  /** The table of one auth key; undefined when that key has no grants. */
  table(authKey: string): AuthTable | undefined {
    return this.tables.get(authKey);
  }

  /** Grants for every auth key (auth '' on the wire). */
  get anyAuthTable(): AuthTable | undefined {
    return this.tables.get('');
  }

  /** The grant that allows `perm` on (kind, name) for `authKey`, own grants before '' grants. */
  find(kind: ResourceKind, name: string, authKey: string, perm: number, nowMs: number): GrantEntry | undefined {
    const own = authKey === '' ? undefined : this.tables.get(authKey);
    if (own !== undefined) {
      const hit = findInTable(own, kind, name, perm, nowMs);
      if (hit !== undefined) return hit;
    }
    const any = this.tables.get('');
    return any === undefined ? undefined : findInTable(any, kind, name, perm, nowMs);
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

  private set(r: GrantRecord): void {
    let table = this.tables.get(r.authKey);
    if (table === undefined) {
      table = newTable();
      this.tables.set(r.authKey, table);
    }
    const entry: GrantEntry = {
      level: r.level,
      resource: r.resource,
      authKey: r.authKey,
      perms: r.perms,
      ttlMinutes: r.ttlMinutes,
      expiresAtMs: r.expiresAtMs ?? Infinity,
    };
    switch (r.level) {
      case 'subkey':
        table.subkey = entry;
        break;
      case 'channel':
        if (isV2Wildcard(r.resource)) table.wildcards.set(wildcardPrefix(r.resource), entry);
        else table.channels.set(r.resource, entry);
        break;
      case 'channel-group':
        table.groups.set(r.resource, entry);
        break;
      case 'uuid':
        table.uuids.set(r.resource, entry);
        break;
    }
  }

  private remove(level: GrantLevel, resource: string, authKey: string): void {
    const table = this.tables.get(authKey);
    if (table === undefined) return;
    switch (level) {
      case 'subkey':
        table.subkey = undefined;
        break;
      case 'channel':
        if (isV2Wildcard(resource)) table.wildcards.delete(wildcardPrefix(resource));
        else table.channels.delete(resource);
        break;
      case 'channel-group':
        table.groups.delete(resource);
        break;
      case 'uuid':
        table.uuids.delete(resource);
        break;
    }
    if (isEmpty(table)) this.tables.delete(authKey);
  }

  /** Drops entries with expiresAtMs <= nowMs; returns how many. */
  purgeExpired(nowMs: number): number {
    let purged = 0;
    for (const [authKey, table] of this.tables) {
      if (table.subkey !== undefined && table.subkey.expiresAtMs <= nowMs) {
        table.subkey = undefined;
        purged++;
      }
      for (const map of [table.channels, table.wildcards, table.groups, table.uuids]) {
        for (const [key, entry] of map) {
          if (entry.expiresAtMs <= nowMs) {
            map.delete(key);
            purged++;
          }
        }
      }
      if (isEmpty(table)) this.tables.delete(authKey);
    }
    return purged;
  }

  /** Every live entry, for explain and diagnostics. */
  *entries(nowMs: number): IterableIterator<GrantEntry> {
    for (const table of this.tables.values()) {
      if (table.subkey !== undefined && nowMs < table.subkey.expiresAtMs) yield table.subkey;
      for (const map of [table.channels, table.wildcards, table.groups, table.uuids]) {
        for (const entry of map.values()) if (nowMs < entry.expiresAtMs) yield entry;
      }
    }
  }

  get size(): number {
    let n = 0;
    for (const table of this.tables.values()) {
      n += (table.subkey ? 1 : 0) + table.channels.size + table.wildcards.size + table.groups.size + table.uuids.size;
    }
    return n;
  }
}

function isEmpty(t: AuthTable): boolean {
  return t.subkey === undefined && t.channels.size === 0 && t.wildcards.size === 0 && t.groups.size === 0 && t.uuids.size === 0;
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
