import { ParleyError } from '../errors.ts';
import { compareCodePoints } from '../text-order.ts';
import { compileListFilter, propertyPath, readPath, type KeyValues, type Predicate, type RecordView } from './filter.ts';

/** One `sort` entry: `name`, `updated:desc`, `channel.name:asc`, `custom.rank:desc`. */
export interface SortKey {
  path: string[];
  descending: boolean;
}

/** A request's list parameters, parsed and compiled once. */
export interface ListQuery {
  filter: Predicate;
  /** Whether a filter was given (`filter` then excludes some records); false: `filter` keeps every one. */
  filtered: boolean;
  /** The only values some paths can have in a record the filter keeps (filter.ts KeyValues). */
  keyValues: KeyValues;
  sort: SortKey[];
  /** 0..100. */
  limit: number;
  /** The SDK's `page.next` (sent as `start`) or `page.prev` (sent as `end`); next wins when both are sent. */
  cursor: { after: boolean; position: unknown[] } | null;
  includeTotalCount: boolean;
}

export interface Page<T> {
  items: T[];
  totalCount: number;
  next: string | null;
  prev: string | null;
}

/** PubNub's page size: default and maximum 100. Larger limits are clamped, not refused, as the SDKs do not check. */
export const MAX_LIMIT = 100;

export function parseSort(values: readonly string[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      const m = /^([A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)*)(?::(asc|desc))?$/i.exec(entry);
      if (m === null) throw new ParleyError('INVALID_PARAM', `sort: "${entry.slice(0, 100)}" is not <field>[:asc|:desc]`);
      keys.push({ path: propertyPath(m[1]), descending: m[2]?.toLowerCase() === 'desc' });
    }
  }
  return keys;
}

export function encodeCursor(after: boolean, position: unknown[]): string {
  return Buffer.from(JSON.stringify([after ? 1 : 0, position]), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): { after: boolean; position: unknown[] } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && (parsed[0] === 0 || parsed[0] === 1) && Array.isArray(parsed[1])) {
      return { after: parsed[0] === 1, position: parsed[1] as unknown[] };
    }
  } catch {
    // Falls through to the 400 below: the cursor was not one this server issued.
  }
  throw new ParleyError('INVALID_PARAM', 'start/end: not a page cursor from this server');
}

export function parseListQuery(input: { filter?: string; sort: readonly string[]; limit?: number; start?: string; end?: string; count?: boolean }): ListQuery {
  const raw = input.start ? { after: true, raw: input.start } : input.end ? { after: false, raw: input.end } : null;
  let cursor: ListQuery['cursor'] = null;
  if (raw !== null) {
    const decoded = decodeCursor(raw.raw);
    // A `next` cursor sent as `end` (or the reverse) still names a position; the parameter decides the side.
    cursor = { after: raw.after, position: decoded.position };
  }
  const compiled = compileListFilter(input.filter);
  return {
    filter: compiled.predicate,
    keyValues: compiled.keyValues,
    filtered: input.filter !== undefined && input.filter.trim() !== '',
    sort: parseSort(input.sort),
    limit: Math.min(input.limit ?? MAX_LIMIT, MAX_LIMIT),
    cursor,
    includeTotalCount: input.count ?? false,
  };
}

type Scalar = string | number | boolean | null;

/**
 * Sort order of two values of one key: nulls after everything else (before when descending, as
 * SQL's default), then numbers, then strings in code point order (text-order.ts), then booleans.
 */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) => (v === null || v === undefined ? 3 : typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) return 0;
  // Same rank, not null: two numbers, two strings or two booleans.
  if (ra === 1) return compareCodePoints(a as string, b as string);
  const x = a as NonNullable<Scalar>;
  const y = b as NonNullable<Scalar>;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sort keys of one item, the tie-breaking id last: also its position in a page cursor. */
function positionOf(view: RecordView, sort: readonly SortKey[], idPath: readonly string[]): unknown[] {
  const values = sort.map((k) => {
    const v = readPath(view, k.path);
    // Only scalars order meaningfully; an object (e.g. `custom` itself) sorts as null.
    return v !== null && typeof v === 'object' ? null : v;
  });
  values.push(readPath(view, idPath));
  return values;
}

function comparePositions(a: readonly unknown[], b: readonly unknown[], sort: readonly SortKey[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return i < sort.length && sort[i].descending ? -c : c;
  }
  return 0;
}

/**
 * Filters, sorts and pages items by their views. Cursors are keyset positions (the sort values of the item at the
 * page edge, plus its id), so records added or removed between two page requests neither repeat nor
 * skip the others. `idPath` names the unique id used as the final tie-break (`id`, `channel.id`, `uuid.id`).
 */
export function runListQuery<T>(items: readonly T[], viewOf: (item: T) => RecordView, q: ListQuery, idPath: readonly string[]): Page<T> {
  const matched = items.map((item) => ({ item, view: viewOf(item) })).filter((x) => q.filter(x.view));
  const keyed = matched.map(({ item, view }) => ({ item, position: positionOf(view, q.sort, idPath) }));
  keyed.sort((a, b) => comparePositions(a.position, b.position, q.sort));
  const width = q.sort.length + 1;
  if (q.cursor !== null && q.cursor.position.length !== width) {
    throw new ParleyError('INVALID_PARAM', 'start/end: the cursor belongs to a query with another sort');
  }
  let from = 0;
  let to = keyed.length;
  if (q.cursor !== null) {
    const { after, position } = q.cursor;
    // First index strictly after the cursor position; for `end`, everything strictly before it.
    const firstAfter = keyed.findIndex((k) => comparePositions(k.position, position, q.sort) > 0);
    const firstNotBefore = keyed.findIndex((k) => comparePositions(k.position, position, q.sort) >= 0);
    if (after) {
      from = firstAfter < 0 ? keyed.length : firstAfter;
      to = Math.min(keyed.length, from + q.limit);
    } else {
      to = firstNotBefore < 0 ? keyed.length : firstNotBefore;
      from = Math.max(0, to - q.limit);
    }
  } else {
    to = Math.min(keyed.length, q.limit);
  }
  const page = keyed.slice(from, to);
  return {
    items: page.map((k) => k.item),
    totalCount: matched.length,
    next: to < keyed.length && page.length > 0 ? encodeCursor(true, page[page.length - 1].position) : null,
    prev: from > 0 && page.length > 0 ? encodeCursor(false, page[0].position) : null,
  };
}
