import { randomBytes } from 'node:crypto';
import { ParleyError } from '../../errors.ts';
import type { Broker, CommittedMessage, ControlEvent, HealthReport, OutgoingMessage } from '../types.ts';
import { validateMessageBatch } from '../shared/validate-message-batch.ts';
import { RedisConnection, type RedisLog, type ScriptCall } from './connection.ts';
import { KeysetRegistry } from './keyset-registry.ts';
import { RedisKeys, type KeysetKeys } from './keys.ts';
import { channelTable, decodeFanout, encodeBody, expiryArg } from './message-codec.ts';
import { SCRIPTS } from './scripts.ts';

export interface RedisBrokerOptions {
  /** redis:// URL of the server every node shares. */
  url: string;
  /** Key prefix of the deployment; every node of one deployment uses the same. */
  prefix: string;
  /** The node's Clock: no timetoken this node commits is behind its nowMs (docs/redis.md §Ordering); defaults to Date.now. */
  clock?: { nowMs(): number };
  /** Tags this node's control events and names its connections in CLIENT LIST; random by default. */
  nodeId?: string;
  /** Default 5000. */
  commandTimeoutMs?: number;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Both links are PINGed this often, so a silently dead link is dropped and health turns false. Default 5000. */
  healthCheckIntervalMs?: number;
  log?: RedisLog;
}

interface ControlWire {
  n: string;
  e: ControlEvent;
}

const NO_LOG: RedisLog = { warn() {}, error() {} };
/** Longest the readiness check waits for PING. */
const BROKER_HEALTH_TIMEOUT_MS = 2000;

/**
 * The Redis engine's broker (docs/redis.md §ordering). commit() is one Lua call per keyset (one
 * MULTI/EXEC when a batch spans keysets) that assigns timetokens, appends history and PUBLISHes the
 * batch. Within a keyset each timetoken is greater than every one committed before it, from any node,
 * and than any handshake cut read before it (RedisBroker.handshakeTimetoken), so a subscriber's
 * cursor never passes a message still to come. Every node, this one included, gets batches only
 * through its subscriber connection, which PSUBSCRIBEs `<prefix>:*:fanout`, so all nodes see one
 * order. A pattern rather than a per-keyset list: a node needs no keyset list to start, and a keyset
 * added to another node is never missed.
 */
export class RedisBroker implements Broker {
  readonly nodeId: string;
  private readonly keys: RedisKeys;
  private readonly commands: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly registry: KeysetRegistry;
  private readonly clock: { nowMs(): number };
  private readonly log: RedisLog;
  private messagesHandler: (batch: readonly CommittedMessage[]) => void = () => {};
  private readonly controlHandlers: ((event: ControlEvent) => void)[] = [];
  private readonly resyncHandlers: (() => void)[] = [];
  private readonly healthWaiters = new Set<() => void>();
  private readonly pinging = new Set<RedisConnection>();
  private readonly healthTimer: NodeJS.Timeout;
  /** Bumped by every (re)connect and disconnect of the subscriber: a late SUBSCRIBE reply of an old link is ignored. */
  private subscribeEpoch = 0;
  private isSubscribed = false;
  private hasSubscribedBefore = false;
  private isClosed = false;
  /** Cut reads in flight, by subscribe key: handshakes that arrive meanwhile share one (handshakeTimetoken). */
  private readonly cuts = new Map<string, Promise<bigint>>();

