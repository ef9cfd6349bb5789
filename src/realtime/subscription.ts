import { ParleyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Broker, MessageStore } from '../store/types.ts';
import { PRESENCE_SUFFIX, isPresenceName, stripPresence, wildcardPrefix } from './channel-name.ts';
import { envelopeFromStored, type Envelope } from './envelope.ts';
import { sortAndDedupe, type Hub, type Matched, type Source, type Waiter } from './hub.ts';
import type { TimetokenGenerator } from './timetoken.ts';

export interface SubscribeRequest {
  subscribeKey: string;
  uuid: string;
  /** As requested: plain, `-pnpres` and wildcard names. */
  channels: readonly string[];
  /** As requested, including `g-pnpres`. */
  groups: readonly string[];
  /** null = handshake (no tt or tt=0). */
  cursor: bigint | null;
  /** Messages for which this returns false are not delivered (filter-expr). */
  filter: ((env: Envelope) => boolean) | null;
  /**
   * Whether the subscriber's credential grants READ on one concrete channel, asked for every channel
   * a wildcard source (`a.*`) would deliver from: the wildcard's own grant opens the subscription,
   * each delivered channel still needs its own (docs/access-matrix.md "Wildcard subscriptions").
   * Answers are cached per poll and dropped on every access change (recheckAccess). Required, so
   * that no caller can forget it; a keyset without Access Manager answers true.
   */
  canRead: (channel: string) => boolean;
  /** Which access changes can concern the poll (Waiter.accessKey); undefined: every one. */
  accessKey?: string | null;
}

export interface SubscribeAnswer {
  timetoken: bigint;
  /** Shared between polls woken by the same delivery at the same cursor: read it, never modify it. */
  items: readonly Matched[];
  /**
   * Whether the poll parked in the hub (its answer ends a hold: a delivery, the hold time, an
   * interruption); false when it was answered from what waited at its arrival (at the turn's end, or
   * after a catch-up from the store).
   */
  wasParked: boolean;
}

export interface PollCallbacks {
  answer(a: SubscribeAnswer): void;
  /** Re-checks access before messages go out; a non-null result ends the poll with that denial instead. */
  recheck(): unknown | null;
  denied(reason: unknown): void;
  /** The poll parked in the hub: its answer will be a hold's end (what only a prompt answer needs may go). */
  parked?(): void;
}

export interface PollHandle {
  /** The client went away: forget the poll without answering. */
  cancel(): void;
  /** Ends the poll now with an empty answer (shutdown). */
  interrupt(): void;
}

/** Resolves channel groups to their member channels (cached; see realtime/channel-groups.ts). */
export interface GroupResolver {
  members(subscribeKey: string, group: string): Promise<readonly string[]>;
}

export interface SubscriptionOptions {
  hub: Hub;
  messages: MessageStore;
  /** The broker's commit-order cut, a handshake's cursor (Broker.handshakeTimetoken). */
  handshakes: Pick<Broker, 'handshakeTimetoken'>;
  groups: GroupResolver;
  timetokens: TimetokenGenerator;
  log: Logger;
  longPollTimeoutMs: number;
  maxPerAnswer: number;
  /** Sources one subscribe may expand to (limits.maxChannelsPerSubscription); past it a 400. Unset: no cap (unit tests). */
  maxSourcesPerSubscription?: number;
  /** Sources all open long-polls of the node may hold together (limits.maxSubscribedChannelsPerNode); past it a 429. Unset: no cap. */
  maxSourcesPerNode?: number;
  region: number;
  nowMs: () => number;
  /** Stored rows one catch-up reads at most, in all (a share per channel); default CATCH_UP_ROWS_PER_POLL. */
  catchUpRowsPerPoll?: number;
}

/** Stored rows one poll's catch-up reads at most: maxPerAnswer per channel up to 100 channels, fewer past. */
export const CATCH_UP_ROWS_PER_POLL = 10_000;

/**
 * Subscribe v2 long-polls (wire-protocol.md §3). A poll answers at once when something newer than its
 * cursor exists (memory first; the store for what memory no longer holds, so a subscriber that fell
 * far behind gets every stored message over as many answers as needed), and otherwise parks in the
 * hub until a delivery wakes it or the hold time ends. A parked poll costs a timer and set entries.
 */
