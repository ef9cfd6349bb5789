import { compareCodePoints } from '../../text-order.ts';
import type { MembershipRecord, ObjectKind, ObjectMetadata, KeyedPage, ObjectStore, PageFrom } from '../types.ts';

interface Keyset {
  records: Record<ObjectKind, Map<string, ObjectMetadata>>;
  /** side → id → other id → membership; each side holds its own copy. */
  relations: Record<ObjectKind, Map<string, Map<string, MembershipRecord>>>;
}

/** Copies in and out, so callers can never alias what is stored. */
const copy = <T>(v: T): T => structuredClone(v);

/**
 * A page of a map's values in the code point order of its keys (ObjectStore.page, membershipPage). It
 * sorts the keys on every call, O(n log n), which the in-process engine accepts; sqlite and redis read
 * an index.
 */
function pageOf<T>(map: ReadonlyMap<string, T> | undefined, from: PageFrom | null, limit: number): KeyedPage<T> {
  if (map === undefined) return { records: [], hasBefore: false, hasAfter: false };
  const keys = [...map.keys()].sort(compareCodePoints);
  let start = 0;
  let end = keys.length;
  if (from !== null && 'after' in from) {
    while (start < keys.length && compareCodePoints(keys[start], from.after) <= 0) start++;
    end = Math.min(keys.length, start + limit);
  } else if (from !== null) {
    while (end > 0 && compareCodePoints(keys[end - 1], from.before) >= 0) end--;
    start = Math.max(0, end - limit);
  } else {
    end = Math.min(keys.length, limit);
  }
  const page = keys.slice(start, end);
  return {
    records: page.map((k) => copy(map.get(k) as T)),
    hasBefore: page.length > 0 && start > 0,
    hasAfter: page.length > 0 && end < keys.length,
  };
}

/** App Context in process memory; every method completes in one synchronous step, so each is atomic. */
export class MemoryObjectStore implements ObjectStore {
  private readonly keysets = new Map<string, Keyset>();

  private keyset(subscribeKey: string): Keyset {
    let ks = this.keysets.get(subscribeKey);
    if (ks === undefined) {
      ks = { records: { uuid: new Map(), channel: new Map() }, relations: { uuid: new Map(), channel: new Map() } };
      this.keysets.set(subscribeKey, ks);
    }
    return ks;
  }

  async get(subscribeKey: string, kind: ObjectKind, id: string): Promise<ObjectMetadata | undefined> {
    const r = this.keysets.get(subscribeKey)?.records[kind].get(id);
    return r === undefined ? undefined : copy(r);
  }

  async put(subscribeKey: string, kind: ObjectKind, record: ObjectMetadata, expectedETag?: string | null): Promise<boolean> {
    const records = this.keyset(subscribeKey).records[kind];
    if (expectedETag !== undefined && (records.get(record.id)?.eTag ?? null) !== expectedETag) return false;
    records.set(record.id, copy(record));
    return true;
  }

  async remove(subscribeKey: string, kind: ObjectKind, id: string): Promise<boolean> {
    const ks = this.keysets.get(subscribeKey);
    if (ks === undefined) return false;
    const other: ObjectKind = kind === 'uuid' ? 'channel' : 'uuid';
    for (const otherId of ks.relations[kind].get(id)?.keys() ?? []) this.unlink(ks, other, otherId, id);
    ks.relations[kind].delete(id);
    return ks.records[kind].delete(id);
  }

  async list(subscribeKey: string, kind: ObjectKind): Promise<ObjectMetadata[]> {
    const records = this.keysets.get(subscribeKey)?.records[kind];
    if (records === undefined) return [];
    return [...records.values()].map(copy).sort((a, b) => compareCodePoints(a.id, b.id));
  }

  async page(subscribeKey: string, kind: ObjectKind, from: PageFrom | null, limit: number): Promise<KeyedPage<ObjectMetadata>> {
    return pageOf(this.keysets.get(subscribeKey)?.records[kind], from, limit);
  }

  async membershipPage(subscribeKey: string, side: ObjectKind, id: string, from: PageFrom | null, limit: number): Promise<KeyedPage<MembershipRecord>> {
    return pageOf(this.keysets.get(subscribeKey)?.relations[side].get(id), from, limit);
  }

  async membershipCount(subscribeKey: string, side: ObjectKind, id: string): Promise<number> {
    return this.keysets.get(subscribeKey)?.relations[side].get(id)?.size ?? 0;
  }

  async count(subscribeKey: string, kind: ObjectKind): Promise<number> {
    return this.keysets.get(subscribeKey)?.records[kind].size ?? 0;
  }

  async putMemberships(subscribeKey: string, records: readonly MembershipRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ks = this.keyset(subscribeKey);
    for (const r of records) {
      this.link(ks, 'uuid', r.uuid, r.channel, copy(r));
      this.link(ks, 'channel', r.channel, r.uuid, copy(r));
    }
  }

  async removeMemberships(subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>): Promise<void> {
    const ks = this.keysets.get(subscribeKey);
    if (ks === undefined) return;
    for (const { uuid, channel } of pairs) {
      this.unlink(ks, 'uuid', uuid, channel);
      this.unlink(ks, 'channel', channel, uuid);
    }
  }

  async memberships(subscribeKey: string, side: ObjectKind, id: string): Promise<MembershipRecord[]> {
    const byOther = this.keysets.get(subscribeKey)?.relations[side].get(id);
    if (byOther === undefined) return [];
    return [...byOther.entries()].sort(([a], [b]) => compareCodePoints(a, b)).map(([, r]) => copy(r));
  }

  async membership(subscribeKey: string, uuid: string, channel: string): Promise<MembershipRecord | undefined> {
    const r = this.keysets.get(subscribeKey)?.relations.uuid.get(uuid)?.get(channel);
    return r === undefined ? undefined : copy(r);
  }

  private link(ks: Keyset, side: ObjectKind, id: string, otherId: string, record: MembershipRecord): void {
    let byOther = ks.relations[side].get(id);
    if (byOther === undefined) {
      byOther = new Map();
      ks.relations[side].set(id, byOther);
    }
    byOther.set(otherId, record);
  }

  private unlink(ks: Keyset, side: ObjectKind, id: string, otherId: string): void {
    const byOther = ks.relations[side].get(id);
    if (byOther === undefined) return;
    byOther.delete(otherId);
    // An emptied index entry is dropped so "no memberships" is one state.
    if (byOther.size === 0) ks.relations[side].delete(id);
  }
}