  constructor(options: RedisBrokerOptions) {
    this.keys = new RedisKeys(options.prefix);
    this.nodeId = options.nodeId ?? randomBytes(8).toString('hex');
    this.clock = options.clock ?? { nowMs: () => Date.now() };
    this.log = options.log ?? NO_LOG;
    const common = {
      url: options.url,
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      log: this.log,
    };
    this.commands = new RedisConnection({ ...common, connectionName: `parley-cmd-${this.nodeId}`, scripts: [SCRIPTS.commit] });
    this.subscriber = new RedisConnection({ ...common, connectionName: `parley-sub-${this.nodeId}`, scripts: [] });
    this.registry = new KeysetRegistry(this.commands, this.keys.keysets);

    const sub = this.subscriber.client;
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => this.receiveBatch(channel, message));
    sub.on('message', (channel: string, message: string) => this.receiveControl(channel, message));
    sub.on('ready', () => void this.subscribe());
    sub.on('close', () => {
      this.subscribeEpoch++;
      this.isSubscribed = false;
    });
    this.commands.client.on('ready', () => this.notifyHealth());
    this.healthTimer = setInterval(() => this.checkLinks(), options.healthCheckIntervalMs ?? 5000);
    this.healthTimer.unref();
  }

  async commit(batch: readonly OutgoingMessage[]): Promise<bigint[]> {
    if (batch.length === 0) return [];
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'redis broker is closed');
    // The same row rules as MessageStore.append (the timetoken is ours, so any valid one stands in).
    validateMessageBatch(batch.filter((m) => m.store).map((m) => ({ ...m, publisher: m.publisher ?? '', timetoken: 0n })));
    const byKeyset = new Map<string, number[]>();
    batch.forEach((m, i) => {
      const positions = byKeyset.get(m.subscribeKey);
      if (positions === undefined) byKeyset.set(m.subscribeKey, [i]);
      else positions.push(i);
    });
    await this.registry.ensure(byKeyset.keys());
    const nowMs = Math.floor(this.clock.nowMs());
    const groups = [...byKeyset];
    const calls = groups.map(([subscribeKey, positions]) =>
      commitCall(
        this.keys.keyset(subscribeKey),
        positions.map((i) => batch[i]),
        nowMs,
      ),
    );
    const replies = (await this.commands.scripts('commit', calls)) as string[][];
    const timetokens = new Array<bigint>(batch.length);
    for (const [g, [, positions]] of groups.entries()) for (const [j, i] of positions.entries()) timetokens[i] = BigInt(replies[g][j]);
    return timetokens;
  }

  onMessages(handler: (batch: readonly CommittedMessage[]) => void): void {
    this.messagesHandler = handler;
  }

  /**
   * A subscribe handshake's cursor (docs/redis.md §Ordering): a cut of the keyset's commit order as a
   * current timetoken. Every message committed before the read has a timetoken <= it and every message
   * committed after it a greater one, whichever node's clock stamps it, because commit.lua stamps
   * nothing below the keyset's last timetoken + 1 or Redis's TIME: the cut is max(last, TIME - 100 ns),
   * read in one MULTI. A handshake that arrives while a read is in flight shares it: a cut read a moment
   * earlier may hand it a message committed in between, never hide one. STORE_UNAVAILABLE when Redis
   * does not answer.
   */
  handshakeTimetoken(subscribeKey: string): Promise<bigint> {
    let cut = this.cuts.get(subscribeKey);
    if (cut === undefined) {
      cut = this.readCut(subscribeKey).finally(() => this.cuts.delete(subscribeKey));
      this.cuts.set(subscribeKey, cut);
    }
    return cut;
  }

  private async readCut(subscribeKey: string): Promise<bigint> {
    const key = this.keys.keyset(subscribeKey).lastTimetoken;
    const [last, [seconds, micros]] = await this.commands.run('handshake', async (client) => {
      const replies = await client.multi().get(key).time().exec();
      if (replies === null) throw new Error('transaction discarded');
      for (const [err] of replies) if (err) throw err;
      return [replies[0][1], replies[1][1]] as [string | null, [string, string]];
    });
    const justBefore = BigInt(seconds) * 10_000_000n + BigInt(micros) * 10n - 1n;
    const committed = typeof last === 'string' ? BigInt(last) : 0n;
    return committed > justBefore ? committed : justBefore;
  }

  async broadcast(event: ControlEvent): Promise<void> {
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'redis broker is closed');
    const wire: ControlWire = { n: this.nodeId, e: event };
    await this.commands.run('broadcast', (client) => client.publish(this.keys.control, JSON.stringify(wire)));
  }

  onControl(handler: (event: ControlEvent) => void): void {
    this.controlHandlers.push(handler);
  }

  isHealthy(): boolean {
    return !this.isClosed && this.isSubscribed && this.commands.isReady && this.subscriber.isReady;
  }

  onResync(handler: () => void): void {
    this.resyncHandlers.push(handler);
  }

  async health(): Promise<HealthReport> {
    if (this.isClosed) return { ok: false, reason: 'redis broker is closed' };
    if (!this.commands.isReady) return { ok: false, reason: 'redis (broker command link) is unreachable' };
    if (!this.subscriber.isReady) return { ok: false, reason: 'redis (broker subscriber link) is unreachable' };
    if (!this.isSubscribed) return { ok: false, reason: 'redis broker is (re)subscribing' };
    if (!(await this.commands.answersPing(BROKER_HEALTH_TIMEOUT_MS))) return { ok: false, reason: 'redis (broker command link) does not answer' };
    return { ok: true };
  }

  /** Resolves once both links are up and subscribed (await it in start()); STORE_UNAVAILABLE after timeoutMs. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isHealthy()) {
      const remainingMs = deadline - Date.now();
      if (this.isClosed || remainingMs <= 0) throw new ParleyError('STORE_UNAVAILABLE', 'redis broker could not connect');
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.healthWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remainingMs);
        this.healthWaiters.add(done);
      });
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.isSubscribed = false;
    clearInterval(this.healthTimer);
    this.notifyHealth();
    await Promise.all([this.commands.close(), this.subscriber.close()]);
  }

  private async subscribe(): Promise<void> {
    const epoch = ++this.subscribeEpoch;
    try {
      await Promise.all([this.subscriber.client.psubscribe(this.keys.fanoutPattern), this.subscriber.client.subscribe(this.keys.control)]);
    } catch (err) {
      if (epoch !== this.subscribeEpoch || this.isClosed) return;
      this.log.error({ err }, 'redis subscribe failed');
      // Reconnecting retries the subscription through the 'ready' handler.
      this.subscriber.client.disconnect(true);
      return;
    }
    if (epoch !== this.subscribeEpoch || this.isClosed) return;
    this.isSubscribed = true;
    const isResync = this.hasSubscribedBefore;
    this.hasSubscribedBefore = true;
    this.notifyHealth();
    // Subscribed first, then reload: an event published during the reload is received, not lost.
    if (isResync) for (const handler of this.resyncHandlers) this.safely('resync handler', () => handler());
  }

  private receiveBatch(channel: string, text: string): void {
    if (this.isClosed || !this.keys.isFanoutChannel(channel)) return;
    let batch: CommittedMessage[];
    try {
      batch = decodeFanout(text);
    } catch (err) {
      this.log.error({ err, channel }, 'malformed fanout batch dropped');
      return;
    }
    this.safely('message handler', () => this.messagesHandler(batch));
  }

  private receiveControl(channel: string, text: string): void {
    if (this.isClosed || channel !== this.keys.control) return;
    let wire: ControlWire;
    try {
      wire = JSON.parse(text) as ControlWire;
    } catch (err) {
      this.log.error({ err }, 'malformed control event dropped');
      return;
    }
    if (wire.n === this.nodeId) return;
    for (const handler of this.controlHandlers) this.safely('control handler', () => handler(wire.e));
  }

  /** A throwing handler must not stop the subscriber from delivering the next batch. */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, `${what} failed`);
    }
  }

  private notifyHealth(): void {
    for (const done of [...this.healthWaiters]) done();
  }

  /** A link that stops answering (network partition, frozen server) is dropped so it reconnects. */
  private checkLinks(): void {
    for (const connection of [this.commands, this.subscriber]) {
      if (!connection.isReady || this.pinging.has(connection)) continue;
      this.pinging.add(connection);
      connection.client
        .ping()
        .catch((err: unknown) => {
          if (this.isClosed) return;
          this.log.warn({ err }, 'redis link unresponsive, reconnecting');
          connection.client.disconnect(true);
        })
        .finally(() => this.pinging.delete(connection));
    }
  }
}

function commitCall(ks: KeysetKeys, messages: readonly OutgoingMessage[], nowMs: number): ScriptCall {
  const t = channelTable(ks, [ks.lastTimetoken, ks.legacyLastTimetokens, ks.mexpChannels], messages, (m) => [
    m.store ? '1' : '0',
    encodeBody(m),
    expiryArg(m.expiresAtMs),
  ]);
  return { script: SCRIPTS.commit, keys: t.keys, args: [String(nowMs), ks.fanout, JSON.stringify(ks.subscribeKey), ...t.channelArgs, ...t.rowArgs] };
}