export class SubscriptionService {
  /** Sources held by this node's open long-polls, against maxSourcesPerNode. */
  private heldSources = 0;
  /** When each parked poll's hold time ends. */
  readonly holds = new HoldQueue();
  /** channel → the sources of a subscribe to it alone (see directSources). */
  private readonly singleChannelSources = new Map<string, readonly Source[]>();

  constructor(private readonly o: SubscriptionOptions) {}

  /** Sources (channels, presence channels, wildcards) all open long-polls listen on. */
  get subscribedChannels(): number {
    return this.heldSources;
  }

  /**
   * Direct channels, then group members, then wildcards: a message that several sources match keeps
   * the first (hub.sortAndDedupe), so a channel the subscriber named or reached through a group is
   * never judged by the wildcard's per-channel READ check instead.
   *
   * Counted while groups are expanded: a subscribe past maxSourcesPerSubscription is refused before
   * it costs more than the cap (a group named many times was already deduplicated by the parse).
   */
  async resolveSources(subscribeKey: string, channels: readonly string[], groups: readonly string[]): Promise<Source[]> {
    const cap = this.o.maxSourcesPerSubscription ?? Infinity;
    const sources: Source[] = [];
    const wildcards: Source[] = [];
    for (const ch of channels) {
      const base = stripPresence(ch);
      const prefix = wildcardPrefix(base);
      if (prefix === undefined) sources.push({ kind: 'channel', key: ch, via: null });
      // wire-protocol.md §3.8: no presence on wildcard subscriptions.
      else if (!isPresenceName(ch)) wildcards.push({ kind: 'wildcard', key: prefix, via: ch });
    }
    if (sources.length + wildcards.length > cap) throw tooManyChannels(sources.length + wildcards.length, cap);
    for (const g of groups) {
      const presence = isPresenceName(g);
      const members = await this.o.groups.members(subscribeKey, presence ? stripPresence(g) : g);
      const count = sources.length + wildcards.length + members.length;
      if (count > cap) throw tooManyChannels(count, cap);
      for (const m of members) sources.push({ kind: 'channel', key: presence ? m + PRESENCE_SUFFIX : m, via: g });
    }
    for (const w of wildcards) sources.push(w);
    return sources;
  }

  /**
   * Handles one subscribe request; the callbacks receive exactly one answer or denial unless cancelled.
   * Without groups to resolve or history to read, the poll is answered or parked before this returns
   * and its handle is returned as is (no promise); otherwise a promise of the handle. A request past a
   * cap throws (or rejects with) its ParleyError.
   */
  open(req: SubscribeRequest, cb: PollCallbacks): PollHandle | Promise<PollHandle> {
    if (req.cursor === null || req.cursor === 0n) return this.handshake(req.subscribeKey, cb);
    if (req.groups.length > 0) return this.resolveSources(req.subscribeKey, req.channels, req.groups).then((sources) => this.openWith(req, cb, sources));
    return this.openWith(req, cb, this.directSources(req.channels));
  }

  /**
   * §3.2: a handshake answers at once with the current timetoken (never held: the EE waits 15 s only),
   * a cut of the keyset's commit order (Broker.handshakeTimetoken), so a poll from it gets every message committed
   * after the handshake and none from before.
   */
  private handshake(subscribeKey: string, cb: PollCallbacks): PollHandle | Promise<PollHandle> {
    const cut = this.o.handshakes.handshakeTimetoken(subscribeKey);
    if (typeof cut === 'bigint') {
      cb.answer({ timetoken: cut, items: [], wasParked: false });
      return NO_POLL;
    }
    return cut.then((timetoken) => {
      // /time never falls behind a cursor this node handed out.
      this.o.timetokens.observe(timetoken);
      cb.answer({ timetoken, items: [], wasParked: false });
      return NO_POLL;
    });
  }

