import type Database from 'better-sqlite3';
import { compareActions } from '../shared/action-order.ts';
import { inclusiveBounds } from '../shared/message-query.ts';
import type { MessageAction, MessageActionStore, TimetokenRange } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

/** A message_actions row as read with safeIntegers: timetokens arrive as bigint. */
interface ActionRow {
  message_timetoken: bigint;
  action_timetoken: bigint;
  type: string;
  value: string;
  uuid: string;
}

const COLUMNS = 'message_timetoken, action_timetoken, type, value, uuid';

/** Thrown inside an add's transaction to roll it back: the message already carries its most actions. */
class MessageFull extends Error {}

/**
 * Message actions in the `message_actions` table. The primary key (message, action timetoken) and the
 * UNIQUE (message, type, value, uuid) constraint make add() an INSERT OR IGNORE: no read-then-write race;
 * the per-message cap is counted in the same transaction.
 */
export class SqliteMessageActionStore implements MessageActionStore {
  private readonly insert: Database.Statement<unknown[]>;
  /** Count for the cap, then insert, in one transaction: 'added', 'taken' or 'full'. */
  private readonly addOne: Database.Transaction<(action: MessageAction, maxPerMessage: number) => 'added' | 'taken' | 'full'>;
  private readonly deleteOne: Database.Statement<unknown[]>;
  private readonly selectNewest: Database.Statement<unknown[], ActionRow>;
  private readonly selectForMessage: Database.Statement<unknown[], ActionRow>;
  private readonly readMany: Database.Transaction<(subscribeKey: string, channel: string, tts: readonly bigint[]) => ActionRow[]>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO message_actions (subscribe_key, channel, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.deleteOne = db.prepare('DELETE FROM message_actions WHERE subscribe_key = ? AND channel = ? AND message_timetoken = ? AND action_timetoken = ?');
    const countForMessage = db
      .prepare<[string, string, bigint], number>('SELECT count(*) FROM message_actions WHERE subscribe_key = ? AND channel = ? AND message_timetoken = ?')
      .pluck();
    this.addOne = db.transaction((action: MessageAction, maxPerMessage: number) => {
      const { subscribeKey, channel, messageTimetoken, actionTimetoken, type, value, uuid } = action;
      const before = Number.isFinite(maxPerMessage) ? (countForMessage.get(subscribeKey, channel, messageTimetoken) ?? 0) : 0;
      if (this.insert.run(subscribeKey, channel, messageTimetoken, actionTimetoken, type, value, uuid).changes !== 1) return 'taken';
      // The same reaction twice is 'taken' even on a full message; a new one on a full message is rolled back.
      if (before >= maxPerMessage) throw new MessageFull();
      return 'added';
    });
    this.selectNewest = db
      .prepare<unknown[], ActionRow>(
        `SELECT ${COLUMNS} FROM message_actions WHERE subscribe_key = ? AND channel = ? AND action_timetoken BETWEEN ? AND ?
         ORDER BY action_timetoken DESC, message_timetoken DESC LIMIT ?`,
      )
      .safeIntegers(true);
    this.selectForMessage = db
      .prepare<unknown[], ActionRow>(`SELECT ${COLUMNS} FROM message_actions WHERE subscribe_key = ? AND channel = ? AND message_timetoken = ?`)
      .safeIntegers(true);
    // One read transaction, so a page of messages sees one consistent set of actions.
    this.readMany = db.transaction((subscribeKey: string, channel: string, tts: readonly bigint[]) =>
      tts.flatMap((tt) => this.selectForMessage.all(subscribeKey, channel, tt)),
    );
  }

  async add(action: MessageAction, maxPerMessage = Infinity): Promise<'added' | 'taken' | 'full'> {
    return sqliteCall('addMessageAction', () => {
      try {
        return this.addOne.immediate(action, maxPerMessage);
      } catch (err) {
        if (err instanceof MessageFull) return 'full';
        throw err;
      }
    });
  }

  async remove(subscribeKey: string, channel: string, messageTimetoken: bigint, actionTimetoken: bigint): Promise<boolean> {
    const result = await sqliteCall('removeMessageAction', () => this.deleteOne.run(subscribeKey, channel, messageTimetoken, actionTimetoken));
    return result.changes === 1;
  }

  async list(subscribeKey: string, channel: string, range: TimetokenRange, limit: number): Promise<MessageAction[]> {
    const bounds = inclusiveBounds(range);
    const n = Math.floor(limit);
    if (bounds === null || n <= 0) return [];
    const rows = await sqliteCall('listMessageActions', () => this.selectNewest.all(subscribeKey, channel, bounds.lo, bounds.hi, n));
    return rows.reverse().map((row) => toAction(subscribeKey, channel, row));
  }

  async forMessages(subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<MessageAction[]> {
    const tts = [...new Set(messageTimetokens)];
    if (tts.length === 0) return [];
    const rows = await sqliteCall('messageActionsForMessages', () => this.readMany.deferred(subscribeKey, channel, tts));
    return rows.map((row) => toAction(subscribeKey, channel, row)).sort(compareActions);
  }
}

function toAction(subscribeKey: string, channel: string, row: ActionRow): MessageAction {
  return {
    subscribeKey,
    channel,
    messageTimetoken: row.message_timetoken,
    actionTimetoken: row.action_timetoken,
    type: row.type,
    value: row.value,
    uuid: row.uuid,
  };
}
