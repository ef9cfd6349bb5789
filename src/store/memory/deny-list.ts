import { KICK_RETENTION_MS, type DenyList, type DenyListEntry, type KickEntry } from '../types.ts';

/** tokenId → expiresAtMs per keyset. Its storage is this process: the epoch is this instance's first call. */
export class MemoryDenyList implements DenyList {
  private readonly keysets = new Map<string, Map<string, number>>();
  /** subscribeKey → uuid → kickedAtMs. */
  private readonly kicks = new Map<string, Map<string, number>>();
  private epochMs: number | undefined;

  async epoch(proposedMs: number): Promise<number> {
    this.epochMs ??= Math.ceil(proposedMs);
    return this.epochMs;
  }

  async add(entry: DenyListEntry): Promise<void> {
    let entries = this.keysets.get(entry.subscribeKey);
    if (entries === undefined) {
      entries = new Map();
      this.keysets.set(entry.subscribeKey, entries);
    }
    const previous = entries.get(entry.tokenId);
    entries.set(entry.tokenId, previous === undefined ? entry.expiresAtMs : Math.max(previous, entry.expiresAtMs));
  }

  async has(subscribeKey: string, tokenId: string, nowMs: number): Promise<boolean> {
    const expiresAtMs = this.keysets.get(subscribeKey)?.get(tokenId);
    return expiresAtMs !== undefined && expiresAtMs > nowMs;
  }

  async list(nowMs: number): Promise<DenyListEntry[]> {
    const out: DenyListEntry[] = [];
    for (const [subscribeKey, entries] of this.keysets) {
      for (const [tokenId, expiresAtMs] of entries) {
        if (expiresAtMs > nowMs) out.push({ subscribeKey, tokenId, expiresAtMs });
      }
    }
    return out;
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const [subscribeKey, entries] of this.keysets) {
      for (const [tokenId, expiresAtMs] of entries) {
        if (expiresAtMs > nowMs) continue;
        entries.delete(tokenId);
        removed++;
      }
      if (entries.size === 0) this.keysets.delete(subscribeKey);
    }
    for (const [subscribeKey, uuids] of this.kicks) {
      for (const [uuid, kickedAtMs] of uuids) {
        if (kickedAtMs + KICK_RETENTION_MS > nowMs) continue;
        uuids.delete(uuid);
        removed++;
      }
      if (uuids.size === 0) this.kicks.delete(subscribeKey);
    }
    return removed;
  }

  async addKick(entry: KickEntry): Promise<void> {
    let uuids = this.kicks.get(entry.subscribeKey);
    if (uuids === undefined) this.kicks.set(entry.subscribeKey, (uuids = new Map()));
    const previous = uuids.get(entry.uuid);
    uuids.set(entry.uuid, previous === undefined ? entry.kickedAtMs : Math.max(previous, entry.kickedAtMs));
  }

  async listKicks(nowMs: number): Promise<KickEntry[]> {
    const out: KickEntry[] = [];
    for (const [subscribeKey, uuids] of this.kicks) {
      for (const [uuid, kickedAtMs] of uuids) if (kickedAtMs + KICK_RETENTION_MS > nowMs) out.push({ subscribeKey, uuid, kickedAtMs });
    }
    return out;
  }
}
