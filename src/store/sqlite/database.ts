import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations, migrate } from './migrate.ts';
import { toStoreError } from './sqlite-call.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const BUSY_TIMEOUT_MS = 5000;
/** The migration that added the `meta` table (and with it the deny list's epoch). */
const META_MIGRATION = 4;

/**
 * Opens (creating the directory and file if needed) and migrates the database.
 *
 * WAL with synchronous=NORMAL: a commit is in the WAL file, handed to the OS, before the call
 * returns, so it survives the process being killed (kill -9), which is the durability Parley
 * promises for an acknowledged publish. It can lose the last commits on an OS crash or power
 * loss; synchronous=FULL would cover that at the price of an fsync per commit.
 */
export function openSqliteDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const versionBefore = db.pragma('user_version', { simple: true }) as number;
    migrate(db, loadMigrations(MIGRATIONS_DIR));
    // A database older than the epoch has kept every revocation since it was created: its epoch is 0,
    // so upgrading Parley does not refuse the tokens issued before the upgrade.
    if (versionBefore > 0 && versionBefore < META_MIGRATION) {
      db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('deny_list_epoch_ms', 0)").run();
    }
    return db;
  } catch (err) {
    db?.close();
    throw toStoreError(`open ${file}`, err);
  }
}
