import type { PresenceEntry, PresenceStore } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import type { KeysetKeys, RedisKeys } from './keys.ts';
import { SCRIPTS } from './scripts.ts';

/** Due entries popped per script call: bounds how long one sweep step holds the server. */
const EXPIRE_BATCH = 500;

/**
 * Presence shared by every node: a ZSET of entries by expiresAtMs (what the sweep reads), plus
 * SETs indexing it by channel, by uuid and the channels with occupants, kept in step by the scripts.
 * State lives apart, in a HASH, because remove() and expire() must keep it.
 */
export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  async touch(subscribeKey: string, channel: string, uuid: string, expiresAtMs: number): Promise<boolean> {
    await this.registry.ensure([subscribeKey]);
    const ks = this.keys.keyset(subscribeKey);
    const added = await this.connection.script('touch', {
      script: SCRIPTS.presenceTouch,
      keys: entryKeys(ks, channel, uuid),
      args: [JSON.stringify([channel, uuid]), channel, uuid, String(expiresAtMs)],
    });
    return Number(added) === 1;
  }

  async remove(subscribeKey: string, channel: string, uuid: string): Promise<boolean> {
    const ks = this.keys.keyset(subscribeKey);
    const removed = await this.connection.script('remove', {
      script: SCRIPTS.presenceRemove,
      keys: entryKeys(ks, channel, uuid),
      args: [JSON.stringify([channel, uuid]), channel, uuid],
    });
    return Number(removed) === 1;
  }

  async occupants(subscribeKey: string, channel: string): Promise<string[]> {
    return (await this.connection.run('occupants', (client) => client.smembers(this.keys.keyset(subscribeKey).occupants(channel)))).sort();
  }

  async occupancy(subscribeKey: string, channel: string): Promise<number> {
    return this.connection.run('occupancy', (client) => client.scard(this.keys.keyset(subscribeKey).occupants(channel)));
  }

  async channels(subscribeKey: string): Promise<string[]> {
    return (await this.connection.run('channels', (client) => client.smembers(this.keys.keyset(subscribeKey).presenceChannels))).sort();
  }

  async channelsOf(subscribeKey: string, uuid: string): Promise<string[]> {
    return (await this.connection.run('channelsOf', (client) => client.smembers(this.keys.keyset(subscribeKey).channelsOf(uuid)))).sort();
  }

  /**
   * Per keyset: read due candidates, then pop them in a script that re-checks each one. Several nodes
   * may sweep at once; ZREM inside the script succeeds for exactly one of them, so each expired entry
   * is returned by exactly one node.
   */
  async expire(nowMs: number): Promise<PresenceEntry[]> {
    const expired: PresenceEntry[] = [];
    for (const subscribeKey of await this.registry.all()) {
      const ks = this.keys.keyset(subscribeKey);
      for (;;) {
        const members = await this.connection.run('expire', (client) =>
          client.zrangebyscore(ks.presenceExpiry, '-inf', String(nowMs), 'LIMIT', 0, EXPIRE_BATCH),
        );
        if (members.length === 0) break;
        const candidates = members.map((m) => JSON.parse(m) as [string, string]);
        const popped = (await this.connection.script('expire', {
          script: SCRIPTS.presenceExpire,
          keys: [ks.presenceExpiry, ks.presenceChannels, ...candidates.flatMap(([c, u]) => [ks.occupants(c), ks.channelsOf(u)])],
          args: [String(nowMs), ...candidates.flatMap(([c, u], i) => [members[i], c, u])],
        })) as string[];
        for (let i = 0; i < popped.length; i += 2) {
          const [channel, uuid] = JSON.parse(popped[i]) as [string, string];
          expired.push({ subscribeKey, channel, uuid, expiresAtMs: Number(popped[i + 1]) });
        }
        if (members.length < EXPIRE_BATCH) break;
      }
    }
    return expired;
  }

  async setState(subscribeKey: string, channel: string, uuid: string, state: Record<string, unknown> | null): Promise<void> {
    const key = this.keys.keyset(subscribeKey).presenceState;
    const field = JSON.stringify([channel, uuid]);
    if (state === null) {
      await this.connection.run('setState', (client) => client.hdel(key, field));
      return;
    }
    await this.connection.run('setState', (client) => client.hset(key, field, JSON.stringify(state)));
  }

  async getState(subscribeKey: string, channel: string, uuid: string): Promise<Record<string, unknown> | undefined> {
    const text = await this.connection.run('getState', (client) => client.hget(this.keys.keyset(subscribeKey).presenceState, JSON.stringify([channel, uuid])));
    return text === null ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }
}

function entryKeys(ks: KeysetKeys, channel: string, uuid: string): string[] {
  return [ks.presenceExpiry, ks.occupants(channel), ks.channelsOf(uuid), ks.presenceChannels];
}
