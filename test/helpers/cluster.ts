import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnServer } from './start-server.ts';
import { makeClient, type Client } from './clients.ts';
import { REDIS_URL, uniqueRedisPrefix, adminClient, deleteKeysWithPrefix } from './redis.ts';
import type { Keyset } from '../../src/keyset.ts';

export type ClusterNode = Awaited<ReturnType<typeof spawnServer>>;

/**
 * `count` real Parley processes on the shared test Redis under a prefix of their own, with a client
 * factory; stop() ends the clients and processes and deletes the prefix's keys.
 */
export async function startCluster(count: number, config: Record<string, unknown>) {
  const prefix = uniqueRedisPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  const file = join(dir, 'parley.json');
  writeFileSync(file, JSON.stringify(config));
  const env = { PARLEY_CONFIG: file, PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: prefix };
  const nodes: ClusterNode[] = await Promise.all(Array.from({ length: count }, () => spawnServer(env)));
  const clients: Client[] = [];
  return {
    nodes,
    client(node: ClusterNode, keyset: Keyset, userId: string, extra: Record<string, unknown> = {}): Client {
      const c = makeClient(node.origin, keyset, userId, extra);
      clients.push(c);
      return c;
    },
    async stop(): Promise<void> {
      for (const c of clients) c.destroy();
      for (const n of nodes) n.child.kill('SIGTERM');
      await Promise.all(nodes.map((n) => n.exited));
      const redis = adminClient();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
