import type { Envelope } from './envelope.ts';
import { isPresenceName, wildcardPrefixesOf } from './channel-name.ts';

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
  /** Called once per delivered batch that touched one of its sources. Must not throw. */
  wake(): void;
  /** Ends the poll with an empty answer so the client re-polls (group membership changed, shutdown). */
  interrupt(): void;
  /** Re-checks access; ends the poll with its denial when access is gone, else does nothing. */
  recheckAccess(): void;
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
}

interface Space {
  /** Memory coverage for keys without a buffer: rises when an idle buffer is forgotten. */
  floor: bigint;
  channels: Map<string, Buffer>;
  wildcards: Map<string, Buffer>;
  byUuid: Map<string, Set<Waiter>>;
}

export interface HubOptions {
  bufferPerChannel: number;
  bufferMaxAgeMs: number;
  /** Timetoken below which nothing is in memory (the node's start): older catch-up comes from the store. */
  floor: () => bigint;
}

/**
 * The local index channel → recent messages + parked waiters. Delivery is synchronous and touches
 * only the published channel's buffer and its (at most two) wildcard prefixes: no per-message work
 * proportional to the number of channels. Waiters are woken once per batch, so one answer carries
 * every message of the batch (coalesced writes, performance.md lever 1).
 */
export class Hub {
  private readonly spaces = new Map<string, Space>();

  constructor(private readonly options: HubOptions) {}

  private space(subscribeKey: string): Space {
    let s = this.spaces.get(subscribeKey);
    if (!s) {
      s = { floor: this.options.floor(), channels: new Map(), wildcards: new Map(), byUuid: new Map() };
      this.spaces.set(subscribeKey, s);
    }
    return s;
  }

  private buffer(space: Space, map: Map<string, Buffer>, key: string): Buffer {
    let b = map.get(key);
    if (!b) {
      b = { items: [], coveredSince: space.floor, waiters: new Set() };
      map.set(key, b);
    }
    return b;
  }

  private push(b: Buffer, env: Envelope, woken: Set<Waiter>): void {
    b.items.push(env);
    if (b.items.length > this.options.bufferPerChannel) {
      // Trim in chunks so the array copy is amortised.
      const drop = Math.max(1, Math.floor(this.options.bufferPerChannel / 10));
      b.coveredSince = b.items[drop - 1].timetoken;
      b.items.splice(0, drop);
    }
    for (const w of b.waiters) woken.add(w);
  }

  /** Appends a batch (ascending timetokens) and wakes each affected waiter once. */
  deliver(batch: readonly Envelope[]): void {
    const woken = new Set<Waiter>();
    for (const env of batch) {
      const space = this.space(env.subscribeKey);
      this.push(this.buffer(space, space.channels, env.channel), env, woken);
      // wire-protocol.md §3.8: presence events are never delivered through wildcard subscriptions,
      // so `a.b-pnpres` is not indexed under `a.` (a `a.*` subscriber would get it with no grant).
      if (space.wildcards.size > 0 && !isPresenceName(env.channel)) {
        for (const prefix of wildcardPrefixesOf(env.channel)) {
          const wb = space.wildcards.get(prefix);
          if (wb) this.push(wb, env, woken);
        }
      }
    }
    for (const w of woken) w.wake();
  }

  /**
   * Messages newer than `after` from memory, ascending, deduplicated by (channel, timetoken), at most
   * `limit`. Also reports the channels whose memory does not reach back to `after`.
   */
  collect(subscribeKey: string, sources: readonly Source[], after: bigint): { items: Matched[]; gaps: Map<string, bigint> } {
    const space = this.space(subscribeKey);
    const items: Matched[] = [];
    const gaps = new Map<string, bigint>();
    for (const src of sources) {
      const map = src.kind === 'channel' ? space.channels : space.wildcards;
      const b = map.get(src.key);
      const coveredSince = b ? b.coveredSince : space.floor;
      if (src.kind === 'channel' && after < coveredSince) gaps.set(src.key, coveredSince);
      if (!b || b.items.length === 0) continue;
      const arr = b.items;
      if (arr[arr.length - 1].timetoken <= after) continue;
      let lo = 0;
      let hi = arr.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (arr[mid].timetoken <= after) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < arr.length; i++) items.push({ env: arr[i], via: src.via });
    }
    if (sources.length > 1) sortAndDedupe(items);
    return { items, gaps };
  }

  park(w: Waiter): void {
    const space = this.space(w.subscribeKey);
    for (const src of w.sources) {
      this.buffer(space, src.kind === 'channel' ? space.channels : space.wildcards, src.key).waiters.add(w);
    }
    let set = space.byUuid.get(w.uuid);
    if (!set) space.byUuid.set(w.uuid, (set = new Set()));
    set.add(w);
  }

  unpark(w: Waiter): void {
    const space = this.space(w.subscribeKey);
    for (const src of w.sources) {
      (src.kind === 'channel' ? space.channels : space.wildcards).get(src.key)?.waiters.delete(w);
    }
    const set = space.byUuid.get(w.uuid);
    if (set) {
      set.delete(w);
      if (set.size === 0) space.byUuid.delete(w.uuid);
    }
  }

  /** Parked waiters of one uuid (presence keeps them present while they wait). */
  waitersOf(subscribeKey: string, uuid: string): ReadonlySet<Waiter> {
    return this.spaces.get(subscribeKey)?.byUuid.get(uuid) ?? EMPTY;
  }

  /** Every parked waiter of a keyset (access re-checks). */
  *waiters(subscribeKey?: string): Iterable<Waiter> {
    for (const [sk, space] of this.spaces) {
      if (subscribeKey !== undefined && sk !== subscribeKey) continue;
      for (const set of space.byUuid.values()) yield* [...set];
    }
  }

  parkedCount(): number {
    let n = 0;
    for (const space of this.spaces.values()) for (const set of space.byUuid.values()) n += set.size;
    return n;
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

const EMPTY: ReadonlySet<Waiter> = new Set();

/**
 * Sorts by timetoken (then channel: with Redis, timetokens are unique per channel only) and drops
 * repeats of one (channel, timetoken), keeping the first source that matched it.
 */
export function sortAndDedupe(items: Matched[]): Matched[] {
  items.sort((a, b) =>
    a.env.timetoken !== b.env.timetoken ? (a.env.timetoken < b.env.timetoken ? -1 : 1) : a.env.channel < b.env.channel ? -1 : a.env.channel > b.env.channel ? 1 : 0,
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
