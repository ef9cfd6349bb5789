import type { Envelope } from './envelope.ts';
import { isPresenceName, PRESENCE_SUFFIX, wildcardPrefixesOf } from './channel-name.ts';

/** Where a subscription reads from: a concrete channel, or a wildcard prefix (`a.` for `a.*`). */
export interface Source {
  readonly kind: 'channel' | 'wildcard';
  /** Channel name (possibly `x-pnpres`) or wildcard prefix. */
  readonly key: string;
  /** The `b` field for envelopes matched through this source; null for a direct channel. */
  readonly via: string | null;
}

/** A parked long-poll, as the hub sees it. */
export interface Waiter {
  readonly subscribeKey: string;
  readonly uuid: string;
  readonly sources: readonly Source[];
  /** Channel groups it subscribed through (as requested, including `g-pnpres`). */
  readonly groups: readonly string[];
  /**
   * Called at the end of a turn in which batches touched one of its sources (once per turn when it has
   * one source), or that it asked for with answerAtTurnEnd. Must not throw.
   */
  wake(): void;
  /** Ends the poll with an empty answer so the client re-polls (group membership changed, shutdown). */
  interrupt(): void;
  /** Re-checks access; ends the poll with its denial when access is gone, else does nothing. */
  recheckAccess(): void;
  /**
   * Which access changes can concern it, as an opaque key from the access layer
   * (access/change-scope.ts): a change scoped to other keys passes it by without a re-check. Absent:
   * every change concerns it.
   */
  readonly accessKey?: string | null;
}

export interface Matched {
  env: Envelope;
  via: string | null;
}

interface Buffer {
  items: Envelope[];
  /** Every message of this key with timetoken > coveredSince is in `items` (or was trimmed by age). */
  coveredSince: bigint;
  waiters: Set<Waiter>;
  /** Bumped whenever `items` changes, so a memo can tell it is stale. */
  version: number;
  /**
   * Recent `read`s of this buffer alone as a direct source (via null), by cursor, for `memoVersion`:
   * every poll at the same cursor shares one array, so a fan-out builds it once per cursor, not once
   * per subscriber. While publishes are in flight subscribers sit at a few different cursors, hence a
   * few entries.
   */
  memo: Array<{ after: bigint; items: Matched[] }>;
  memoVersion: number;
  /** Delivery round that last touched this buffer (deliver() wakes each buffer's waiters once). */
  round: number;
  /** Delivery round during which a poll last read this buffer or parked on it (see isAwaited). */
  readRound: number;
  /** Whether the turn's end wakes its waiters (it is in Hub.dueBuffers). */
  isDue: boolean;
}

interface Space {
  /** Memory coverage for keys without a buffer: rises when an idle buffer is forgotten. */
  floor: bigint;
  channels: Map<string, Buffer>;
  wildcards: Map<string, Buffer>;
  /**
   * Parked waiters with no source at all (a subscribe to wildcard presence only, wire-protocol.md
   * §3.8): in no buffer, yet parked until their hold time ends.
   */
  sourceless: Set<Waiter>;
  /**
   * Parked waiters by the channel groups they subscribed through (as requested, `g-pnpres` apart from
   * `g`): a membership change ends only its group's polls, at a cost that does not grow with the rest.
   */
  groups: Map<string, Set<Waiter>>;
}

export interface HubOptions {
  bufferPerChannel: number;
  bufferMaxAgeMs: number;
  /** Timetoken below which nothing is in memory (the node's start): older catch-up comes from the store. */
  floor: () => bigint;
  /**
   * A waiter's wake() threw (a bug: wake must not throw). The turn's other waiters are still woken;
   * this is told so it is seen. Default: rethrown after the turn's waiters were woken.
   */
  onWakeError?: (err: unknown) => void;
}

