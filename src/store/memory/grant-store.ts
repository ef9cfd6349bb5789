import { type GrantRecord, type GrantStore, type GrantTarget, grantTargetKey } from '../types.ts';

function isLive(g: GrantRecord, nowMs: number): boolean {
  return g.expiresAtMs === null || g.expiresAtMs > nowMs;
}

/** Grants per keyset, keyed by (level, resource, authKey). Records are copied in and out. */
export class MemoryGrantStore implements GrantStore {
  private readonly keysets = new Map<string, Map<string, GrantRecord>>();

  async put(grants: readonly GrantRecord[]): Promise<void> {
    for (const g of grants) {
      const key = grantTargetKey(g);
      let records = this.keysets.get(g.subscribeKey);
      if (g.perms === 0) {
        records?.delete(key);
        if (records?.size === 0) this.keysets.delete(g.subscribeKey);
        continue;
      }
      if (records === undefined) {
        records = new Map();
        this.keysets.set(g.subscribeKey, records);
      }
      records.set(key, { ...g });
    }
  }

  async list(subscribeKey: string, nowMs: number): Promise<GrantRecord[]> {
    const out: GrantRecord[] = [];
    for (const g of this.keysets.get(subscribeKey)?.values() ?? []) if (isLive(g, nowMs)) out.push({ ...g });
    return out;
  }

  async get(subscribeKey: string, targets: readonly GrantTarget[], nowMs: number): Promise<GrantRecord[]> {
    const records = this.keysets.get(subscribeKey);
    if (records === undefined) return [];
    const out: GrantRecord[] = [];
    for (const key of new Set(targets.map(grantTargetKey))) {
      const g = records.get(key);
      if (g !== undefined && isLive(g, nowMs)) out.push({ ...g });
    }
    return out;
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const [subscribeKey, records] of this.keysets) {
      for (const [key, g] of records) {
        if (isLive(g, nowMs)) continue;
        records.delete(key);
        removed++;
      }
      if (records.size === 0) this.keysets.delete(subscribeKey);
    }
    return removed;
  }
}
