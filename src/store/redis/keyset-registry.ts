import type { RedisConnection } from './connection.ts';

/**
 * The node-wide SET of subscribe keys that hold data. Sweeps that span keysets (purgeExpired,
 * presence expire, denylist list) visit these instead of SCANning the whole database, and each
 * keyset's keys live in their own hash slot, so the registry is the one key outside them.
 *
 * A keyset is registered before its first write (SADD, then the write), so no data exists for an
 * unregistered keyset. Entries are never removed: a keyset that emptied costs one SET member.
 */
export class KeysetRegistry {
  /** Keysets this process already registered: an SADD per write would double the round trips. */
  private readonly known = new Set<string>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly key: string,
  ) {
    // After a reconnect the server may be a fresh (empty) instance: register again on next write.
    connection.client.on('close', () => this.known.clear());
  }

  async ensure(subscribeKeys: Iterable<string>): Promise<void> {
    const missing = [...new Set(subscribeKeys)].filter((k) => !this.known.has(k));
    if (missing.length === 0) return;
    await this.connection.run('register keyset', (client) => client.sadd(this.key, ...missing));
    for (const k of missing) this.known.add(k);
  }

  all(): Promise<string[]> {
    return this.connection.run('list keysets', (client) => client.smembers(this.key));
  }
}