  private openWith(req: SubscribeRequest, cb: PollCallbacks, sources: readonly Source[]): PollHandle | Promise<PollHandle> {
    // The node-wide budget is held from here until the poll answers, is denied or is cancelled
    // (LongPoll.finish gives it back).
    this.holdSources(sources.length);
    const poll = new LongPoll(this.o, this, req, sources, cb);
    let started: PollHandle | Promise<PollHandle>;
    try {
      started = poll.start();
    } catch (err) {
      poll.cancel();
      throw err;
    }
    if (!(started instanceof Promise)) return started;
    return started.catch((err: unknown) => {
      poll.cancel();
      throw err;
    });
  }

  /**
   * resolveSources without groups: no await, nothing to look up. A single channel's sources (the usual
   * subscriber) are made once and shared by its polls; they are never modified.
   */
  private directSources(channels: readonly string[]): readonly Source[] {
    const cap = this.o.maxSourcesPerSubscription ?? Infinity;
    let sources: readonly Source[] | undefined;
    if (channels.length === 1) {
      sources = this.singleChannelSources.get(channels[0]);
      if (sources === undefined) {
        sources = Object.freeze(sourcesOf(channels));
        if (this.singleChannelSources.size >= SOURCES_CACHE_MAX) this.singleChannelSources.clear();
        this.singleChannelSources.set(channels[0], sources);
      }
    } else sources = sourcesOf(channels);
    if (sources.length > cap) throw tooManyChannels(sources.length, cap);
    return sources;
  }

  /** Takes `n` from the node's budget, or throws TOO_MANY_REQUESTS naming the cap. */
  private holdSources(n: number): void {
    const max = this.o.maxSourcesPerNode ?? Infinity;
    if (this.heldSources + n > max) {
      throw new ParleyError(
        'TOO_MANY_REQUESTS',
        `this node's open subscriptions listen on ${this.heldSources} channels; ${n} more would pass its limit of ${max} (limits.maxSubscribedChannelsPerNode); retry later`,
        { details: { cap: 'maxSubscribedChannelsPerNode' } },
      );
    }
    this.heldSources += n;
  }

  /** Gives back what holdSources took (once per poll: LongPoll.finish runs once). */
  releaseSources(n: number): void {
    this.heldSources -= n;
  }
}

const NO_POLL: PollHandle = Object.freeze({ cancel() {}, interrupt() {} });

/** Distinct single-channel subscribes whose sources are kept; past this the cache starts over. */
const SOURCES_CACHE_MAX = 10_000;

/** Direct channels (and presence channels) first, then wildcards, as resolveSources orders them. */
function sourcesOf(channels: readonly string[]): Source[] {
  const sources: Source[] = [];
  let wildcards: Source[] | null = null;
  for (const ch of channels) {
    const base = stripPresence(ch);
    const prefix = wildcardPrefix(base);
    if (prefix === undefined) sources.push({ kind: 'channel', key: ch, via: null });
    // wire-protocol.md §3.8: no presence on wildcard subscriptions.
    else if (!isPresenceName(ch)) (wildcards ??= []).push({ kind: 'wildcard', key: prefix, via: ch });
  }
  if (wildcards !== null) for (const w of wildcards) sources.push(w);
  return sources;
}

function tooManyChannels(count: number, cap: number): ParleyError {
  return new ParleyError(
    'INVALID_PARAM',
    `this subscribe reaches ${count} or more channels once its channel groups are expanded (each -pnpres name counting); at most ${cap} per subscription (limits.maxChannelsPerSubscription)`,
    { details: { cap: 'maxChannelsPerSubscription' } },
  );
}

/** Distinct channels whose READ answer a poll remembers; past this the cache starts over. */
export const READ_CACHE_MAX_CHANNELS = 1024;
/**
 * How long a cached READ answer is trusted. Access changes clear the cache at once (recheckAccess);
 * this bounds the other way an answer goes stale, a grant or token reaching its expiry mid-poll.
 */
export const READ_CACHE_TTL_MS = 1000;

/**
 * One parked or catching-up long-poll: the hub's Waiter and the route's PollHandle in one object, so a
 * poll costs one allocation here besides its sources (no per-poll closures).
 */
