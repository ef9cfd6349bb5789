import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { ParleyError } from '../errors.ts';
import { LocalBroker } from './memory/broker.ts';
import { createMemoryStores } from './memory/index.ts';
import { createRedisStores, RedisBroker, type RedisLog } from './redis/index.ts';
import { createSqliteStores } from './sqlite/index.ts';
import type { Broker, Stores, TimetokenSource } from './types.ts';

/** Where the SQLite engine keeps its database inside the data directory. */
const SQLITE_FILE_NAME = 'parley.db';

/** What one node's engine is made of: its stores and its broker, always chosen together. */
export interface Backends {
  stores: Stores;
  broker: Broker;
}

export interface BackendDeps {
  /** The node's clock: the Redis broker stamps timetokens with it. */
  clock: { nowMs(): number };
  /** The node's timetoken generator: the single-node engines' broker draws its timetokens from it. */
  timetokens: TimetokenSource;
  /** Where the Redis engine reports lost and restored links; nothing is logged without it. */
  log?: RedisLog;
  /** Stores built by the caller (tests) instead of from the config; the broker is still the config's and commits into them. */
  stores?: Stores;
}

/**
 * The engine the config selects, stores and broker: the only switch on store.kind, so the server
 * (app.ts), every CLI command and the tests read and write the same backend. Opening the SQLite file
 * may throw STORE_UNAVAILABLE; the Redis engine connects in the background (await broker.ready()).
 * The caller closes both, the broker first.
 */
export function backendsFromConfig(config: Pick<Config, 'store' | 'redis' | 'dataDir'>, deps: BackendDeps): Backends {
  const kind = config.store.kind;
  switch (kind) {
    case 'memory':
    case 'sqlite': {
      const stores = deps.stores ?? (kind === 'memory' ? createMemoryStores() : createSqliteStores({ file: join(config.dataDir, SQLITE_FILE_NAME) }));
      return { stores, broker: new LocalBroker({ messages: stores.messages, timetokens: deps.timetokens }) };
    }
    case 'redis': {
      const { url, prefix } = config.redis;
      const stores = deps.stores ?? createRedisStores({ url, prefix, log: deps.log });
      return { stores, broker: new RedisBroker({ url, prefix, clock: deps.clock, log: deps.log }) };
    }
    default: {
      const unknown: never = kind;
      throw new ParleyError('INTERNAL', `unknown store kind: ${JSON.stringify(unknown)}`);
    }
  }
}
