import { inclusiveBounds, mergeKept, perChannelReadLimit, type InclusiveBounds } from '../shared/message-query.ts';
import type { MessageQuery, MessageStore, StoredMessage, TimetokenRange } from '../types.ts';
import { validateMessageBatch } from '../shared/validate-message-batch.ts';
import type { RedisConnection, ScriptCall } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import { timetokenText, type KeysetKeys, type RedisKeys } from './keys.ts';
import { channelTable, decodeStored, encodeStoredBody, expiryArg } from './message-codec.ts';
import { SCRIPTS } from './scripts.ts';

/** Channels per purge script call: bounds the KEYS list and how long one call holds the server. */
const PURGE_CHANNELS_PER_CALL = 200;

/** ZRANGEBYLEX bounds of an inclusive range; null when no non-negative timetoken is inside. */
function lexBounds(bounds: InclusiveBounds | null): { min: string; max: string } | null {
  if (bounds === null || bounds.hi < 0n) return null;
  return { min: bounds.lo < 0n ? '-' : `[${timetokenText(bounds.lo)}`, max: `[${timetokenText(bounds.hi)}` };
}

/**
 * History in Redis (docs/redis.md §history). Per channel: a ZSET whose members are 19-digit
 * timetokens, all with score 0, so ZRANGEBYLEX walks them in numeric order (a double score would
 * round 17-digit timetokens); a HASH timetoken → body; and a ZSET of the expiring ones by
 * expiresAtMs, so expiry needs no body reads and purge visits only channels that have any.
 */
export class RedisMessageStore implements MessageStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  async append(messages: readonly StoredMessage[]): Promise<void> {
    validateMessageBatch(messages);
    if (messages.length === 0) return;
    const byKeyset = new Map<string, StoredMessage[]>();
    for (const m of messages) {
      const rows = byKeyset.get(m.subscribeKey);
      if (rows === undefined) byKeyset.set(m.subscribeKey, [m]);
      else rows.push(m);
    }
    await this.registry.ensure(byKeyset.keys());
    const calls = [...byKeyset].map(([subscribeKey, rows]) => appendCall(this.keys.keyset(subscribeKey), rows));
    await this.connection.scripts('append', calls);
  }

  async query(q: MessageQuery): Promise<StoredMessage[]> {
    const lex = lexBounds(inclusiveBounds(q.range));
    const limit = Math.floor(q.limit);
    const channels = [...new Set(q.channels)];
    if (lex === null || limit <= 0 || channels.length === 0) return [];
    const ks = this.keys.keyset(q.subscribeKey);
    const reply = (await this.connection.script('query', {
      script: SCRIPTS.historyQuery,
      keys: channels.flatMap((c) => [ks.msg(c), ks.body(c), ks.mexp(c)]),
      args: [lex.min, lex.max, q.keep, String(perChannelReadLimit(q)), String(q.nowMs)],
    })) as (string | null)[][];
    const perChannel = reply.map((rows) => {
      const out: StoredMessage[] = [];
      for (let i = 0; i < rows.length; i += 2) {
        const body = rows[i + 1];
        // A body can only be missing if someone edited the keys by hand: skip rather than fail the page.
        if (body !== null && body !== undefined) out.push(decodeStored(q.subscribeKey, BigInt(rows[i] as string), body));
      }
      return out;
    });
    return mergeKept(perChannel, q);
  }

  async count(subscribeKey: string, channel: string, range: TimetokenRange, cap: number, nowMs: number): Promise<number> {
    const lex = lexBounds(inclusiveBounds(range));
    const limit = Math.floor(cap);
    if (lex === null || limit <= 0) return 0;
    const ks = this.keys.keyset(subscribeKey);
    const n = await this.connection.script('count', {
      script: SCRIPTS.historyCount,
      keys: [ks.msg(channel), ks.mexp(channel)],
      args: [lex.min, lex.max, String(nowMs), String(limit)],
    });
    return Number(n);
  }

  async delete(subscribeKey: string, channel: string, range: TimetokenRange): Promise<number> {
    const lex = lexBounds(inclusiveBounds(range));
    if (lex === null) return 0;
    const ks = this.keys.keyset(subscribeKey);
    const n = await this.connection.script('delete', {
      script: SCRIPTS.historyDelete,
      keys: [ks.msg(channel), ks.body(channel), ks.mexp(channel), ks.mexpChannels],
      args: [lex.min, lex.max, channel],
    });
    return Number(n);
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const subscribeKey of await this.registry.all()) {
      const ks = this.keys.keyset(subscribeKey);
      // Read, then purge with the channels declared as KEYS (cluster rule); a channel that gains an
      // expiring message in between is simply purged on the next run.
      const channels = await this.connection.run('purge', (client) => client.smembers(ks.mexpChannels));
      for (let i = 0; i < channels.length; i += PURGE_CHANNELS_PER_CALL) {
        const chunk = channels.slice(i, i + PURGE_CHANNELS_PER_CALL);
        const n = await this.connection.script('purge', {
          script: SCRIPTS.historyPurge,
          keys: [ks.mexpChannels, ...chunk.flatMap((c) => [ks.msg(c), ks.body(c), ks.mexp(c)])],
          args: [String(nowMs), ...chunk],
        });
        removed += Number(n);
      }
    }
    return removed;
  }
}

function appendCall(ks: KeysetKeys, rows: readonly StoredMessage[]): ScriptCall {
  const t = channelTable(ks, [ks.mexpChannels], rows, (m) => [timetokenText(m.timetoken), encodeStoredBody(m), expiryArg(m.expiresAtMs)]);
  return { script: SCRIPTS.historyAppend, keys: t.keys, args: [...t.channelArgs, ...t.rowArgs] };
}
