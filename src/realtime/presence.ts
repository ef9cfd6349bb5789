import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { PresenceStore } from '../store/types.ts';
import { PRESENCE_SUFFIX } from './channel-name.ts';
import type { Hub, Waiter } from './hub.ts';
import type { PublishInput } from './publish.ts';

export type State = Record<string, unknown>;

export interface Occupancy {
  occupancy: number;
  occupants: Array<{ uuid: string; state: State | undefined }>;
}

export interface PresenceOptions {
  store: PresenceStore;
  hub: Hub;
  clock: Clock;
  log: Logger;
  publish: (input: PublishInput) => Promise<bigint>;
  defaultTimeoutSec: number;
  /** A requested timeout above this is taken as this (config presence.maxTimeoutSec). */
  maxTimeoutSec: number;
  sweepIntervalMs: number;
}

/**
 * Presence on top of PresenceStore (wire-protocol.md §4): join on first appearance, leave on leave,
 * timeout when heartbeats stop, state-change on set state. Events are published, unstored, on
 * `<channel>-pnpres` through the ordinary publish path, so they share its ordering guarantees.
 * A uuid with a long-poll parked on a channel stays present there: the poll is its heartbeat.
 */
export class PresenceService {
  private timer: NodeJS.Timeout | null = null;
  /**
   * Per keyset and uuid: the last heartbeat interval it asked for, reused by polls that carry none (event
   * engine), and when its presence was last written here and for which channels (hot-path skip, parked
   * refresh). Keyed in two levels so the per-poll freshness check builds no key string.
   */
  private readonly uuids = new Map<string, Map<string, UuidPresence>>();
  private sweeping = false;