/**
 * The local index channel → recent messages + parked waiters. A delivery appends at once and touches
 * only the published channel's buffer and its (at most two) wildcard prefixes: no per-message work
 * proportional to the number of channels.
 *
 * Answers go out at the end of the event-loop turn (docs/performance.md "Answers at the turn's end"):
 * the waiters of every buffer a turn's batches touched, and the polls that found messages waiting
 * when they arrived (answerAtTurnEnd), are woken once, after the turn's I/O callbacks. So one answer
 * carries everything the turn's publishes brought instead of one answer per publish; an idle server
 * adds nothing noticeable (the turn is that one publish), a saturated one writes fewer, fuller answers.
 *
 * Nothing here allocates per waiter on the delivery path: the turn's end wakes a touched buffer's
 * waiters straight from its set, and waiters at the same cursor share one read (the memo).
 */
export class Hub {
  private readonly spaces = new Map<string, Space>();
  private parked = 0;
  private round = 0;
  /** Buffers a batch touched this turn, and polls to answer, both woken at the turn's end. */
  private dueBuffers: Buffer[] = [];
  private duePolls: Waiter[] = [];
  private isTurnEndScheduled = false;

  constructor(private readonly options: HubOptions) {}

  /**
   * Wakes `w` once at the end of this turn: a poll that found messages waiting is answered then, with
   * whatever the turn's publishes add meanwhile. `w` must not be parked (a parked waiter is woken
   * through its buffers).
   */
  answerAtTurnEnd(w: Waiter): void {
    this.duePolls.push(w);
    // One turn may read thousands of polls (libuv reads up to 48 batches of 1,024 events before the
    // check phase): answer them in chunks, so they do not outlive a young-generation collection and
    // the first of them do not wait for the last.
    if (this.duePolls.length >= DUE_POLLS_MAX) this.answerDuePolls();
    else this.scheduleTurnEnd();
  }

  private answerDuePolls(): void {
    const polls = this.duePolls;
    this.duePolls = [];
    for (let i = 0; i < polls.length; i++) this.wake(polls[i]);
  }

  /** One waiter's wake: a throw is reported, and does not keep the turn's other waiters waiting. */
  private wake(w: Waiter): void {
    try {
      w.wake();
    } catch (err) {
      if (this.options.onWakeError === undefined)
        queueMicrotask(() => {
          throw err;
        });
      else this.options.onWakeError(err);
    }
  }

  private scheduleTurnEnd(): void {
    if (this.isTurnEndScheduled) return;
    this.isTurnEndScheduled = true;
    // setImmediate runs once the I/O callbacks of this loop iteration are done (the check phase).
    setImmediate(this.turnEnd);
  }

  private readonly turnEnd = (): void => {
    this.isTurnEndScheduled = false;
    // A woken poll answers, or parks when nothing passed its checks: a poll parked here may then be in
    // a due buffer and woken twice; its second read finds nothing new and does nothing.
    this.answerDuePolls();
    const buffers = this.dueBuffers;
    this.dueBuffers = [];
    for (const b of buffers) b.isDue = false;
    if (buffers.length === 1) {
      // One buffer: its set holds each waiter once. A woken waiter that answers unparks itself, which
      // deletes it from this set while it is iterated (a Set iterator skips deleted entries).
      for (const w of buffers[0].waiters) this.wake(w);
      return;
    }
    const woken = new Set<Waiter>();
    for (const b of buffers) for (const w of b.waiters) woken.add(w);
    for (const w of woken) this.wake(w);
  };

  private space(subscribeKey: string): Space {
    let s = this.spaces.get(subscribeKey);
    if (!s) {
      s = { floor: this.options.floor(), channels: new Map(), wildcards: new Map(), sourceless: new Set(), groups: new Map() };
      this.spaces.set(subscribeKey, s);
    }
    return s;
  }

  private buffer(space: Space, map: Map<string, Buffer>, key: string): Buffer {
    let b = map.get(key);
    if (!b) {
      b = { items: [], coveredSince: space.floor, waiters: new Set(), version: 0, memo: [], memoVersion: 0, round: 0, readRound: -1, isDue: false };
      map.set(key, b);
    }
    return b;
  }

