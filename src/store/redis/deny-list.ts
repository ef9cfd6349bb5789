import { ParleyError } from '../../errors.ts';
import { KICK_RETENTION_MS, type DenyList, type DenyListEntry, type KickEntry } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Revoked token ids per keyset in a ZSET scored by expiresAtMs (a double holds any ms value exactly,
 * fractions included). ZADD GT keeps the later expiry atomically: a revocation never shrinks. Kicks sit
 * in a second ZSET per keyset, scored by kickedAtMs, where ZADD GT keeps the later kick.
 */
export class RedisDenyList implements DenyList {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  /**
   * SET NX and GET in one MULTI: the first node to call records its value, every node reads the one
   * recorded. The key is gone after Redis lost its data, so the next call records a new epoch.
   */
  async epoch(proposedMs: number): Promise<number> {
    const key = this.keys.denyListEpoch;
    const replies = await this.connection.run('epoch', (client) =>
      client
        .multi()
        .set(key, String(Math.ceil(proposedMs)), 'NX')
        .get(key)
        .exec(),
    );
    const stored = replies?.[1]?.[1];
    if (replies === null || replies.some(([err]) => err) || typeof stored !== 'string' || !/^\d+$/.test(stored)) {
      throw new ParleyError('STORE_UNAVAILABLE', 'redis epoch failed: unexpected reply');
    }
    return Number(stored);
  }

  async add(entry: DenyListEntry): Promise<void> {
    await this.registry.ensure([entry.subscribeKey]);
    await this.connection.run('add', (client) => client.zadd(this.keys.keyset(entry.subscribeKey).denyList, 'GT', String(entry.expiresAtMs), entry.tokenId));
  }

  async has(subscribeKey: string, tokenId: string, nowMs: number): Promise<boolean> {
    const score = await this.connection.run('has', (client) => client.zscore(this.keys.keyset(subscribeKey).denyList, tokenId));
    return score !== null && Number(score) > nowMs;
  }

  async list(nowMs: number): Promise<DenyListEntry[]> {
    const out: DenyListEntry[] = [];
    for (const subscribeKey of await this.registry.all()) {
      const flat = await this.connection.run('list', (client) =>
        client.zrangebyscore(this.keys.keyset(subscribeKey).denyList, `(${nowMs}`, '+inf', 'WITHSCORES'),
      );
      for (let i = 0; i < flat.length; i += 2) out.push({ subscribeKey, tokenId: flat[i], expiresAtMs: Number(flat[i + 1]) });
    }
    return out;
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const subscribeKey of await this.registry.all()) {
      const ks = this.keys.keyset(subscribeKey);
      removed += await this.connection.run('purgeExpired', (client) => client.zremrangebyscore(ks.denyList, '-inf', String(nowMs)));
      removed += await this.connection.run('purgeExpired', (client) => client.zremrangebyscore(ks.kicks, '-inf', String(nowMs - KICK_RETENTION_MS)));
    }
    return removed;
  }

  async addKick(entry: KickEntry): Promise<void> {
    await this.registry.ensure([entry.subscribeKey]);
    await this.connection.run('addKick', (client) => client.zadd(this.keys.keyset(entry.subscribeKey).kicks, 'GT', String(entry.kickedAtMs), entry.uuid));
  }

  async listKicks(nowMs: number): Promise<KickEntry[]> {
    const out: KickEntry[] = [];
    for (const subscribeKey of await this.registry.all()) {
      const flat = await this.connection.run('listKicks', (client) =>
        client.zrangebyscore(this.keys.keyset(subscribeKey).kicks, `(${nowMs - KICK_RETENTION_MS}`, '+inf', 'WITHSCORES'),
      );
      for (let i = 0; i < flat.length; i += 2) out.push({ subscribeKey, uuid: flat[i], kickedAtMs: Number(flat[i + 1]) });
    }
    return out;
  }
}