  constructor(private readonly o: PresenceOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.o.sweepIntervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private record(subscribeKey: string, uuid: string): UuidPresence | undefined {
    return this.uuids.get(subscribeKey)?.get(uuid);
  }

  private ensureRecord(subscribeKey: string, uuid: string): UuidPresence {
    let byUuid = this.uuids.get(subscribeKey);
    if (byUuid === undefined) this.uuids.set(subscribeKey, (byUuid = new Map()));
    let rec = byUuid.get(uuid);
    if (rec === undefined) byUuid.set(uuid, (rec = { timeoutSec: undefined, at: 0, channels: null }));
    return rec;
  }

  /** A requested timeout within presence.maxTimeoutSec (null: none requested). */
  private bounded(requestedSec: number | null): number | null {
    return requestedSec === null ? null : Math.min(requestedSec, this.o.maxTimeoutSec);
  }

  private timeoutFor(subscribeKey: string, uuid: string, requested: number | null): number {
    if (requested !== null) {
      this.ensureRecord(subscribeKey, uuid).timeoutSec = requested;
      return requested;
    }
    return this.record(subscribeKey, uuid)?.timeoutSec ?? this.o.defaultTimeoutSec;
  }

  /**
   * True when a heartbeat for these channels would write nothing: every re-poll is a heartbeat, and
   * within a quarter of the timeout the store already holds an expiry far enough ahead.
   */
  isFresh(subscribeKey: string, uuid: string, channels: readonly string[], requestedSec: number | null): boolean {
    const timeoutSec = this.bounded(requestedSec);
    const rec = this.record(subscribeKey, uuid);
    if (rec === undefined || rec.channels === null) return false;
    const seconds = rec.timeoutSec ?? this.o.defaultTimeoutSec;
    // A different explicit timeout changes the expiry: it must reach the store.
    if (timeoutSec !== null && timeoutSec !== seconds) return false;
    if (this.o.clock.nowMs() - rec.at >= seconds * 250) return false;
    for (let i = 0; i < channels.length; i++) if (!rec.channels.has(channels[i])) return false;
    return true;
  }

  /** Heartbeat (explicit, or implied by a subscribe) on plain channel names. */
  async heartbeat(subscribeKey: string, uuid: string, channels: readonly string[], requestedSec: number | null, state?: Record<string, State>): Promise<void> {
    const timeoutSec = this.bounded(requestedSec);
    if (state === undefined && this.isFresh(subscribeKey, uuid, channels, timeoutSec)) return;
    const seconds = this.timeoutFor(subscribeKey, uuid, timeoutSec);
    const now = this.o.clock.nowMs();
    const expiresAtMs = now + seconds * 1000;
    const rec = this.ensureRecord(subscribeKey, uuid);
    rec.at = now;
    rec.channels = new Set(channels);
    for (const ch of channels) {
      const channelState = state?.[ch];
      if (channelState !== undefined) await this.o.store.setState(subscribeKey, ch, uuid, channelState);
      const joined = await this.o.store.touch(subscribeKey, ch, uuid, expiresAtMs);
      if (joined) {
        const data = channelState ?? (await this.o.store.getState(subscribeKey, ch, uuid));
        await this.emit(subscribeKey, ch, 'join', uuid, data);
      }
    }
  }

  /** The next heartbeat for these channels must reach the store (a join may be due). */
  private forget(subscribeKey: string, uuid: string, channels: readonly string[]): void {
    const channelsSeen = this.record(subscribeKey, uuid)?.channels;
    if (channelsSeen) for (const ch of channels) channelsSeen.delete(ch);
  }

  async leave(subscribeKey: string, uuid: string, channels: readonly string[]): Promise<void> {
    this.forget(subscribeKey, uuid, channels);
    for (const ch of channels) {
      if (await this.o.store.remove(subscribeKey, ch, uuid)) {
        await this.o.store.setState(subscribeKey, ch, uuid, null);
        await this.emit(subscribeKey, ch, 'leave', uuid, undefined);
      }
    }
  }

  async setState(subscribeKey: string, uuid: string, channels: readonly string[], state: State): Promise<void> {
    for (const ch of channels) {
      await this.o.store.setState(subscribeKey, ch, uuid, state);
      await this.emit(subscribeKey, ch, 'state-change', uuid, state);
    }
  }

  async getState(subscribeKey: string, uuid: string, channels: readonly string[]): Promise<Record<string, State>> {
    const out: Record<string, State> = {};
    for (const ch of channels) {
      const s = await this.o.store.getState(subscribeKey, ch, uuid);
      if (s !== undefined) out[ch] = s;
    }
    return out;
  }

  /**
   * Occupancy of each channel; `occupants` lists the page `[offset, offset + limit)` of its uuids
   * (all of them without a page), and state is read for the listed ones only.
   */
  async hereNow(
    subscribeKey: string,
    channels: readonly string[],
    withState: boolean,
    page?: { offset: number; limit: number },
  ): Promise<Map<string, Occupancy>> {
    const out = new Map<string, Occupancy>();
    for (const ch of channels) {
      // Occupancy alone (no uuids asked): a count, not the list.
      if (page !== undefined && page.limit === 0) {
        out.set(ch, { occupancy: await this.o.store.occupancy(subscribeKey, ch), occupants: [] });
        continue;
      }
      const uuids = await this.o.store.occupants(subscribeKey, ch);
      const listed = page === undefined ? uuids : uuids.slice(page.offset, page.offset + page.limit);
      const occupants = [];
      for (const uuid of listed) {
        occupants.push({ uuid, state: withState ? await this.o.store.getState(subscribeKey, ch, uuid) : undefined });
      }
      out.set(ch, { occupancy: uuids.length, occupants });
    }
    return out;
  }

  /** Channels with anyone present. */
  occupiedChannels(subscribeKey: string): Promise<string[]> {
    return this.o.store.channels(subscribeKey);
  }

  whereNow(subscribeKey: string, uuid: string): Promise<string[]> {
    return this.o.store.channelsOf(subscribeKey, uuid);
  }

  /**
   * A parked poll is a heartbeat: refresh its uuid before half its timeout has passed. With several
   * nodes another node's sweeper cannot see this node's polls, so the refresh must reach the store.
   */
  private async refreshParked(now: number): Promise<void> {
    // Parked polls by keyset and uuid, made on first need (one scan of the hub).
    const byKeyset = new Map<string, Map<string, Waiter[]>>();
    const polls = (subscribeKey: string, uuid: string): Waiter[] => {
      let byUuid = byKeyset.get(subscribeKey);
      if (byUuid === undefined) byKeyset.set(subscribeKey, (byUuid = this.o.hub.waitersByUuid(subscribeKey)));
      return byUuid.get(uuid) ?? [];
    };
    for (const w of this.o.hub.waiters()) {
      const seconds = this.timeoutFor(w.subscribeKey, w.uuid, null);
      const last = this.record(w.subscribeKey, w.uuid);
      // Fresh, or refreshed just now through another of its polls.
      if (last !== undefined && last.channels !== null && now - last.at < (seconds * 1000) / 2) continue;
      const channels = new Set<string>();
      for (const ww of polls(w.subscribeKey, w.uuid)) {
        for (const s of ww.sources) if (s.kind === 'channel' && !s.key.endsWith(PRESENCE_SUFFIX)) channels.add(s.key);
      }
      const rec = this.ensureRecord(w.subscribeKey, w.uuid);
      rec.at = now;
      rec.channels = channels;
      for (const ch of channels) await this.o.store.touch(w.subscribeKey, ch, w.uuid, now + seconds * 1000);
    }
    // Forget uuids that have gone quiet so the maps do not grow without bound.
    for (const [subscribeKey, byUuid] of this.uuids) {
      for (const [uuid, { at }] of byUuid) if (now - at > 2 * 3_600_000) byUuid.delete(uuid);
      if (byUuid.size === 0) this.uuids.delete(subscribeKey);
    }
  }

  /** Expires silent uuids; a uuid still parked on the channel is kept (its poll is a heartbeat). */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.o.clock.nowMs();
      await this.refreshParked(now);
      const expired = await this.o.store.expire(now);
      // Parked polls by keyset and uuid, one scan of the hub per keyset, only when something expired;
      // the channels a uuid's parked polls listen on, one set per uuid, made when first needed (a uuid
      // with K entries expiring and polls on S sources costs K + S, not K × S).
      const byKeyset = new Map<string, Map<string, Waiter[]>>();
      const parkedChannels = new Map<string, Set<string>>();
      for (const e of expired) {
        let byUuid = byKeyset.get(e.subscribeKey);
        if (byUuid === undefined) byKeyset.set(e.subscribeKey, (byUuid = this.o.hub.waitersByUuid(e.subscribeKey)));
        const key = `${e.subscribeKey}\u0000${e.uuid}`;
        let channels = parkedChannels.get(key);
        if (channels === undefined) {
          channels = new Set();
          for (const w of byUuid.get(e.uuid) ?? []) for (const src of w.sources) if (src.kind === 'channel') channels.add(src.key);
          parkedChannels.set(key, channels);
        }
        const parked = channels.has(e.channel);
        if (parked) {
          const seconds = this.timeoutFor(e.subscribeKey, e.uuid, null);
          await this.o.store.touch(e.subscribeKey, e.channel, e.uuid, now + seconds * 1000);
          continue;
        }
        this.forget(e.subscribeKey, e.uuid, [e.channel]);
        await this.o.store.setState(e.subscribeKey, e.channel, e.uuid, null);
        await this.emit(e.subscribeKey, e.channel, 'timeout', e.uuid, undefined);
      }
    } catch (err) {
      this.o.log.error({ err }, 'presence sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async emit(subscribeKey: string, channel: string, action: string, uuid: string, data: State | undefined): Promise<void> {
    // A count, not the list: with N present, N joins would otherwise cost N² (each fetching all of them).
    const occupancy = await this.o.store.occupancy(subscribeKey, channel);
    const payload: Record<string, unknown> = { action, uuid, timestamp: Math.floor(this.o.clock.nowMs() / 1000), occupancy };
    if (data !== undefined) payload.data = data;
    await this.o.publish({
      subscribeKey,
      channel: channel + PRESENCE_SUFFIX,
      publisher: null,
      payload: JSON.stringify(payload),
      meta: null,
      customMessageType: null,
      type: 0,
      store: false,
      expiresAtMs: null,
    });
  }
}

interface UuidPresence {
  /** The heartbeat interval it last asked for, seconds; undefined: the default. */
  timeoutSec: number | undefined;
  /** When its presence was last written here (clock ms). */
  at: number;
  /** The channels written then; null before the first write. */
  channels: Set<string> | null;
}
