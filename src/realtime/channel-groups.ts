import type { ChannelGroupStore } from '../store/types.ts';
import type { GroupResolver } from './subscription.ts';

/** Groups whose membership ChannelGroupService keeps; the least recently used go first. */
export const MEMBERSHIP_CACHE_MAX = 10_000;

/**
 * Channel groups over the store, with a read-through cache for the subscribe path. Every change
 * invalidates the cache and tells listeners, so parked long-polls of the group re-resolve at once
 * (wire-protocol.md §6: membership changes take effect on current long-polls).
 */
export class ChannelGroupService implements GroupResolver {
  private readonly cache = new Map<string, Promise<readonly string[]>>();
  private readonly listeners = new Set<(subscribeKey: string, group: string, origin: 'local' | 'remote') => void>();

  constructor(private readonly store: ChannelGroupStore) {}

  /** `origin` tells a change made here (to be told to other nodes) from one another node reported. */
  onChange(fn: (subscribeKey: string, group: string, origin: 'local' | 'remote') => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A group's channels, from the cache when it holds them. The cache keeps the MEMBERSHIP_CACHE_MAX
   * groups used last: any client may name groups that do not exist, and each would otherwise stay.
   */
  members(subscribeKey: string, group: string): Promise<readonly string[]> {
    const key = `${subscribeKey}\u0000${group}`;
    let p = this.cache.get(key);
    if (p !== undefined) {
      // Used last: to the end of the map's order (the first key is evicted first).
      this.cache.delete(key);
      this.cache.set(key, p);
      return p;
    }
    p = this.store.listChannels(subscribeKey, group);
    if (this.cache.size >= MEMBERSHIP_CACHE_MAX) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, p);
    // A failed read must not stay cached.
    const cached = p;
    p.catch(() => {
      if (this.cache.get(key) === cached) this.cache.delete(key);
    });
    return p;
  }

  /** Groups whose membership is cached now (at most MEMBERSHIP_CACHE_MAX). */
  get cachedGroups(): number {
    return this.cache.size;
  }

  /** The group's member count after the add; null when it would pass `maxMembers` (nothing added). */
  async add(subscribeKey: string, group: string, channels: readonly string[], maxMembers?: number): Promise<number | null> {
    const n = await this.store.addChannels(subscribeKey, group, channels, maxMembers);
    if (n !== null) this.changed(subscribeKey, group, 'local');
    return n;
  }

  async remove(subscribeKey: string, group: string, channels: readonly string[]): Promise<void> {
    await this.store.removeChannels(subscribeKey, group, channels);
    this.changed(subscribeKey, group, 'local');
  }

  async delete(subscribeKey: string, group: string): Promise<void> {
    await this.store.deleteGroup(subscribeKey, group);
    this.changed(subscribeKey, group, 'local');
  }

  list(subscribeKey: string, group: string): Promise<string[]> {
    return this.store.listChannels(subscribeKey, group);
  }

  listGroups(subscribeKey: string): Promise<string[]> {
    return this.store.listGroups(subscribeKey);
  }

  /** Also called when another node reports a change (origin 'remote'). */
  changed(subscribeKey: string, group: string, origin: 'local' | 'remote'): void {
    this.cache.delete(`${subscribeKey}\u0000${group}`);
    for (const fn of this.listeners) fn(subscribeKey, group, origin);
  }

  /** Forgets every cached membership (after missing other nodes' events). */
  clearCache(): void {
    this.cache.clear();
  }
}
