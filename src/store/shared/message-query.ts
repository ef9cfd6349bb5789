import type { MessageQuery, StoredMessage, TimetokenRange } from '../types.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A TimetokenRange as one closed interval [lo, hi] within int64; null when nothing can match. */
export interface InclusiveBounds {
  lo: bigint;
  hi: bigint;
}

/**
 * Folds gt/gte/lt/lte (any combination, the tightest wins) into one closed interval, so each backend
 * needs a single BETWEEN-style lookup instead of one statement per combination of bounds.
 */
export function inclusiveBounds(range: TimetokenRange): InclusiveBounds | null {
  let lo = INT64_MIN;
  let hi = INT64_MAX;
  if (range.gte !== undefined && range.gte > lo) lo = range.gte;
  if (range.gt !== undefined && range.gt + 1n > lo) lo = range.gt + 1n;
  if (range.lte !== undefined && range.lte < hi) hi = range.lte;
  if (range.lt !== undefined && range.lt - 1n < hi) hi = range.lt - 1n;
  if (lo > hi || lo > INT64_MAX || hi < INT64_MIN) return null;
  return { lo, hi };
}

/** Across channels equal timetokens are possible; channel name breaks the tie so results are deterministic. */
export function compareMessages(a: StoredMessage, b: StoredMessage): number {
  if (a.timetoken !== b.timetoken) return a.timetoken < b.timetoken ? -1 : 1;
  if (a.channel === b.channel) return 0;
  return a.channel < b.channel ? -1 : 1;
}

/**
 * Merges per-channel results (each ascending and already cut to `limit` from the kept end) and applies
 * the query's keep/limit across all channels. The result is ascending whichever end is kept.
 */
export function mergeKept(perChannel: readonly StoredMessage[][], q: Pick<MessageQuery, 'keep' | 'limit' | 'perChannelLimit'>): StoredMessage[] {
  const limit = Math.max(0, Math.floor(q.limit));
  let all = perChannel.length === 1 ? perChannel[0].slice() : perChannel.flat().sort(compareMessages);
  const share = perChannelReadLimit(q);
  if (share < limit) {
    // A channel that filled its share may hold more rows past it: stop where the first such channel
    // stops, so the result is a prefix (suffix) of the full answer (MessageQuery.perChannelLimit).
    let cut: bigint | null = null;
    for (const rows of perChannel) {
      if (rows.length < share) continue;
      const edge = q.keep === 'oldest' ? rows[rows.length - 1].timetoken : rows[0].timetoken;
      if (cut === null || (q.keep === 'oldest' ? edge < cut : edge > cut)) cut = edge;
    }
    if (cut !== null) {
      const at = cut;
      all = all.filter((m) => (q.keep === 'oldest' ? m.timetoken <= at : m.timetoken >= at));
    }
  }
  if (all.length <= limit) return all;
  return q.keep === 'oldest' ? all.slice(0, limit) : all.slice(all.length - limit);
}

/** Rows a store reads per channel for `q`: its perChannelLimit, at least 1 and at most its limit. */
export function perChannelReadLimit(q: Pick<MessageQuery, 'limit' | 'perChannelLimit'>): number {
  const limit = Math.max(0, Math.floor(q.limit));
  if (q.perChannelLimit === undefined) return limit;
  return Math.min(limit, Math.max(1, Math.floor(q.perChannelLimit)));
}