class LongPoll implements Waiter, PollHandle {
  readonly subscribeKey: string;
  readonly uuid: string;
  readonly groups: readonly string[];
  readonly accessKey: string | null | undefined;
  private cursor: bigint;
  private done = false;
  private parked = false;
  /** Links in the service's hold queue (HoldQueue), and when this poll's hold ends (performance.now() ms). */
  holdPrev: LongPoll | null = null;
  holdNext: LongPoll | null = null;
  holdUntil = 0;
  isHeld = false;
  /** The `b` (via) values of this poll's wildcard sources; null when it has none. */
  private readonly wildcardVias: ReadonlySet<string> | null;
  /** When the poll arrived (nowMs), for its hold time. */
  private startedMs = 0;
  /** Whether it waits in the hub's turn-end list (answerAtTurnEnd), neither parked nor answered. */
  private isDue = false;
  /** Whether it ever parked (its answer is then a hold's end or a delivery's: SubscribeAnswer.wasParked). */
  private hasParked = false;
  /** channel → canRead answer, since readCacheSinceMs (wildcard deliveries only; made on first use). */
  private readCache: Map<string, boolean> | null = null;
  private readCacheSinceMs = 0;

  constructor(
    private readonly o: SubscriptionOptions,
    private readonly service: SubscriptionService,
    private readonly req: SubscribeRequest,
    readonly sources: readonly Source[],
    private readonly cb: PollCallbacks,
  ) {
    this.subscribeKey = req.subscribeKey;
    this.uuid = req.uuid;
    this.groups = req.groups;
    this.accessKey = req.accessKey;
    this.cursor = req.cursor as bigint;
    let vias: Set<string> | null = null;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i];
      if (s.kind === 'wildcard' && s.via !== null) (vias ??= new Set()).add(s.via);
    }
    this.wildcardVias = vias;
  }

  /**
   * Answers from memory at the turn's end when messages wait (Hub.answerAtTurnEnd: the turn's other
   * publishes join the same answer), or parks; only a catch-up from the store (a gap in memory) makes
   * it wait longer.
   */
  start(): PollHandle | Promise<PollHandle> {
    this.startedMs = this.o.nowMs();
    if (this.o.hub.hasGap(this.subscribeKey, this.sources, this.cursor)) return this.catchUp(this.startedMs);
    if (this.o.hub.hasNewer(this.subscribeKey, this.sources, this.cursor)) {
      this.isDue = true;
      this.o.hub.answerAtTurnEnd(this);
    } else this.park(this.startedMs);
    return this;
  }

  private async catchUp(startedMs: number): Promise<PollHandle> {
    let pending: Matched[];
    for (let attempt = 0; ; attempt++) {
      const { items, gaps } = this.o.hub.collect(this.subscribeKey, this.sources, this.cursor);
      if (gaps.size === 0) {
        pending = items;
        break;
      }
      try {
        const stored = await this.fromStore(gaps);
        if (this.done) return this;
        // Re-collect from memory after the await: a delivery may have happened meanwhile, and parking
        // happens in this same synchronous block, so nothing can slip between the read and the park.
        const fresh = this.o.hub.read(this.subscribeKey, this.sources, this.cursor, null);
        pending = sortAndDedupe([...items, ...stored.rows, ...fresh]);
        // The store may have stopped short (a share per channel): nothing past where it stopped goes
        // out, or the cursor would pass stored messages it has not read yet.
        const upTo = stored.upTo;
        if (upTo !== null) pending = pending.filter((m) => m.env.timetoken <= upTo);
        break;
      } catch (err) {
        // A 5xx would stop the SDK's subscribe loop, and answering from memory alone would move the
        // cursor past the gap: hold the poll and retry the catch-up until the store is back.
        this.o.log.warn({ err, attempt }, 'catch-up from history failed; holding the poll');
        if (this.done) return this;
        if (this.o.nowMs() - startedMs >= this.o.longPollTimeoutMs) {
          this.answerEmpty();
          return this;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
        if (this.done) return this;
      }
    }
    this.answerOrPark(pending, startedMs);
    return this;
  }

  private answerOrPark(pending: readonly Matched[], startedMs: number): void {
    if (!this.tryAnswer(pending)) this.park(startedMs);
  }

  private park(startedMs: number): void {
    this.cb.parked?.();
    this.parked = true;
    this.hasParked = true;
    this.o.hub.park(this);
    this.service.holds.add(this, Math.max(0, this.o.longPollTimeoutMs - (this.o.nowMs() - startedMs)));
  }

  /** Leaves the hub and the hold queue (when it ends, or before a catch-up from the store, which parks again if need be). */
  private unpark(): void {
    if (this.isHeld) this.service.holds.remove(this);
    if (this.parked) this.o.hub.unpark(this);
    this.parked = false;
  }

  wake(): void {
    if (this.done) return;
    // Answers wait for the turn's end: publishes of the same turn may have pushed the channel's memory
    // past this cursor meanwhile (buffer trimmed). Then what memory lost comes from the store.
    if (this.o.hub.hasGap(this.subscribeKey, this.sources, this.cursor)) {
      this.isDue = false;
      this.unpark();
      this.catchUp(this.startedMs).catch((err: unknown) => {
        this.o.log.error({ err }, 'catch-up after a wake failed');
        this.answerEmpty();
      });
      return;
    }
    const items = this.o.hub.read(this.subscribeKey, this.sources, this.cursor, null);
    if (this.isDue) {
      this.isDue = false;
      this.answerOrPark(items, this.startedMs);
    } else this.tryAnswer(items);
  }

  /** The client went away: forget the poll without answering. */
  cancel(): void {
    this.finish();
  }

  interrupt(): void {
    this.answerEmpty();
  }

  recheckAccess(): void {
    if (this.done) return;
    // Grants or revocations changed: every per-channel answer must be asked again.
    this.readCache?.clear();
    const reason = this.cb.recheck();
    if (reason !== null) {
      this.finish();
      this.cb.denied(reason);
    }
  }

  answerEmpty(): void {
    if (this.done) return;
    this.finish();
    this.cb.answer({ timetoken: this.cursor, items: [], wasParked: this.hasParked });
  }

  /**
   * Answers when something passes the access and filter checks; otherwise advances the cursor past
   * what was held back, so the same messages are not examined again. `items` may be shared (the hub's
   * memo): it is never modified, and handed on as it is when every item goes out.
   */
  private tryAnswer(items: readonly Matched[]): boolean {
    if (items.length === 0) return false;
    const max = this.o.maxPerAnswer;
    let out: readonly Matched[];
    let last: bigint;
    if (this.wildcardVias === null && this.req.filter === null) {
      // Nothing to hold back: the first `max` items go out.
      out = items.length <= max ? items : items.slice(0, max);
      last = out[out.length - 1].env.timetoken;
    } else {
      const kept: Matched[] = [];
      last = this.cursor;
      if (this.wildcardVias !== null) this.expireReadCache();
      for (const m of items) {
        if (kept.length >= max) break;
        last = m.env.timetoken;
        if (this.wildcardVias !== null && m.via !== null && this.wildcardVias.has(m.via) && !this.deliverableViaWildcard(m.env.channel)) continue;
        if (this.req.filter === null || this.req.filter(m.env)) kept.push(m);
      }
      out = kept;
    }
    this.cursor = last;
    if (out.length === 0) return false;
    const denial = this.cb.recheck();
    this.finish();
    if (denial !== null) this.cb.denied(denial);
    else this.cb.answer({ timetoken: last, items: out, wasParked: this.hasParked });
    return true;
  }

  /**
   * A channel reached only through a wildcard is delivered when the credential reads it. (Presence
   * channels never reach a wildcard: the hub does not index them there, wire-protocol.md §3.8.)
   */
  private deliverableViaWildcard(channel: string): boolean {
    const cache = (this.readCache ??= new Map());
    let allowed = cache.get(channel);
    if (allowed === undefined) {
      allowed = this.req.canRead(channel);
      if (cache.size >= READ_CACHE_MAX_CHANNELS) cache.clear();
      cache.set(channel, allowed);
    }
    return allowed;
  }

  private expireReadCache(): void {
    const nowMs = this.o.nowMs();
    if (nowMs - this.readCacheSinceMs < READ_CACHE_TTL_MS) return;
    this.readCache?.clear();
    this.readCacheSinceMs = nowMs;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.service.releaseSources(this.sources.length);
    this.unpark();
  }

  /**
   * The oldest stored messages after the cursor on the channels whose memory does not reach back to it.
   * A poll reads at most catchUpRowsPerPoll rows in all (a share per channel: a subscriber far behind on
   * thousands of channels must not make one poll read a hundred rows of each); `upTo` is where the
   * answer must stop when the store may have stopped short (MessageQuery.perChannelLimit), else null.
   */
  private async fromStore(gaps: Map<string, bigint>): Promise<{ rows: Matched[]; upTo: bigint | null }> {
    const stored = [...gaps.keys()].filter((ch) => !isPresenceName(ch));
    if (stored.length === 0) return { rows: [], upTo: null };
    let upTo = 0n;
    for (const ch of stored) if ((gaps.get(ch) as bigint) > upTo) upTo = gaps.get(ch) as bigint;
    const share = Math.max(1, Math.min(this.o.maxPerAnswer, Math.floor((this.o.catchUpRowsPerPoll ?? CATCH_UP_ROWS_PER_POLL) / stored.length)));
    const rows = await this.o.messages.query({
      subscribeKey: this.subscribeKey,
      channels: stored,
      range: { gt: this.cursor, lte: upTo },
      limit: this.o.maxPerAnswer,
      keep: 'oldest',
      nowMs: this.o.nowMs(),
      perChannelLimit: share,
    });
    const viaOf = new Map<string, string | null>();
    for (const s of this.sources) if (s.kind === 'channel' && !viaOf.has(s.key)) viaOf.set(s.key, s.via);
    const out: Matched[] = [];
    for (const row of rows) {
      // Rows newer than the channel's own memory coverage are already in the memory result.
      if (row.timetoken > (gaps.get(row.channel) as bigint)) continue;
      out.push({ env: envelopeFromStored(row, this.o.region), via: viaOf.get(row.channel) ?? null });
    }
    return { rows: out, upTo: share < this.o.maxPerAnswer && rows.length > 0 ? rows[rows.length - 1].timetoken : null };
  }
}

