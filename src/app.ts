import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config/schema.ts';
import { demoKeyset } from './config/demo-keyset.ts';
import type { Keyset } from './keyset.ts';
import type { Logger } from './log.ts';
import { Metrics, createParleyMetrics } from './metrics.ts';
import { AccessManager } from './access/access-manager.ts';
import { requirementsFor } from './access/enforcement.ts';
import { SecretRotation } from './access/secret-rotation.ts';
import { keysetFromConfig } from './config/keyset-from-config.ts';
import { NodeStats } from './console/node-stats.ts';
import { consolePolicy, serveConsoleFile } from './console/serve.ts';
import { ObjectService } from './app-context/object-service.ts';
import { ChannelGroupService } from './realtime/channel-groups.ts';
import { Hub } from './realtime/hub.ts';
import { PresenceService } from './realtime/presence.ts';
import { PublishPipeline } from './realtime/publish.ts';
import { LocalBroker } from './realtime/local-broker.ts';
import { SubscriptionService } from './realtime/subscription.ts';
import { TimetokenGenerator } from './realtime/timetoken.ts';
import { storesFromConfig } from './store/index.ts';
import type { AccessChange, Decision } from './access/types.ts';
import { MAX_TOKEN_TTL_MINUTES } from './access/token/grant-body.ts';
import { RedisBroker } from './store/redis/index.ts';
import type { Broker, ControlEvent, HealthReport, Stores } from './store/types.ts';

const UNAVAILABLE: Decision = {
  allowed: false,
  code: 'STORE_UNAVAILABLE',
  missing: { channels: [], groups: [], uuids: [] },
  message: 'the link to the other nodes is down; access cannot be verified',
};
import { createHttpServer, type Fallback } from './protocol/server.ts';
import { ClientLimits } from './protocol/client-limits.ts';
import type { Services } from './protocol/services.ts';
import { allRoutes } from './protocol/routes/index.ts';

export interface ParleyOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Provide stores directly (tests, other engines); otherwise built from config.store. */
  stores?: Stores;
  /** Extra HTTP handlers (the demo). */
  fallbacks?: Fallback[];
}

export interface Parley {
  readonly services: Services;
  readonly keysets: readonly Keyset[];
  readonly usingDemoKeyset: boolean;
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
  addFallback(fb: Fallback): void;
}

