import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { ParleyError } from '../errors.ts';
import { createMemoryStores } from './memory/index.ts';
import { createSqliteStores } from './sqlite/index.ts';
import { createRedisStores, type RedisLog } from './redis/index.ts';
import type { Stores } from './types.ts';

/** Which engine holds the data. A new backend adds a member here and a case below; nothing else switches on it. */
export type StoreConfig = { kind: 'memory' } | { kind: 'sqlite'; file: string } | { kind: 'redis'; url: string; prefix: string; log?: RedisLog };

/** Where the SQLite engine keeps its database inside the data directory. */
export const SQLITE_FILE_NAME = 'parley.db';

export function createStores(config: StoreConfig): Stores {
  switch (config.kind) {
    case 'memory':
      return createMemoryStores();
    case 'sqlite':
      return createSqliteStores({ file: config.file });
    case 'redis':
      return createRedisStores({ url: config.url, prefix: config.prefix, log: config.log });
    default: {
      const unknown: never = config;
      throw new ParleyError('INTERNAL', `unknown store kind: ${JSON.stringify(unknown)}`);
    }
  }
}

/** The StoreConfig a Config selects: the server and every CLI command read the same backend through it. */
export function storeConfigOf(config: Pick<Config, 'store' | 'redis' | 'dataDir'>, log?: RedisLog): StoreConfig {
  switch (config.store.kind) {
    case 'sqlite':
      return { kind: 'sqlite', file: join(config.dataDir, SQLITE_FILE_NAME) };
    case 'redis':
      return { kind: 'redis', url: config.redis.url, prefix: config.redis.prefix, log };
    case 'memory':
      return { kind: 'memory' };
  }
}

/** The stores of the engine the config selects (app.ts and the CLI: one choice, so they never disagree). */
export function storesFromConfig(config: Pick<Config, 'store' | 'redis' | 'dataDir'>, log?: RedisLog): Stores {
  return createStores(storeConfigOf(config, log));
}