/**
 * Every parked poll's hold time, in one queue ordered by when it ends, with one timer for the earliest:
 * a poll costs two links instead of a Timeout of its own. Polls are held for the same time, so a new
 * one almost always goes at the end; one that was caught up from the store first (less time left) is
 * walked back to its place.
 */
class HoldQueue {
  private first: LongPoll | null = null;
  private last: LongPoll | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  add(poll: LongPoll, delayMs: number): void {
    poll.holdUntil = performance.now() + delayMs;
    poll.isHeld = true;
    let after = this.last;
    while (after !== null && after.holdUntil > poll.holdUntil) after = after.holdPrev;
    poll.holdPrev = after;
    poll.holdNext = after === null ? this.first : after.holdNext;
    if (poll.holdNext !== null) poll.holdNext.holdPrev = poll;
    else this.last = poll;
    if (after !== null) after.holdNext = poll;
    else this.first = poll;
    if (poll.holdUntil < this.timerAt) this.arm();
  }

  remove(poll: LongPoll): void {
    if (!poll.isHeld) return;
    poll.isHeld = false;
    if (poll.holdPrev !== null) poll.holdPrev.holdNext = poll.holdNext;
    else this.first = poll.holdNext;
    if (poll.holdNext !== null) poll.holdNext.holdPrev = poll.holdPrev;
    else this.last = poll.holdPrev;
    poll.holdPrev = poll.holdNext = null;
    // The timer stays for the next poll's time; with nothing held it goes (it keeps the process alive).
    if (this.first === null) this.disarm();
  }

  private arm(): void {
    this.disarm();
    if (this.first === null) return;
    this.timerAt = this.first.holdUntil;
    this.timer = setTimeout(() => this.expire(), Math.max(0, this.timerAt - performance.now()));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    while (this.first !== null && this.first.holdUntil <= now) {
      const poll = this.first;
      this.remove(poll);
      poll.answerEmpty();
    }
    this.arm();
  }
}
