import { ParleyError } from '../errors.ts';
import { createMemoryStores } from './memory/index.ts';
import { createSqliteStores } from './sqlite/index.ts';
import { createRedisStores, type RedisLog } from './redis/index.ts';
import type { Stores } from './types.ts';

/** Which engine holds the data. A new backend adds a member here and a case below; nothing else switches on it. */
export type StoreConfig = { kind: 'memory' } | { kind: 'sqlite'; file: string } | { kind: 'redis'; url: string; prefix: string; log?: RedisLog };

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
