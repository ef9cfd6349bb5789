import { inclusiveBounds, mergeKept, perChannelReadLimit, type InclusiveBounds } from '../shared/message-query.ts';
import type { MessageQuery, MessageStore, StoredMessage, TimetokenRange } from '../types.ts';
import { validateMessageBatch } from '../shared/validate-message-batch.ts';

/** One channel's history, ascending by timetoken. */
interface ChannelLog {
  rows: StoredMessage[];
  /** A lower bound on the rows' expiresAtMs (Infinity when none expire): lets purge skip whole channels. */
  minExpiresAtMs: number;
}

/**
 * History in per-channel sorted arrays. Publishes arrive in timetoken order, so append is almost
 * always a push; lookups are binary searches. Rows are copied in and out so callers cannot mutate
 * stored history.
 */
export class MemoryMessageStore implements MessageStore {
  private readonly keysets = new Map<string, Map<string, ChannelLog>>();

  async append(messages: readonly StoredMessage[]): Promise<void> {
    validateMessageBatch(messages);
    for (const m of messages) this.insert({ ...m });
  }

  async query(q: MessageQuery): Promise<StoredMessage[]> {
    const bounds = inclusiveBounds(q.range);
    const limit = Math.floor(q.limit);
    if (bounds === null || limit <= 0) return [];
    const perChannel: StoredMessage[][] = [];
    for (const channel of new Set(q.channels)) {
      const log = this.keysets.get(q.subscribeKey)?.get(channel);
      if (log !== undefined) perChannel.push(collect(log, bounds, q.keep, perChannelReadLimit(q), q.nowMs));
    }
    return mergeKept(perChannel, q).map((m) => ({ ...m }));
  }

  async count(subscribeKey: string, channel: string, range: TimetokenRange, cap: number, nowMs: number): Promise<number> {
    const log = this.keysets.get(subscribeKey)?.get(channel);
    const bounds = inclusiveBounds(range);
    if (log === undefined || bounds === null || cap <= 0) return 0;
    const [from, to] = indexRange(log.rows, bounds);
    if (log.minExpiresAtMs > nowMs) return Math.min(to - from, cap);
    let n = 0;
    for (let i = from; i < to && n < cap; i++) if (isVisible(log.rows[i], nowMs)) n++;
    return n;
  }

  async delete(subscribeKey: string, channel: string, range: TimetokenRange): Promise<number> {
    const channels = this.keysets.get(subscribeKey);
    const log = channels?.get(channel);
    const bounds = inclusiveBounds(range);
    if (channels === undefined || log === undefined || bounds === null) return 0;
    const [from, to] = indexRange(log.rows, bounds);
    log.rows.splice(from, to - from);
    if (log.rows.length === 0) this.dropChannel(subscribeKey, channels, channel);
    return to - from;
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const [subscribeKey, channels] of this.keysets) {
      for (const [channel, log] of channels) {
        if (log.minExpiresAtMs > nowMs) continue;
        const kept = log.rows.filter((m) => isVisible(m, nowMs));
        removed += log.rows.length - kept.length;
        log.rows = kept;
        log.minExpiresAtMs = minExpiry(kept);
        if (kept.length === 0) this.dropChannel(subscribeKey, channels, channel);
      }
    }
    return removed;
  }

  private insert(m: StoredMessage): void {
    let channels = this.keysets.get(m.subscribeKey);
    if (channels === undefined) {
      channels = new Map();
      this.keysets.set(m.subscribeKey, channels);
    }
    let log = channels.get(m.channel);
    if (log === undefined) {
      log = { rows: [], minExpiresAtMs: Infinity };
      channels.set(m.channel, log);
    }
    if (m.expiresAtMs !== null && m.expiresAtMs < log.minExpiresAtMs) log.minExpiresAtMs = m.expiresAtMs;
    const rows = log.rows;
    if (rows.length === 0 || rows[rows.length - 1].timetoken < m.timetoken) {
      rows.push(m);
      return;
    }
    const at = lowerBound(rows, m.timetoken);
    if (at < rows.length && rows[at].timetoken === m.timetoken) rows[at] = m;
    else rows.splice(at, 0, m);
  }

  // Empty containers are dropped so a long-running server does not keep one entry per channel ever
  // used. Deleting from a Map during its own for-of (purgeExpired) is well-defined in JS.
  private dropChannel(subscribeKey: string, channels: Map<string, ChannelLog>, channel: string): void {
    channels.delete(channel);
    if (channels.size === 0) this.keysets.delete(subscribeKey);
  }
}

function isVisible(m: StoredMessage, nowMs: number): boolean {
  return m.expiresAtMs === null || m.expiresAtMs > nowMs;
}

function minExpiry(rows: readonly StoredMessage[]): number {
  let min = Infinity;
  for (const m of rows) if (m.expiresAtMs !== null && m.expiresAtMs < min) min = m.expiresAtMs;
  return min;
}

/** First index whose timetoken is >= tt. */
function lowerBound(rows: readonly StoredMessage[], tt: bigint): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].timetoken < tt) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Half-open index interval [from, to) of the rows inside the bounds. */
function indexRange(rows: readonly StoredMessage[], bounds: InclusiveBounds): [number, number] {
  const from = lowerBound(rows, bounds.lo);
  const to = lowerBound(rows, bounds.hi + 1n);
  return [from, Math.max(from, to)];
}

/** Up to `limit` visible rows from the kept end of the bounds, ascending. */
function collect(log: ChannelLog, bounds: InclusiveBounds, keep: 'oldest' | 'newest', limit: number, nowMs: number): StoredMessage[] {
  const [from, to] = indexRange(log.rows, bounds);
  const out: StoredMessage[] = [];
  if (keep === 'oldest') {
    for (let i = from; i < to && out.length < limit; i++) if (isVisible(log.rows[i], nowMs)) out.push(log.rows[i]);
    return out;
  }
  for (let i = to - 1; i >= from && out.length < limit; i--) if (isVisible(log.rows[i], nowMs)) out.push(log.rows[i]);
  return out.reverse();
}