  private push(b: Buffer, env: Envelope): void {
    b.items.push(env);
    b.version++;
    if (b.items.length > this.options.bufferPerChannel) {
      // Trim in chunks so the array copy is amortised.
      const drop = Math.max(1, Math.floor(this.options.bufferPerChannel / 10));
      b.coveredSince = b.items[drop - 1].timetoken;
      b.items.splice(0, drop);
    }
  }

  /** Appends a batch (ascending timetokens); the waiters it affects are woken at the turn's end. */
  deliver(batch: readonly Envelope[]): void {
    const round = ++this.round;
    // The buffers this batch touched, each once; usually just one channel's.
    const touched: Buffer[] = [];
    for (const env of batch) {
      const space = this.space(env.subscribeKey);
      const b = this.buffer(space, space.channels, env.channel);
      this.push(b, env);
      if (b.round !== round) {
        b.round = round;
        touched.push(b);
      }
      // wire-protocol.md §3.8: presence events are never delivered through wildcard subscriptions,
      // so `a.b-pnpres` is not indexed under `a.` (a `a.*` subscriber would get it with no grant).
      if (space.wildcards.size > 0 && !isPresenceName(env.channel)) {
        for (const prefix of wildcardPrefixesOf(env.channel)) {
          const wb = space.wildcards.get(prefix);
          if (!wb) continue;
          this.push(wb, env);
          if (wb.round !== round) {
            wb.round = round;
            touched.push(wb);
          }
        }
      }
    }
    for (const b of touched) {
      if (b.isDue) continue;
      b.isDue = true;
      this.dueBuffers.push(b);
    }
    this.scheduleTurnEnd();
  }

  /**
   * Messages newer than `after` from memory, ascending, deduplicated by (channel, timetoken), at most
   * `limit`. Also reports the channels whose memory does not reach back to `after`.
   */
  collect(subscribeKey: string, sources: readonly Source[], after: bigint): { items: Matched[]; gaps: Map<string, bigint> } {
    const gaps = new Map<string, bigint>();
    const items = this.read(subscribeKey, sources, after, gaps);
    return { items: items.slice(), gaps };
  }

  /**
   * What collect() returns as items, without copying: the array may be shared with other callers and
   * must not be modified. With `gaps`, channels whose memory does not reach back to `after` are added
   * to it (with the timetoken memory covers from).
   */
  read(subscribeKey: string, sources: readonly Source[], after: bigint, gaps: Map<string, bigint> | null): readonly Matched[] {
    const space = this.space(subscribeKey);
    if (sources.length === 1 && sources[0].via === null) {
      // A single direct channel (the common subscriber): shared through the buffer's memo.
      const src = sources[0];
      const b = (src.kind === 'channel' ? space.channels : space.wildcards).get(src.key);
      if (gaps !== null && src.kind === 'channel' && after < (b ? b.coveredSince : space.floor)) gaps.set(src.key, b ? b.coveredSince : space.floor);
      if (!b) return NONE;
      b.readRound = this.round;
      if (b.memoVersion !== b.version) {
        b.memo.length = 0;
        b.memoVersion = b.version;
      }
      for (let i = 0; i < b.memo.length; i++) if (b.memo[i].after === after) return b.memo[i].items;
      const items: Matched[] = [];
      appendNewer(b.items, after, null, items);
      if (b.memo.length >= MEMO_CURSORS) b.memo.shift();
      b.memo.push({ after, items });
      return items;
    }
    const items: Matched[] = [];
    for (const src of sources) {
      const map = src.kind === 'channel' ? space.channels : space.wildcards;
      const b = map.get(src.key);
      if (b) b.readRound = this.round;
      if (gaps !== null && src.kind === 'channel') {
        const coveredSince = b ? b.coveredSince : space.floor;
        if (after < coveredSince) gaps.set(src.key, coveredSince);
      }
      if (b) appendNewer(b.items, after, src.via, items);
    }
    if (sources.length > 1) sortAndDedupe(items);
    return items;
  }

