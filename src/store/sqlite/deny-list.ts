import type Database from 'better-sqlite3';
import { KICK_RETENTION_MS, type DenyList, type DenyListEntry, type KickEntry } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

interface KickRow {
  subscribe_key: string;
  uuid: string;
  kicked_at_ms: number;
}

interface DenyRow {
  subscribe_key: string;
  token_id: string;
  expires_at_ms: number;
}

/** Revoked token ids in the `deny_list` table. */
export class SqliteDenyList implements DenyList {
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly selectOne: Database.Statement<[string, string, number], number>;
  private readonly selectLive: Database.Statement<[number], DenyRow>;
  private readonly deleteExpired: Database.Statement<[number]>;
  private readonly insertEpoch: Database.Statement<[number]>;
  private readonly selectEpoch: Database.Statement<[], number>;
  private readonly upsertKick: Database.Statement<[string, string, number]>;
  private readonly selectKicks: Database.Statement<[number], KickRow>;
  private readonly deleteOldKicks: Database.Statement<[number]>;
  private readonly purge: (nowMs: number) => number;

  constructor(db: Database.Database) {
    this.insertEpoch = db.prepare<[number]>("INSERT OR IGNORE INTO meta (key, value) VALUES ('deny_list_epoch_ms', ?)");
    this.selectEpoch = db.prepare<[], number>("SELECT value FROM meta WHERE key = 'deny_list_epoch_ms'").pluck();
    // max(): revoking a token twice must never shorten how long it stays revoked.
    this.upsert = db.prepare<[string, string, number]>(
      `INSERT INTO deny_list (subscribe_key, token_id, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (subscribe_key, token_id) DO UPDATE SET expires_at_ms = max(expires_at_ms, excluded.expires_at_ms)`,
    );
    this.selectOne = db
      .prepare<[string, string, number], number>('SELECT 1 FROM deny_list WHERE subscribe_key = ? AND token_id = ? AND expires_at_ms > ?')
      .pluck();
    this.selectLive = db.prepare<[number], DenyRow>('SELECT subscribe_key, token_id, expires_at_ms FROM deny_list WHERE expires_at_ms > ?');
    this.deleteExpired = db.prepare<[number]>('DELETE FROM deny_list WHERE expires_at_ms <= ?');
    // max(): a kick never moves back.
    this.upsertKick = db.prepare<[string, string, number]>(
      `INSERT INTO kicks (subscribe_key, uuid, kicked_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (subscribe_key, uuid) DO UPDATE SET kicked_at_ms = max(kicked_at_ms, excluded.kicked_at_ms)`,
    );
    this.selectKicks = db.prepare<[number], KickRow>('SELECT subscribe_key, uuid, kicked_at_ms FROM kicks WHERE kicked_at_ms > ?');
    this.deleteOldKicks = db.prepare<[number]>('DELETE FROM kicks WHERE kicked_at_ms <= ?');
    this.purge = db.transaction((nowMs: number) => this.deleteExpired.run(nowMs).changes + this.deleteOldKicks.run(nowMs - KICK_RETENTION_MS).changes);
  }

  /** The meta row is written once (INSERT OR IGNORE): the first writer wins, every process reads its value. */
  async epoch(proposedMs: number): Promise<number> {
    return sqliteCall('epoch', () => {
      this.insertEpoch.run(Math.ceil(proposedMs));
      return this.selectEpoch.get() as number;
    });
  }

  async add(entry: DenyListEntry): Promise<void> {
    await sqliteCall('add', () => this.upsert.run(entry.subscribeKey, entry.tokenId, entry.expiresAtMs));
  }

  async has(subscribeKey: string, tokenId: string, nowMs: number): Promise<boolean> {
    return sqliteCall('has', () => this.selectOne.get(subscribeKey, tokenId, nowMs) !== undefined);
  }

  async list(nowMs: number): Promise<DenyListEntry[]> {
    return sqliteCall('list', () =>
      this.selectLive.all(nowMs).map((row) => ({
        subscribeKey: row.subscribe_key,
        tokenId: row.token_id,
        expiresAtMs: row.expires_at_ms,
      })),
    );
  }

  async purgeExpired(nowMs: number): Promise<number> {
    return sqliteCall('purgeExpired', () => this.purge(nowMs));
  }

  async addKick(entry: KickEntry): Promise<void> {
    await sqliteCall('addKick', () => this.upsertKick.run(entry.subscribeKey, entry.uuid, entry.kickedAtMs));
  }

  async listKicks(nowMs: number): Promise<KickEntry[]> {
    return sqliteCall('listKicks', () =>
      this.selectKicks.all(nowMs - KICK_RETENTION_MS).map((row) => ({ subscribeKey: row.subscribe_key, uuid: row.uuid, kickedAtMs: row.kicked_at_ms })),
    );
  }
}
