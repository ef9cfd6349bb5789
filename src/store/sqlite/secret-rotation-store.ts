import type Database from 'better-sqlite3';
import { MAX_SECRET_ROTATIONS, type SecretRotationRecord, type SecretRotationStore } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

interface RotationRow {
  subscribe_key: string;
  rotated_at_ms: number;
  previous_valid_until_ms: number;
  sealed_new: string;
  sealed_previous: string;
}

/** Sealed rotations in the `secret_rotations` table, in insertion order (its rowid). */
export class SqliteSecretRotationStore implements SecretRotationStore {
  private readonly appendAndTrim: (record: SecretRotationRecord) => void;
  private readonly selectAll: Database.Statement<[string], RotationRow>;

  constructor(db: Database.Database) {
    const insert = db.prepare<[string, number, number, string, string]>(
      'INSERT INTO secret_rotations (subscribe_key, rotated_at_ms, previous_valid_until_ms, sealed_new, sealed_previous) VALUES (?, ?, ?, ?, ?)',
    );
    const trim = db.prepare<[string, string, number]>(
      `DELETE FROM secret_rotations WHERE subscribe_key = ? AND id NOT IN
         (SELECT id FROM secret_rotations WHERE subscribe_key = ? ORDER BY id DESC LIMIT ?)`,
    );
    this.appendAndTrim = db.transaction((r: SecretRotationRecord) => {
      insert.run(r.subscribeKey, r.rotatedAtMs, r.previousValidUntilMs, r.sealedNew, r.sealedPrevious);
      trim.run(r.subscribeKey, r.subscribeKey, MAX_SECRET_ROTATIONS);
    });
    this.selectAll = db.prepare<[string], RotationRow>(
      'SELECT subscribe_key, rotated_at_ms, previous_valid_until_ms, sealed_new, sealed_previous FROM secret_rotations WHERE subscribe_key = ? ORDER BY id',
    );
  }

  async append(record: SecretRotationRecord): Promise<void> {
    await sqliteCall('append rotation', () => this.appendAndTrim(record));
  }

  async list(subscribeKey: string): Promise<SecretRotationRecord[]> {
    return sqliteCall('list rotations', () =>
      this.selectAll.all(subscribeKey).map((row) => ({
        subscribeKey: row.subscribe_key,
        rotatedAtMs: row.rotated_at_ms,
        previousValidUntilMs: row.previous_valid_until_ms,
        sealedNew: row.sealed_new,
        sealedPrevious: row.sealed_previous,
      })),
    );
  }
}
