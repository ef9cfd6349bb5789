import { readdirSync, readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { ParleyError } from '../../errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/**
 * Reads NNN_name.sql files. Versions must run 1, 2, 3… without gaps: a gap or a duplicate means a
 * broken checkout, and applying around it would give a schema nobody tested.
 */
export function loadMigrations(dir: URL): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (match === null) throw new ParleyError('INTERNAL', `migration file name must be NNN_name.sql (got ${file})`);
      return { version: Number(match[1]), name: match[2], sql: readFileSync(new URL(file, dir), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new ParleyError('INTERNAL', `migrations must be numbered 001, 002, … without gaps (at ${m.name})`);
  });
  return migrations;
}

/**
 * Applies the migrations newer than PRAGMA user_version, each in its own transaction together with
 * the user_version bump, so a crash mid-migration leaves the previous version intact.
 * Returns the number applied (0 when the schema is current).
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new ParleyError('STORE_UNAVAILABLE', `database schema version ${current} is newer than this Parley supports (${latest})`);
  }
  const pending = migrations.filter((m) => m.version > current);
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return pending.length;
}