  /**
   * Whether polls here wait for messages on `channel` (directly or through a wildcard): one is parked
   * on it, or one read it since the delivery before last (subscribers between two polls).
   */
  isAwaited(subscribeKey: string, channel: string): boolean {
    const space = this.spaces.get(subscribeKey);
    if (space === undefined) return false;
    const since = this.round - 1;
    const b = space.channels.get(channel);
    if (b !== undefined && (b.waiters.size > 0 || b.readRound >= since)) return true;
    if (space.wildcards.size === 0 || isPresenceName(channel)) return false;
    for (const prefix of wildcardPrefixesOf(channel)) {
      const wb = space.wildcards.get(prefix);
      if (wb !== undefined && (wb.waiters.size > 0 || wb.readRound >= since)) return true;
    }
    return false;
  }

  /**
   * Whether memory holds anything newer than `after` for these sources (what read() would return,
   * unfiltered), without reading it. Counts as a read for isAwaited: the poll reads at the turn's end.
   */
  hasNewer(subscribeKey: string, sources: readonly Source[], after: bigint): boolean {
    const space = this.spaces.get(subscribeKey);
    if (space === undefined) return false;
    let newer = false;
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      const b = (src.kind === 'channel' ? space.channels : space.wildcards).get(src.key);
      if (b === undefined) continue;
      b.readRound = this.round;
      if (b.items.length > 0 && b.items[b.items.length - 1].timetoken > after) newer = true;
    }
    return newer;
  }

  /** Whether some channel source's memory does not reach back to `after` (see collect's gaps). */
  hasGap(subscribeKey: string, sources: readonly Source[], after: bigint): boolean {
    const space = this.space(subscribeKey);
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      if (src.kind !== 'channel') continue;
      const b = space.channels.get(src.key);
      if (after < (b ? b.coveredSince : space.floor)) return true;
    }
    return false;
  }

  /**
   * Indexes a waiter under each of its sources. Waiters are not indexed by uuid: that would cost two
   * hashed lookups per park and unpark on the hot path, while their readers (presence sweeps, access
   * re-checks, kick, shutdown) run rarely and scan (waiters, waitersOf, waitersByUuid).
   */
  park(w: Waiter): void {
    const space = this.space(w.subscribeKey);
    const sources = w.sources;
    if (sources.length === 0) space.sourceless.add(w);
    for (let i = 0; i < w.groups.length; i++) {
      let set = space.groups.get(w.groups[i]);
      if (set === undefined) space.groups.set(w.groups[i], (set = new Set()));
      set.add(w);
    }
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      const b = this.buffer(space, src.kind === 'channel' ? space.channels : space.wildcards, src.key);
      b.waiters.add(w);
      b.readRound = this.round;
    }
    this.parked++;
  }

  unpark(w: Waiter): void {
    const space = this.space(w.subscribeKey);
    const sources = w.sources;
    // Counted once: by its first source's buffer (or the sourceless set), where park() put it.
    let wasParked = sources.length === 0 && space.sourceless.delete(w);
    for (let i = 0; i < w.groups.length; i++) {
      const set = space.groups.get(w.groups[i]);
      if (set?.delete(w) && set.size === 0) space.groups.delete(w.groups[i]);
    }
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      const deleted = (src.kind === 'channel' ? space.channels : space.wildcards).get(src.key)?.waiters.delete(w) === true;
      if (i === 0) wasParked = deleted;
    }
    if (wasParked) this.parked--;
  }

  /** Parked waiters that subscribed through `group` or its presence (`group-pnpres`); a snapshot. */
  waitersOfGroup(subscribeKey: string, group: string): Waiter[] {
    const space = this.spaces.get(subscribeKey);
    if (space === undefined) return [];
    const out = new Set<Waiter>(space.groups.get(group));
    for (const w of space.groups.get(`${group}${PRESENCE_SUFFIX}`) ?? []) out.add(w);
    return [...out];
  }

  /** Parked waiters of one uuid (presence keeps them present while they wait); a scan of the keyset. */
  waitersOf(subscribeKey: string, uuid: string): ReadonlySet<Waiter> {
    const out = new Set<Waiter>();
    for (const w of this.waiters(subscribeKey)) if (w.uuid === uuid) out.add(w);
    return out;
  }

  /** Every parked waiter of a keyset, grouped by uuid: one scan for a presence sweep. */
  waitersByUuid(subscribeKey: string): Map<string, Waiter[]> {
    const out = new Map<string, Waiter[]>();
    for (const w of this.waiters(subscribeKey)) {
      const list = out.get(w.uuid);
      if (list === undefined) out.set(w.uuid, [w]);
      else list.push(w);
    }
    return out;
  }

  /** Every parked waiter (of a keyset), each once; a snapshot, so callers may unpark as they go. */
  *waiters(subscribeKey?: string): Iterable<Waiter> {
    for (const [sk, space] of this.spaces) {
      if (subscribeKey !== undefined && sk !== subscribeKey) continue;
      const all = new Set<Waiter>(space.sourceless);
      for (const map of [space.channels, space.wildcards]) for (const b of map.values()) for (const w of b.waiters) all.add(w);
      yield* all;
    }
  }

  parkedCount(): number {
    return this.parked;
  }

  /**
   * After a gap in delivery (the link to other nodes was down) memory may lack messages committed
   * meanwhile: claim coverage only from `tt` on, so older cursors read the gap from the store.
   */
  invalidateCoverage(tt: bigint): void {
    for (const space of this.spaces.values()) {
      if (tt > space.floor) space.floor = tt;
      for (const map of [space.channels, space.wildcards]) {
        for (const b of map.values()) if (tt > b.coveredSince) b.coveredSince = tt;
      }
    }
  }

  /** Drops messages older than the age limit and forgets idle, empty buffers. */
  sweep(nowTimetoken: bigint): void {
    const cutoff = nowTimetoken - BigInt(this.options.bufferMaxAgeMs) * 10_000n;
    for (const space of this.spaces.values()) {
      for (const map of [space.channels, space.wildcards]) {
        for (const [key, b] of map) {
          let n = 0;
          while (n < b.items.length && b.items[n].timetoken <= cutoff) n++;
          if (n > 0) {
            b.coveredSince = b.items[n - 1].timetoken;
            b.items.splice(0, n);
            b.version++;
          }
          if (b.items.length === 0 && b.waiters.size === 0) {
            // Forgetting a buffer forgets its coverage: lower-bound every missing key's coverage instead.
            if (b.coveredSince > space.floor) space.floor = b.coveredSince;
            map.delete(key);
          }
        }
      }
    }
  }
}

