import type { ChannelGroupStore } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { RedisKeys } from './keys.ts';
import { SCRIPTS } from './scripts.ts';

/**
 * A group is a SET of channels plus its name in the keyset's SET of groups; the scripts keep the two
 * in step, so an emptied group vanishes from both. Names are sorted in JS: Redis SETs have no order,
 * and every backend must sort by UTF-16 code units.
 */
export class RedisChannelGroupStore implements ChannelGroupStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async addChannels(subscribeKey: string, group: string, channels: readonly string[], maxMembers = Infinity): Promise<number | null> {
    const ks = this.keys.keyset(subscribeKey);
    const n = Number(
      await this.connection.script('addChannels', {
        script: SCRIPTS.groupAdd,
        keys: [ks.group(group), ks.groups],
        args: [group, Number.isFinite(maxMembers) ? String(maxMembers) : 'inf', ...channels],
      }),
    );
    return n < 0 ? null : n;
  }

  async removeChannels(subscribeKey: string, group: string, channels: readonly string[]): Promise<void> {
    if (channels.length === 0) return;
    const ks = this.keys.keyset(subscribeKey);
    await this.connection.script('removeChannels', {
      script: SCRIPTS.groupRemove,
      keys: [ks.group(group), ks.groups],
      args: [group, ...channels],
    });
  }

  async listChannels(subscribeKey: string, group: string): Promise<string[]> {
    const members = await this.connection.run('listChannels', (client) => client.smembers(this.keys.keyset(subscribeKey).group(group)));
    return members.sort();
  }

  async listGroups(subscribeKey: string): Promise<string[]> {
    const groups = await this.connection.run('listGroups', (client) => client.smembers(this.keys.keyset(subscribeKey).groups));
    return groups.sort();
  }

  async deleteGroup(subscribeKey: string, group: string): Promise<void> {
    const ks = this.keys.keyset(subscribeKey);
    // Both keys share the keyset's hash slot, so MULTI is atomic on a cluster too.
    await this.connection.run('deleteGroup', async (client) => {
      const replies = await client.multi().del(ks.group(group)).srem(ks.groups, group).exec();
      const failed = replies?.find(([err]) => err !== null);
      if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction discarded');
    });
  }
}
