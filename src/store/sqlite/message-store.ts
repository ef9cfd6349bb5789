import type Database from 'better-sqlite3';
import { inclusiveBounds, mergeKept, perChannelReadLimit } from '../shared/message-query.ts';
import type { MessageQuery, MessageStore, MessageType, StoredMessage, TimetokenRange } from '../types.ts';
import { validateMessageBatch } from '../shared/validate-message-batch.ts';
import { sqliteCall } from './sqlite-call.ts';

/** A messages row as read with safeIntegers: INTEGER columns arrive as bigint, REAL ones as number. */
interface MessageRow {
  channel: string;
  timetoken: bigint;
  publisher: string;
  payload: string;
  meta: string | null;
  custom_message_type: string | null;
  type: bigint;
  expires_at_ms: number | null;
}

const COLUMNS = 'channel, timetoken, publisher, payload, meta, custom_message_type, type, expires_at_ms';
const IN_RANGE = 'subscribe_key = ? AND channel = ? AND timetoken BETWEEN ? AND ?';
const VISIBLE = '(expires_at_ms IS NULL OR expires_at_ms > ?)';
/**
 * Rows per INSERT statement: a batch (the publishes of one event-loop turn) is written by one statement
 * of its size, or chunks of this many. One statement per row cost 3–5% more of a publish on SQLite
 * (bench/publish.ts).
 */
const APPEND_CHUNK = 32;

/** History in the `messages` table. The database belongs to createSqliteStores, which closes it. */
export class SqliteMessageStore implements MessageStore {
  private readonly appendBatch: Database.Transaction<(messages: readonly StoredMessage[]) => void>;
  private readonly selectOldest: Database.Statement<unknown[], MessageRow>;
  private readonly selectNewest: Database.Statement<unknown[], MessageRow>;
  private readonly countCapped: Database.Statement<unknown[], number>;
  private readonly deleteRange: Database.Statement<unknown[]>;
  private readonly deleteExpired: Database.Statement<unknown[]>;

  constructor(db: Database.Database) {
    const upsertRows = (rows: number) =>
      db.prepare(
        `INSERT INTO messages (subscribe_key, ${COLUMNS}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (subscribe_key, channel, timetoken) DO UPDATE SET
           publisher = excluded.publisher, payload = excluded.payload, meta = excluded.meta,
           custom_message_type = excluded.custom_message_type, type = excluded.type,
           expires_at_ms = excluded.expires_at_ms`,
      );
    // One statement per batch size up to APPEND_CHUNK, prepared on first use; larger batches go in chunks.
    const bySize: Array<Database.Statement | undefined> = [];
    const statementFor = (rows: number): Database.Statement => (bySize[rows] ??= upsertRows(rows));
    const args: unknown[] = [];
    this.appendBatch = db.transaction((messages: readonly StoredMessage[]) => {
      for (let i = 0; i < messages.length; i += APPEND_CHUNK) {
        const end = Math.min(messages.length, i + APPEND_CHUNK);
        args.length = 0;
        for (let k = i; k < end; k++) {
          const m = messages[k];
          args.push(m.subscribeKey, m.channel, m.timetoken, m.publisher, m.payload, m.meta, m.customMessageType, m.type, m.expiresAtMs);
        }
        statementFor(end - i).run(args);
      }
    });
    // One statement per end, each walking the primary key from the kept end and stopping at the limit,
    // so a page costs O(limit) whatever the channel's length.
    this.selectOldest = db
      .prepare<unknown[], MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY timetoken ASC LIMIT ?`)
      .safeIntegers(true);
    this.selectNewest = db
      .prepare<unknown[], MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY timetoken DESC LIMIT ?`)
      .safeIntegers(true);
    this.countCapped = db.prepare<unknown[], number>(`SELECT count(*) FROM (SELECT 1 FROM messages WHERE ${IN_RANGE} AND ${VISIBLE} LIMIT ?)`).pluck();
    this.deleteRange = db.prepare(`DELETE FROM messages WHERE ${IN_RANGE}`);
    this.deleteExpired = db.prepare('DELETE FROM messages WHERE expires_at_ms <= ?');
  }

  async append(messages: readonly StoredMessage[]): Promise<void> {
    validateMessageBatch(messages);
    if (messages.length === 0) return;
    // IMMEDIATE takes the write lock up front: a deferred transaction that upgrades later can fail
    // with SQLITE_BUSY without waiting for busy_timeout.
    await sqliteCall('append', () => this.appendBatch.immediate(messages));
  }

  async query(q: MessageQuery): Promise<StoredMessage[]> {
    const bounds = inclusiveBounds(q.range);
    const limit = Math.floor(q.limit);
    if (bounds === null || limit <= 0) return [];
    const statement = q.keep === 'oldest' ? this.selectOldest : this.selectNewest;
    const share = perChannelReadLimit(q);
    return sqliteCall('query', () => {
      const perChannel: StoredMessage[][] = [];
      for (const channel of new Set(q.channels)) {
        const rows = statement.all(q.subscribeKey, channel, bounds.lo, bounds.hi, q.nowMs, share);
        if (q.keep === 'newest') rows.reverse();
        perChannel.push(rows.map((row) => toMessage(q.subscribeKey, row)));
      }
      return mergeKept(perChannel, q);
    });
  }

  async count(subscribeKey: string, channel: string, range: TimetokenRange, cap: number, nowMs: number): Promise<number> {
    const bounds = inclusiveBounds(range);
    const limit = Math.floor(cap);
    if (bounds === null || limit <= 0) return 0;
    return sqliteCall('count', () => this.countCapped.get(subscribeKey, channel, bounds.lo, bounds.hi, nowMs, limit) ?? 0);
  }

  async delete(subscribeKey: string, channel: string, range: TimetokenRange): Promise<number> {
    const bounds = inclusiveBounds(range);
    if (bounds === null) return 0;
    return sqliteCall('delete', () => this.deleteRange.run(subscribeKey, channel, bounds.lo, bounds.hi).changes);
  }

  async purgeExpired(nowMs: number): Promise<number> {
    return sqliteCall('purgeExpired', () => this.deleteExpired.run(nowMs).changes);
  }
}

function toMessage(subscribeKey: string, row: MessageRow): StoredMessage {
  return {
    subscribeKey,
    channel: row.channel,
    timetoken: row.timetoken,
    publisher: row.publisher,
    payload: row.payload,
    meta: row.meta,
    customMessageType: row.custom_message_type,
    type: Number(row.type) as MessageType,
    expiresAtMs: row.expires_at_ms,
  };
}
