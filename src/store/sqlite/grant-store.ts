import type Database from 'better-sqlite3';
import { type GrantLevel, type GrantRecord, type GrantStore, type GrantTarget, grantTargetKey } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

interface GrantRow {
  level: GrantLevel;
  resource: string;
  auth_key: string;
  perms: number;
  ttl_minutes: number;
  expires_at_ms: number | null;
}

/** Grants in the `grants` table; one put is one transaction. */
export class SqliteGrantStore implements GrantStore {
  private readonly putBatch: Database.Transaction<(grants: readonly GrantRecord[]) => void>;
  private readonly selectLive: Database.Statement<[string, number], GrantRow>;
  private readonly selectTargets: Database.Transaction<(subscribeKey: string, targets: readonly GrantTarget[], nowMs: number) => GrantRecord[]>;
  private readonly deleteExpired: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    const upsert = db.prepare(
      `INSERT INTO grants (subscribe_key, level, resource, auth_key, perms, ttl_minutes, expires_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (subscribe_key, level, resource, auth_key) DO UPDATE SET
         perms = excluded.perms, ttl_minutes = excluded.ttl_minutes, expires_at_ms = excluded.expires_at_ms`,
    );
    const withdraw = db.prepare('DELETE FROM grants WHERE subscribe_key = ? AND level = ? AND resource = ? AND auth_key = ?');
    this.putBatch = db.transaction((grants: readonly GrantRecord[]) => {
      for (const g of grants) {
        if (g.perms === 0) withdraw.run(g.subscribeKey, g.level, g.resource, g.authKey);
        else upsert.run(g.subscribeKey, g.level, g.resource, g.authKey, g.perms, g.ttlMinutes, g.expiresAtMs);
      }
    });
    this.selectLive = db.prepare<[string, number], GrantRow>(
      `SELECT level, resource, auth_key, perms, ttl_minutes, expires_at_ms FROM grants
       WHERE subscribe_key = ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)`,
    );
    this.deleteExpired = db.prepare<[number]>('DELETE FROM grants WHERE expires_at_ms <= ?');
    const selectOne = db.prepare<[string, string, string, string, number], GrantRow>(
      `SELECT level, resource, auth_key, perms, ttl_minutes, expires_at_ms FROM grants
       WHERE subscribe_key = ? AND level = ? AND resource = ? AND auth_key = ? AND (expires_at_ms IS NULL OR expires_at_ms > ?)`,
    );
    // One primary-key lookup per target, in one read transaction so the answer is one state of the table.
    this.selectTargets = db.transaction((subscribeKey: string, targets: readonly GrantTarget[], nowMs: number) => {
      const out: GrantRecord[] = [];
      const seen = new Set<string>();
      for (const t of targets) {
        const key = grantTargetKey(t);
        if (seen.has(key)) continue;
        seen.add(key);
        const row = selectOne.get(subscribeKey, t.level, t.resource, t.authKey, nowMs);
        if (row !== undefined) out.push(recordOf(subscribeKey, row));
      }
      return out;
    });
  }

  async put(grants: readonly GrantRecord[]): Promise<void> {
    if (grants.length === 0) return;
    await sqliteCall('put', () => this.putBatch.immediate(grants));
  }

  async list(subscribeKey: string, nowMs: number): Promise<GrantRecord[]> {
    return sqliteCall('list', () => this.selectLive.all(subscribeKey, nowMs).map((row) => recordOf(subscribeKey, row)));
  }

  async get(subscribeKey: string, targets: readonly GrantTarget[], nowMs: number): Promise<GrantRecord[]> {
    if (targets.length === 0) return [];
    return sqliteCall('get', () => this.selectTargets(subscribeKey, targets, nowMs));
  }

  async purgeExpired(nowMs: number): Promise<number> {
    return sqliteCall('purgeExpired', () => this.deleteExpired.run(nowMs).changes);
  }
}

function recordOf(subscribeKey: string, row: GrantRow): GrantRecord {
  return {
    subscribeKey,
    level: row.level,
    resource: row.resource,
    authKey: row.auth_key,
    perms: row.perms,
    ttlMinutes: row.ttl_minutes,
    expiresAtMs: row.expires_at_ms,
  };
}
