import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations, migrate } from './migrate.ts';
import { toStoreError } from './sqlite-call.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const BUSY_TIMEOUT_MS = 5000;

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
    migrate(db, loadMigrations(MIGRATIONS_DIR));
    return db;
  } catch (err) {
    db?.close();
    throw toStoreError(`open ${file}`, err);
  }
}
