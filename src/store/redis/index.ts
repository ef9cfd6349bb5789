import type { Stores } from '../types.ts';
import { RedisBroker, type RedisBrokerOptions } from './broker.ts';
import { RedisChannelGroupStore } from './channel-group-store.ts';
import { RedisConnection, type RedisLog } from './connection.ts';
import { RedisDenyList } from './deny-list.ts';
import { RedisFileStore } from './file-store.ts';
import { RedisGrantStore } from './grant-store.ts';
import { KeysetRegistry } from './keyset-registry.ts';
import { RedisKeys } from './keys.ts';
import { RedisMessageActionStore } from './message-action-store.ts';
import { RedisMessageStore } from './message-store.ts';
import { RedisObjectStore } from './object-store.ts';
import { RedisPresenceStore } from './presence-store.ts';
import { RedisSecretRotationStore } from './secret-rotation-store.ts';
import { SCRIPTS } from './scripts.ts';

export { RedisBroker, RedisChannelGroupStore, RedisDenyList, RedisGrantStore, RedisMessageStore, RedisPresenceStore };
export { RedisFileStore, RedisMessageActionStore };
export { RedisObjectStore, RedisSecretRotationStore };
export type { RedisBrokerOptions, RedisLog };

/** Longest a readiness check waits for PING (Stores.health, Broker.health). */
export const HEALTH_TIMEOUT_MS = 2000;

export interface RedisStoresOptions {
  /** redis:// URL. */
  url: string;
  /** Key prefix of the deployment (no braces or spaces); every node of one deployment uses the same. */
  prefix: string;
  /** Default 5000. */
  commandTimeoutMs?: number;
  /** Default 5000. */
  connectTimeoutMs?: number;
  log?: RedisLog;
  /** Shown in CLIENT LIST as `parley-store-<name>`; default 'node'. */
  connectionName?: string;
}

/**
 * The shared engine: every store on one Redis connection, shared by all nodes that use the same
 * prefix (docs/redis.md). Returns at once; calls made before the first connection attempt finished
 * wait for it (up to connectTimeoutMs), and any later call while Redis is unreachable rejects at once
 * with STORE_UNAVAILABLE. close() quits the connection.
 */
export function createRedisStores(options: RedisStoresOptions): Stores {
  const keys = new RedisKeys(options.prefix);
  const connection = new RedisConnection({
    url: options.url,
    connectionName: `parley-store-${options.connectionName ?? 'node'}`,
    scripts: Object.values(SCRIPTS).filter((s) => s !== SCRIPTS.commit),
    commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    log: options.log,
  });
  const registry = new KeysetRegistry(connection, keys.keysets);
  return {
    messages: new RedisMessageStore(connection, keys, registry),
    channelGroups: new RedisChannelGroupStore(connection, keys),
    grants: new RedisGrantStore(connection, keys, registry),
    denyList: new RedisDenyList(connection, keys, registry),
    secretRotations: new RedisSecretRotationStore(connection, keys),
    presence: new RedisPresenceStore(connection, keys, registry),
    objects: new RedisObjectStore(connection, keys),
    messageActions: new RedisMessageActionStore(connection, keys, registry),
    files: new RedisFileStore(connection, keys, registry),
    health: async () =>
      (await connection.answersPing(HEALTH_TIMEOUT_MS)) ? { ok: true } : { ok: false, reason: 'redis (store link) is unreachable or does not answer' },
    close: () => connection.close(),
  };
}