const NONE: readonly Matched[] = Object.freeze([]);
/** Polls waiting for the turn's end past which they are answered at once (Hub.answerAtTurnEnd). */
const DUE_POLLS_MAX = 1024;
/** Cursors a buffer's memo keeps per version (see Buffer.memo). */
const MEMO_CURSORS = 8;

/** Appends the envelopes of `arr` (ascending) newer than `after` to `out`, found by binary search. */
function appendNewer(arr: readonly Envelope[], after: bigint, via: string | null, out: Matched[]): void {
  if (arr.length === 0 || arr[arr.length - 1].timetoken <= after) return;
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid].timetoken <= after) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < arr.length; i++) out.push({ env: arr[i], via });
}

/**
 * Sorts by timetoken (then channel: a Redis deployment's history from before timetokens were ordered
 * per keyset, docs/redis.md §Ordering, may hold one timetoken on two channels) and drops repeats of one
 * (channel, timetoken), keeping the first source that matched it.
 */
export function sortAndDedupe(items: Matched[]): Matched[] {
  items.sort((a, b) =>
    a.env.timetoken !== b.env.timetoken
      ? a.env.timetoken < b.env.timetoken
        ? -1
        : 1
      : a.env.channel < b.env.channel
        ? -1
        : a.env.channel > b.env.channel
          ? 1
          : 0,
  );
  let w = 0;
  for (let r = 0; r < items.length; r++) {
    const prev = w > 0 ? items[w - 1].env : undefined;
    const cur = items[r].env;
    if (prev && prev.timetoken === cur.timetoken && prev.channel === cur.channel) continue;
    items[w++] = items[r];
  }
  items.length = w;
  return items;
}
