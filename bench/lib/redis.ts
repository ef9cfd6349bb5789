import { Redis } from 'ioredis';

/** The Redis the benchmarks' Redis-engine runs use (loopback only). */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Deletes the keys matching `pattern` (SCAN, never KEYS; at most 100,000 SCAN calls), so a run leaves
 * nothing behind in the shared Redis.
 */
export async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}
