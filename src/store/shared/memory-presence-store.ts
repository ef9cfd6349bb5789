import type { PresenceEntry, PresenceStore } from '../types.ts';
import { ExpiryHeap } from './expiry-heap.ts';

interface Occupancy {
  expiresAtMs: number;
  /** The expiry the heap currently holds for this entry; later heap items for it are stale. */
  scheduledAtMs: number;
}

/**
 * Presence in process memory, for both single-node engines (memory and sqlite: presence is ephemeral,
 * see sqlite/index.ts). A heartbeat usually extends an entry; the heap is not touched then, and
 * the sweep re-schedules an entry it finds extended, so the heap holds about one item per entry
 * rather than one per heartbeat.
 */
export class MemoryPresenceStore implements PresenceStore {
  private readonly channelsByKeyset = new Map<string, Map<string, Map<string, Occupancy>>>();
  private readonly uuidsByKeyset = new Map<string, Map<string, Set<string>>>();
  private readonly states = new Map<string, Record<string, unknown>>();
  private readonly heap = new ExpiryHeap<PresenceEntry>();

  async touch(subscribeKey: string, channel: string, uuid: string, expiresAtMs: number): Promise<boolean> {
    const channels = getOrCreate(this.channelsByKeyset, subscribeKey, () => new Map<string, Map<string, Occupancy>>());
    const occupants = getOrCreate(channels, channel, () => new Map<string, Occupancy>());
    const current = occupants.get(uuid);
    if (current !== undefined) {
      current.expiresAtMs = expiresAtMs;
      if (expiresAtMs < current.scheduledAtMs) this.schedule(current, { subscribeKey, channel, uuid, expiresAtMs });
      return false;
    }
    const occupancy: Occupancy = { expiresAtMs, scheduledAtMs: expiresAtMs };
    occupants.set(uuid, occupancy);
    const uuids = getOrCreate(this.uuidsByKeyset, subscribeKey, () => new Map<string, Set<string>>());
    getOrCreate(uuids, uuid, () => new Set<string>()).add(channel);
    this.schedule(occupancy, { subscribeKey, channel, uuid, expiresAtMs });
    return true;
  }

  async remove(subscribeKey: string, channel: string, uuid: string): Promise<boolean> {
    return this.drop(subscribeKey, channel, uuid);
  }

  async occupants(subscribeKey: string, channel: string): Promise<string[]> {
    return [...(this.channelsByKeyset.get(subscribeKey)?.get(channel)?.keys() ?? [])].sort();
  }

  async occupancy(subscribeKey: string, channel: string): Promise<number> {
    return this.channelsByKeyset.get(subscribeKey)?.get(channel)?.size ?? 0;
  }

  async channels(subscribeKey: string): Promise<string[]> {
    return [...(this.channelsByKeyset.get(subscribeKey)?.keys() ?? [])].sort();
  }

  async channelsOf(subscribeKey: string, uuid: string): Promise<string[]> {
    return [...(this.uuidsByKeyset.get(subscribeKey)?.get(uuid) ?? [])].sort();
  }

  async expire(nowMs: number): Promise<PresenceEntry[]> {
    const expired: PresenceEntry[] = [];
    for (let item = this.heap.peek(); item !== undefined && item.expiresAtMs <= nowMs; item = this.heap.peek()) {
      this.heap.pop();
      const { subscribeKey, channel, uuid } = item;
      const occupancy = this.channelsByKeyset.get(subscribeKey)?.get(channel)?.get(uuid);
      if (occupancy === undefined || occupancy.scheduledAtMs !== item.expiresAtMs) continue;
      if (occupancy.expiresAtMs > nowMs) {
        this.schedule(occupancy, { subscribeKey, channel, uuid, expiresAtMs: occupancy.expiresAtMs });
        continue;
      }
      this.drop(subscribeKey, channel, uuid);
      expired.push({ subscribeKey, channel, uuid, expiresAtMs: occupancy.expiresAtMs });
    }
    return expired;
  }

  async setState(subscribeKey: string, channel: string, uuid: string, state: Record<string, unknown> | null): Promise<void> {
    const key = stateKey(subscribeKey, channel, uuid);
    if (state === null) this.states.delete(key);
    else this.states.set(key, structuredClone(state));
  }

  async getState(subscribeKey: string, channel: string, uuid: string): Promise<Record<string, unknown> | undefined> {
    const state = this.states.get(stateKey(subscribeKey, channel, uuid));
    return state === undefined ? undefined : structuredClone(state);
  }

  private schedule(occupancy: Occupancy, entry: PresenceEntry): void {
    occupancy.scheduledAtMs = entry.expiresAtMs;
    this.heap.push(entry);
  }

  private drop(subscribeKey: string, channel: string, uuid: string): boolean {
    const channels = this.channelsByKeyset.get(subscribeKey);
    const occupants = channels?.get(channel);
    if (channels === undefined || occupants === undefined || !occupants.delete(uuid)) return false;
    if (occupants.size === 0) channels.delete(channel);
    if (channels.size === 0) this.channelsByKeyset.delete(subscribeKey);
    const uuids = this.uuidsByKeyset.get(subscribeKey);
    const joined = uuids?.get(uuid);
    joined?.delete(channel);
    if (joined?.size === 0) uuids?.delete(uuid);
    if (uuids?.size === 0) this.uuidsByKeyset.delete(subscribeKey);
    return true;
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function stateKey(subscribeKey: string, channel: string, uuid: string): string {
  return JSON.stringify([subscribeKey, channel, uuid]);
}
