import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The one Redis tests may use. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A prefix no other test (or test run) shares: parley-test-<random>-<time>. */
export function uniqueRedisPrefix(): string {
  return `parley-test-${randomBytes(6).toString('hex')}-${Date.now()}`;
}

/** A plain client for test setup and inspection; quit it with t.after/after. */
export function adminClient(): Redis {
  return new Redis(REDIS_URL, { connectionName: 'parley-test-admin', maxRetriesPerRequest: 1 });
}

/** Every key under the prefix (SCAN, never KEYS). */
export async function keysWithPrefix(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key under the prefix; returns how many. */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  const keys = await keysWithPrefix(client, prefix);
  for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  return keys.length;
}