/** The composition root: the only place that picks implementations and wires components. */
export function createParley(options: ParleyOptions): Parley {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const usingDemoKeyset = config.keysets.length === 0;
  // Fresh objects, never the frozen config: a runtime secret rotation updates them in place (access/secret-rotation.ts).
  const keysets: Keyset[] = usingDemoKeyset ? [demoKeyset(config.store.kind === 'sqlite' ? config.dataDir : null)] : config.keysets.map(keysetFromConfig);

  const engine = config.store.kind;
  const redisLog = log.child({ component: 'redis' });
  const stores = options.stores ?? storesFromConfig(config, redisLog);
  const metrics = new Metrics();
  const counters = createParleyMetrics(metrics);
  // Denials by code also feed the operator console's overview (nodeStats, below).
  const m: typeof counters = {
    ...counters,
    denials: (labels, by) => {
      counters.denials(labels, by);
      if (labels?.code !== undefined) nodeStats.recordDenial(labels.code);
    },
  };
  const timetokens = new TimetokenGenerator(clock);
  const bootTimetoken = timetokens.now();
  const hub = new Hub({
    bufferPerChannel: config.subscribe.bufferPerChannel,
    bufferMaxAgeMs: config.subscribe.bufferMaxAgeSec * 1000,
    floor: () => bootTimetoken,
  });
  const region = config.subscribe.region;
  const broker: Broker =
    engine === 'redis'
      ? new RedisBroker({ url: config.redis.url, prefix: config.redis.prefix, clock, log: redisLog })
      : new LocalBroker({ messages: stores.messages, timetokens });
  const pipeline = new PublishPipeline({ broker, hub, log: log.child({ component: 'publish' }), region, observe: (tt) => timetokens.observe(tt) });
  const groups = new ChannelGroupService(stores.channelGroups);
  const subscriptions = new SubscriptionService({
    hub, messages: stores.messages, groups, timetokens, log: log.child({ component: 'subscribe' }),
    longPollTimeoutMs: config.subscribe.longPollTimeoutSec * 1000, maxPerAnswer: config.subscribe.maxMessagesPerResponse,
    maxSourcesPerSubscription: config.limits.maxChannelsPerSubscription, maxSourcesPerNode: config.limits.maxSubscribedChannelsPerNode,
    region, nowMs: () => clock.nowMs(),
  });
  const presence = new PresenceService({
    store: stores.presence, hub, clock, log: log.child({ component: 'presence' }),
    publish: (input) => pipeline.publish(input),
    defaultTimeoutSec: config.presence.defaultTimeoutSec, sweepIntervalMs: config.presence.sweepIntervalMs,
  });
  const objects = new ObjectService({
    store: stores.objects, publish: (m) => pipeline.publish(m), clock, log: log.child({ component: 'objects' }),
  });
  const access = new AccessManager({
    grants: stores.grants, denyList: stores.denyList, clock, log: log.child({ component: 'access' }), keysets,
    signatureWindowSec: config.access.signatureWindowSec, acceptV1Signatures: config.access.acceptV1Signatures, tokenCacheSize: config.access.tokenCacheSize,
  });

  const rotation = new SecretRotation({ store: stores.secretRotations, keysets, clock, log: log.child({ component: 'secrets' }) });
  // A rotation (here or on another node) or the end of its window: cached tokens are verified again and
  // parked subscribers re-checked, so what only the old secret verified is refused once it stops.
  rotation.onChange((subscribeKey, change, origin) => {
    access.forgetVerifiedTokens(subscribeKey);
    for (const w of hub.waiters(subscribeKey)) w.recheckAccess();
    if (origin === 'local' && change === 'rotated') {
      broker.broadcast({ kind: 'secret-rotated', subscribeKey }).catch((err) => log.error({ err }, 'secret rotation broadcast failed'));
    }
  });

  // Open subscriptions are re-checked the moment access changes, here or on another node.
  access.onChange((change, origin) => {
    for (const w of hub.waiters(change.subscribeKey)) w.recheckAccess();
    if (origin === 'local') {
      const event: ControlEvent =
        change.kind === 'token-revoked'
          ? { ...change, expiresAtMs: clock.nowMs() + MAX_TOKEN_TTL_MINUTES * 60_000 }
          : change;
      broker.broadcast(event).catch((err) => log.error({ err, kind: change.kind }, 'access change broadcast failed'));
    }
  });
  const interruptGroup = (subscribeKey: string, group: string): void => {
    for (const w of hub.waiters(subscribeKey)) {
      if (w.groups.includes(group) || w.groups.includes(`${group}-pnpres`)) w.interrupt();
    }
  };
  groups.onChange((subscribeKey, group, origin) => {
    interruptGroup(subscribeKey, group);
    if (origin === 'local') {
      broker.broadcast({ kind: 'group-changed', subscribeKey, group }).catch((err) => log.error({ err }, 'group change broadcast failed'));
    }
  });
  broker.onControl((event) => {
    if (event.kind === 'group-changed') groups.changed(event.subscribeKey, event.group, 'remote');
    else if (event.kind === 'token-revoked' || event.kind === 'grants-changed' || event.kind === 'uuid-kicked') {
      const change: AccessChange = event.kind === 'token-revoked' ? { kind: event.kind, subscribeKey: event.subscribeKey, tokenId: event.tokenId } : event;
      access.applyRemoteChange(change).catch((err) => log.error({ err }, 'applying a remote access change failed'));
    } else if (event.kind === 'secret-rotated') {
      rotation.reload(event.subscribeKey).catch((err) => log.error({ err }, 'applying a remote secret rotation failed'));
    } else if (event.kind === 'node-stats') {
      nodeStats.receive(event.nodeId, event.sample);
    }
  });
  // After a gap in the link to other nodes, their events may be lost: reload every mirror.
  // Until the mirrors are reloaded after a gap they may miss revocations: secured keysets stay closed.
  let resyncing = false;
  let resyncGeneration = 0;
  const reloadAccess = (generation: number): void => {
    Promise.all([access.resync(), ...keysets.map((k) => rotation.reload(k.subscribeKey))]).then(
      () => {
        // A later gap started its own reload: only the newest one reopens.
        if (generation === resyncGeneration) resyncing = false;
      },
      (err) => {
        log.error({ err }, 'access resync failed; retrying');
        setTimeout(() => reloadAccess(generation), 1000).unref();
      },
    );
  };
  broker.onResync(() => {
    resyncing = true;
    const generation = ++resyncGeneration;
    groups.clearCache();
    // Messages committed during the gap never reached this node's memory: cover only from a moment
    // ahead (other nodes' clocks may lead) and let every parked poll re-poll, reading the gap from history.
    hub.invalidateCoverage(timetokens.now() + 10_000_000n);
    for (const k of keysets) for (const w of hub.waiters(k.subscribeKey)) w.interrupt();
    reloadAccess(generation);
  });

  const nodeStats = new NodeStats({
    nodeId: broker instanceof RedisBroker ? broker.nodeId : `node-${process.pid}`,
    clock,
    intervalMs: config.console.sampleIntervalSec * 1000,
    figures: () => ({
      parkedLongPolls: hub.parkedCount(),
      connections,
      publishesTotal: metrics.value('parley_publishes_total'),
      deliveriesTotal: metrics.value('parley_deliveries_total'),
    }),
    health: () => readiness(),
    share: (sample) => broker.broadcast({ kind: 'node-stats', nodeId: nodeStats.nodeId, sample }),
    log: log.child({ component: 'node-stats' }),
  });
  const services: Services = {
    config, keysets: new Map(keysets.map((k) => [k.subscribeKey, k])),
    access: {
      // Fail closed: while this node may be missing other nodes' revocations, secured keysets get a 503.
      check: (r) => ((broker.isHealthy() && !resyncing) || !r.keyset.secretKey ? access.check(r) : UNAVAILABLE),
      recheck: (c, k, u, r) => access.recheck(c, k, u, r),
      canRead: (c, k, u, ch) => access.canRead(c, k, u, ch),
      requirementsFor,
    },
    admin: access,
    secrets: rotation,
    nodeStats,
    pipeline, subscriptions, presence, groups, objects, messages: stores.messages, messageActions: stores.messageActions, files: stores.files, hub, timetokens, clock, metrics, m, log,
    openPolls: new Set(),
    clientLimits: new ClientLimits({ ...config.limits, onRefusal: (labels) => m.capRefusals(labels) }),
    ready: () => readiness(),
  };
  // Readiness (/health): serving, the broker and the store answer, and the access mirrors are not reloading.
  let isServing = false;
  const readiness = async (): Promise<HealthReport> => {
    if (!isServing) return { ok: false, reason: 'not serving (starting or shutting down)' };
    const [brokerHealth, storeHealth] = await Promise.all([broker.health(), stores.health()]);
    if (!brokerHealth.ok) return brokerHealth;
    if (!storeHealth.ok) return storeHealth;
    if (resyncing) return { ok: false, reason: 'reloading the access mirrors after a gap in the link to the other nodes' };
    return { ok: true };
  };
  metrics.gauge('parley_long_polls_parked', 'Long-polls currently parked', () => hub.parkedCount());
  metrics.gauge('parley_connections', 'Open HTTP connections', () => connections);
  metrics.gauge('parley_subscribed_channels', 'Channels all open long-polls listen on (limits.maxSubscribedChannelsPerNode)', () => subscriptions.subscribedChannels);

  const fallbacks = [...(options.fallbacks ?? [])];
  // docs/security.md "Operator console, kick and rotation": static files only; every call it makes is signed.
  if (consolePolicy(config).enabled) fallbacks.push(serveConsoleFile);
  const server: Server = createHttpServer({ routes: allRoutes, services, fallbacks });
  let connections = 0;
  let inFlight = 0;
  // One listener function for every request and connection (each closes once): nothing allocated per request.
  const requestClosed = (): void => void inFlight--;
  const connectionClosed = (): void => void connections--;
  server.on('request', (_req, res) => {
    inFlight++;
    res.on('close', requestClosed);
  });
  server.on('connection', (socket) => {
    connections++;
    socket.setNoDelay(true);
    socket.on('close', connectionClosed);
  });

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown> | void, what: string): void => {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err) => log.error({ err }, `${what} failed`));
    }, ms);
    t.unref();
    timers.push(t);
  };

  return {
    services,
    keysets,
    usingDemoKeyset,
    addFallback: (fb) => fallbacks.push(fb),
    async start() {
      await broker.ready();
      await rotation.start();
      await access.start();
      presence.start();
      every(10_000, () => hub.sweep(timetokens.now()), 'buffer sweep');
      every(60_000, () => stores.messages.purgeExpired(clock.nowMs()), 'history purge');
      every(60_000, () => stores.denyList.purgeExpired(clock.nowMs()), 'denylist purge');
      every(60_000, () => access.refreshEpoch(), 'denylist epoch check');
      every(60_000, () => stores.grants.purgeExpired(clock.nowMs()), 'grant purge');
      every(1000, () => rotation.retireExpired(), 'rotation window check');
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      isServing = true;
      nodeStats.start();
      const port = (server.address() as AddressInfo).port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      if (consolePolicy(config).enabled) log.info({ url: `http://${host}:${port}/console/` }, 'operator console');
      return { port, url: `http://${host}:${port}` };
    },
    async stop() {
      isServing = false;
      // preClose: stop accepting, answer parked long-polls so clients reconnect elsewhere, then close stores.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const p of [...services.openPolls]) p.interrupt();
      // Parked subscribe long-polls are the hub's (the subscribe route keeps them out of openPolls).
      for (const w of [...hub.waiters()]) w.interrupt();
      server.closeIdleConnections();
      await pipeline.drain();
      for (const t of timers) clearInterval(t);
      nodeStats.close();
      presence.close();
      // Once no request is in flight, every remaining socket is idle or has not sent a request yet.
      const started = Date.now();
      const sweep = setInterval(() => {
        if (inFlight === 0 || Date.now() - started > 5000) server.closeAllConnections();
        else server.closeIdleConnections();
      }, 20);
      await closed;
      clearInterval(sweep);
      access.close();
      await broker.close();
      await stores.close();
    },
  };
}
