import { compareActions } from '../shared/action-order.ts';
import { inclusiveBounds } from '../shared/message-query.ts';
import type { MessageAction, MessageActionStore, TimetokenRange } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import { timetokenText, type KeysetKeys, type RedisKeys } from './keys.ts';
import { SCRIPTS } from './scripts.ts';

/** The body (and dedup field) of an action: JSON [messageTT19, type, value, uuid]. */
type ActionBody = [string, string, string, string];

/**
 * Message actions in Redis (docs/redis.md). Per channel: two score-0 ZSETs over the same actions,
 * one ordered by action timetoken (paging) and one by message (history with actions), a HASH of
 * bodies, and a HASH keyed by (message, type, value, uuid) that makes a duplicate add a no-op inside
 * the add script. Timetokens are 19-digit members, never scores (a double would round them).
 */
export class RedisMessageActionStore implements MessageActionStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  async add(action: MessageAction, maxPerMessage = Infinity): Promise<'added' | 'taken' | 'full'> {
    await this.registry.ensure([action.subscribeKey]);
    const ks = this.keys.keyset(action.subscribeKey);
    const msg = timetokenText(action.messageTimetoken);
    const act = timetokenText(action.actionTimetoken);
    const body: ActionBody = [msg, action.type, action.value, action.uuid];
    const added = await this.connection.script('addMessageAction', {
      script: SCRIPTS.actionAdd,
      keys: actionKeys(ks, action.channel),
      args: [`${msg}:${act}`, `${act}:${msg}`, JSON.stringify(body), Number.isFinite(maxPerMessage) ? String(maxPerMessage) : 'inf', `${msg}:`],
    });
    const n = Number(added);
    return n === 1 ? 'added' : n < 0 ? 'full' : 'taken';
  }

  async remove(subscribeKey: string, channel: string, messageTimetoken: bigint, actionTimetoken: bigint): Promise<boolean> {
    const msg = timetokenText(messageTimetoken);
    const act = timetokenText(actionTimetoken);
    const removed = await this.connection.script('removeMessageAction', {
      script: SCRIPTS.actionRemove,
      keys: actionKeys(this.keys.keyset(subscribeKey), channel),
      args: [`${msg}:${act}`, `${act}:${msg}`],
    });
    return Number(removed) === 1;
  }

  async list(subscribeKey: string, channel: string, range: TimetokenRange, limit: number): Promise<MessageAction[]> {
    const bounds = inclusiveBounds(range);
    const n = Math.floor(limit);
    if (bounds === null || n <= 0 || bounds.hi < 0n) return [];
    const ks = this.keys.keyset(subscribeKey);
    // Members start with the action timetoken: `[lo` includes every `lo:…`, `(hi+1` excludes `hi+1:…`.
    const min = bounds.lo < 0n ? '-' : `[${timetokenText(bounds.lo)}`;
    const max = `(${timetokenText(bounds.hi + 1n)}`;
    const members = await this.connection.run('listMessageActions', (client) => client.zrevrangebylex(ks.actions(channel), max, min, 'LIMIT', 0, n));
    const fields = members.reverse().map((m) => `${m.slice(20)}:${m.slice(0, 19)}`);
    return this.bodies(ks, channel, fields);
  }

  async forMessages(subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<MessageAction[]> {
    const tts = [...new Set(messageTimetokens)].filter((tt) => tt >= 0n);
    if (tts.length === 0) return [];
    const ks = this.keys.keyset(subscribeKey);
    const key = ks.actionsByMessage(channel);
    const perMessage = await this.connection.run('messageActionsForMessages', async (client) => {
      const pipeline = client.pipeline();
      for (const tt of tts) pipeline.zrangebylex(key, `[${timetokenText(tt)}:`, `[${timetokenText(tt)};`);
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, members]) => {
        if (err) throw err;
        return members as string[];
      });
    });
    const actions = await this.bodies(ks, channel, perMessage.flat());
    return actions.sort(compareActions);
  }

  /** Reads bodies by `<messageTT19>:<actionTT19>` field; one removed meanwhile is skipped. */
  private async bodies(ks: KeysetKeys, channel: string, fields: readonly string[]): Promise<MessageAction[]> {
    if (fields.length === 0) return [];
    const values = await this.connection.run('readMessageActions', (client) => client.hmget(ks.actionBodies(channel), ...fields));
    const out: MessageAction[] = [];
    fields.forEach((field, i) => {
      const value = values[i];
      if (value === null) return;
      const [msg, type, actionValue, uuid] = JSON.parse(value) as ActionBody;
      out.push({
        subscribeKey: ks.subscribeKey,
        channel,
        messageTimetoken: BigInt(msg),
        actionTimetoken: BigInt(field.slice(20)),
        type,
        value: actionValue,
        uuid,
      });
    });
    return out;
  }
}

function actionKeys(ks: KeysetKeys, channel: string): string[] {
  return [ks.actions(channel), ks.actionsByMessage(channel), ks.actionBodies(channel), ks.actionDedup(channel)];
}
