import type { TimetokenRange } from '../store/types.ts';

/**
 * wire-protocol.md §5: `start` is exclusive and `end` inclusive, whichever of the two is larger (PubNub
 * pages backwards with start > end; deleteMessages sends start < end). History and message actions
 * page by the same rule.
 */
export function timetokenRange(start: bigint | undefined, end: bigint | undefined): TimetokenRange {
  if (start !== undefined && end !== undefined) return start > end ? { lt: start, gte: end } : { gt: start, lte: end };
  if (start !== undefined) return { lt: start };
  if (end !== undefined) return { gte: end };
  return {};
}
