import type Database from 'better-sqlite3';
import type { ChannelGroupStore } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

/** Thrown inside the add's transaction to roll it back when the group would pass its cap. */
class OverCap extends Error {}

/**
 * A group exists only as its member rows, so "emptied" and "deleted" are the same state by
 * construction. Names are sorted in JS rather than with ORDER BY: SQLite compares UTF-8 bytes, JS
 * compares UTF-16 units, and every backend must return the same order.
 */
export class SqliteChannelGroupStore implements ChannelGroupStore {
  private readonly addBatch: Database.Transaction<(subscribeKey: string, group: string, channels: readonly string[], maxMembers: number) => number>;
  private readonly removeBatch: Database.Transaction<(subscribeKey: string, group: string, channels: readonly string[]) => void>;
  private readonly selectChannels: Database.Statement<[string, string], string>;
  private readonly selectGroups: Database.Statement<[string], string>;
  private readonly deleteAll: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    const insert = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO channel_group_members (subscribe_key, group_name, channel) VALUES (?, ?, ?)');
    const countMembers = db.prepare<[string, string], number>('SELECT count(*) FROM channel_group_members WHERE subscribe_key = ? AND group_name = ?').pluck();
    const deleteOne = db.prepare<[string, string, string]>('DELETE FROM channel_group_members WHERE subscribe_key = ? AND group_name = ? AND channel = ?');
    this.addBatch = db.transaction((subscribeKey: string, group: string, channels: readonly string[], maxMembers: number) => {
      for (const channel of channels) insert.run(subscribeKey, group, channel);
      const count = countMembers.get(subscribeKey, group) ?? 0;
      // Over the cap: throwing rolls the whole add back.
      if (count > maxMembers) throw new OverCap();
      return count;
    });
    this.removeBatch = db.transaction((subscribeKey: string, group: string, channels: readonly string[]) => {
      for (const channel of channels) deleteOne.run(subscribeKey, group, channel);
    });
    this.selectChannels = db.prepare<[string, string], string>('SELECT channel FROM channel_group_members WHERE subscribe_key = ? AND group_name = ?').pluck();
    this.selectGroups = db.prepare<[string], string>('SELECT DISTINCT group_name FROM channel_group_members WHERE subscribe_key = ?').pluck();
    this.deleteAll = db.prepare<[string, string]>('DELETE FROM channel_group_members WHERE subscribe_key = ? AND group_name = ?');
  }

  async addChannels(subscribeKey: string, group: string, channels: readonly string[], maxMembers = Infinity): Promise<number | null> {
    return sqliteCall('addChannels', () => {
      try {
        return this.addBatch.immediate(subscribeKey, group, channels, maxMembers);
      } catch (err) {
        if (err instanceof OverCap) return null;
        throw err;
      }
    });
  }

  async removeChannels(subscribeKey: string, group: string, channels: readonly string[]): Promise<void> {
    await sqliteCall('removeChannels', () => this.removeBatch.immediate(subscribeKey, group, channels));
  }

  async listChannels(subscribeKey: string, group: string): Promise<string[]> {
    return sqliteCall('listChannels', () => this.selectChannels.all(subscribeKey, group).sort());
  }

  async listGroups(subscribeKey: string): Promise<string[]> {
    return sqliteCall('listGroups', () => this.selectGroups.all(subscribeKey).sort());
  }

  async deleteGroup(subscribeKey: string, group: string): Promise<void> {
    await sqliteCall('deleteGroup', () => this.deleteAll.run(subscribeKey, group));
  }
}
