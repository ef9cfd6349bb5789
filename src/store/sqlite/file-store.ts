import type Database from 'better-sqlite3';
import { decodeFileCursor, encodeFileCursor } from '../shared/file-cursor.ts';
import type { FileStore, StoredFile } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

interface FileRow {
  id: string;
  name: string;
  size: number;
  created: string;
  content_type: string;
}

const META = 'id, name, size, created, content_type';

/**
 * Files in the `files` table, bytes as a BLOB next to their metadata, so a file and its bytes are
 * written in one statement and the database file in the data directory holds everything. Listing
 * reads only the covering index (no blobs). Ids and ISO timestamps are ASCII, so SQLite's byte order
 * is the JavaScript order the contract asks for.
 */
export class SqliteFileStore implements FileStore {
  private readonly insert: Database.Statement<unknown[]>;
  private readonly selectOne: Database.Statement<unknown[], FileRow & { bytes: Buffer }>;
  private readonly deleteOne: Database.Statement<unknown[]>;
  private readonly selectFirst: Database.Statement<unknown[], FileRow>;
  private readonly selectAfter: Database.Statement<unknown[], FileRow>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO files (subscribe_key, channel, ${META}, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.selectOne = db.prepare(`SELECT ${META}, bytes FROM files WHERE subscribe_key = ? AND channel = ? AND id = ?`);
    this.deleteOne = db.prepare('DELETE FROM files WHERE subscribe_key = ? AND channel = ? AND id = ?');
    const order = 'ORDER BY created DESC, id DESC LIMIT ?';
    this.selectFirst = db.prepare(`SELECT ${META} FROM files WHERE subscribe_key = ? AND channel = ? ${order}`);
    this.selectAfter = db.prepare(`SELECT ${META} FROM files WHERE subscribe_key = ? AND channel = ? AND (created, id) < (?, ?) ${order}`);
  }

  async put(file: StoredFile, bytes: Buffer): Promise<boolean> {
    const result = await sqliteCall('putFile', () =>
      this.insert.run(file.subscribeKey, file.channel, file.id, file.name, file.size, file.created, file.contentType, bytes),
    );
    return result.changes === 1;
  }

  async get(subscribeKey: string, channel: string, id: string): Promise<{ file: StoredFile; bytes: Buffer } | undefined> {
    const row = await sqliteCall('getFile', () => this.selectOne.get(subscribeKey, channel, id));
    return row === undefined ? undefined : { file: toFile(subscribeKey, channel, row), bytes: row.bytes };
  }

  async delete(subscribeKey: string, channel: string, id: string): Promise<boolean> {
    const result = await sqliteCall('deleteFile', () => this.deleteOne.run(subscribeKey, channel, id));
    return result.changes === 1;
  }

  async list(subscribeKey: string, channel: string, limit: number, next: string | null): Promise<{ files: StoredFile[]; next: string | null }> {
    const position = next === null ? null : decodeFileCursor(next);
    const n = Math.max(1, Math.floor(limit));
    // One row beyond the page tells whether a next page exists.
    const rows = await sqliteCall('listFiles', () =>
      position === null
        ? this.selectFirst.all(subscribeKey, channel, n + 1)
        : this.selectAfter.all(subscribeKey, channel, position.created, position.id, n + 1),
    );
    const files = rows.slice(0, n).map((row) => toFile(subscribeKey, channel, row));
    return { files, next: rows.length > n ? encodeFileCursor(files[files.length - 1]) : null };
  }
}

function toFile(subscribeKey: string, channel: string, row: FileRow): StoredFile {
  return { subscribeKey, channel, id: row.id, name: row.name, size: row.size, created: row.created, contentType: row.content_type };
}
