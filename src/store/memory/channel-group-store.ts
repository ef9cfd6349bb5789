import type { ChannelGroupStore } from '../types.ts';

/** Groups as sets of channel names; an emptied group is deleted so "empty" and "unknown" are one state. */
export class MemoryChannelGroupStore implements ChannelGroupStore {
  private readonly keysets = new Map<string, Map<string, Set<string>>>();

  async addChannels(subscribeKey: string, group: string, channels: readonly string[], maxMembers = Infinity): Promise<number | null> {
    const current = this.keysets.get(subscribeKey)?.get(group);
    const added = new Set<string>();
    for (const channel of channels) if (current === undefined || !current.has(channel)) added.add(channel);
    if ((current?.size ?? 0) + added.size > maxMembers) return null;
    let groups = this.keysets.get(subscribeKey);
    if (groups === undefined) {
      groups = new Map();
      this.keysets.set(subscribeKey, groups);
    }
    let members = groups.get(group);
    if (members === undefined) {
      members = new Set();
      groups.set(group, members);
    }
    for (const channel of channels) members.add(channel);
    const size = members.size;
    // An add of zero channels must not create an empty group.
    if (size === 0) this.dropGroup(subscribeKey, group);
    return size;
  }

  async removeChannels(subscribeKey: string, group: string, channels: readonly string[]): Promise<void> {
    const members = this.keysets.get(subscribeKey)?.get(group);
    if (members === undefined) return;
    for (const channel of channels) members.delete(channel);
    if (members.size === 0) this.dropGroup(subscribeKey, group);
  }

  async listChannels(subscribeKey: string, group: string): Promise<string[]> {
    return [...(this.keysets.get(subscribeKey)?.get(group) ?? [])].sort();
  }

  async listGroups(subscribeKey: string): Promise<string[]> {
    return [...(this.keysets.get(subscribeKey)?.keys() ?? [])].sort();
  }

  async deleteGroup(subscribeKey: string, group: string): Promise<void> {
    this.dropGroup(subscribeKey, group);
  }

  private dropGroup(subscribeKey: string, group: string): void {
    const groups = this.keysets.get(subscribeKey);
    if (groups === undefined) return;
    groups.delete(group);
    if (groups.size === 0) this.keysets.delete(subscribeKey);
  }
}
