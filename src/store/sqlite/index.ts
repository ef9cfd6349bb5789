import { MemoryPresenceStore } from '../shared/memory-presence-store.ts';
import type { Stores } from '../types.ts';
import { SqliteChannelGroupStore } from './channel-group-store.ts';
import { openSqliteDatabase } from './database.ts';
import { SqliteDenyList } from './deny-list.ts';
import { SqliteFileStore } from './file-store.ts';
import { SqliteGrantStore } from './grant-store.ts';
import { sqliteHealthCheck } from './health.ts';
import { SqliteMessageActionStore } from './message-action-store.ts';
import { SqliteMessageStore } from './message-store.ts';
import { SqliteObjectStore } from './object-store.ts';
import { SqliteSecretRotationStore } from './secret-rotation-store.ts';
import { sqliteCall, toStoreError } from './sqlite-call.ts';

export { SqliteChannelGroupStore, SqliteDenyList, SqliteGrantStore, SqliteMessageStore };
export { SqliteFileStore, SqliteMessageActionStore };
export { SqliteObjectStore, SqliteSecretRotationStore };

/**
 * The embedded single-node engine: history, channel groups, grants, the denylist (kicks included),
 * secret rotations, message actions and shared files (bytes included) in one SQLite file (opened and
 * migrated synchronously; a failure throws STORE_UNAVAILABLE).
 *
 * Presence is deliberately NOT persisted: it is ephemeral by design (as in PubNub), every entry
 * expires within one presence timeout, and after a restart clients re-announce themselves with their
 * next heartbeat. So presence is kept in process memory (store/shared/memory-presence-store.ts, which
 * the memory engine uses too).
 */
export function createSqliteStores(options: { file: string }): Stores {
  const db = openSqliteDatabase(options.file);
  let health: ReturnType<typeof sqliteHealthCheck>;
  try {
    health = sqliteHealthCheck(db, options.file);
  } catch (err) {
    db.close();
    throw toStoreError(`open ${options.file}`, err);
  }
  return {
    messages: new SqliteMessageStore(db),
    channelGroups: new SqliteChannelGroupStore(db),
    grants: new SqliteGrantStore(db),
    denyList: new SqliteDenyList(db),
    secretRotations: new SqliteSecretRotationStore(db),
    presence: new MemoryPresenceStore(),
    objects: new SqliteObjectStore(db),
    messageActions: new SqliteMessageActionStore(db),
    files: new SqliteFileStore(db),
    health: async () => health(),
    close: () =>
      sqliteCall('close', () => {
        if (!db.open) return;
        try {
          // Cheap upkeep SQLite recommends at close: refreshes planner statistics where they are stale.
          db.pragma('optimize');
        } finally {
          db.close();
        }
      }),
  };
}
