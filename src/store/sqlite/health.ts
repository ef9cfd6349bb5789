import { type BigIntStats, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { HealthReport } from '../types.ts';

/**
 * Stores.health for SQLite. An open connection keeps working on a file that was deleted or replaced
 * (writes land in an unlinked inode and vanish at close), so a query alone proves nothing: the path
 * must still name the file that was opened (same device and inode).
 */
export function sqliteHealthCheck(db: Database.Database, file: string): () => HealthReport {
  const opened = file === ':memory:' ? null : statSync(file, { bigint: true });
  const probe = db.prepare('SELECT count(*) FROM sqlite_master').pluck();
  return () => {
    if (!db.open) return { ok: false, reason: 'sqlite database is closed' };
    if (opened !== null) {
      let now: BigIntStats;
      try {
        now = statSync(file, { bigint: true });
      } catch (err) {
        return { ok: false, reason: `the sqlite database file is gone (${(err as NodeJS.ErrnoException).code ?? 'stat failed'})` };
      }
      if (now.dev !== opened.dev || now.ino !== opened.ino) return { ok: false, reason: 'the sqlite database file was replaced since it was opened' };
    }
    try {
      probe.get();
    } catch (err) {
      return { ok: false, reason: `sqlite query failed (${(err as { code?: string }).code ?? 'error'})` };
    }
    return { ok: true };
  };
}
