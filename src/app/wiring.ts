import { AccessManager } from '../access/access-manager.ts';
import { requirementsFor } from '../access/enforcement.ts';
import { SecretRotation } from '../access/secret-rotation.ts';
import { ObjectService } from '../app-context/object-service.ts';
import { systemClock, type Clock } from '../clock.ts';
import { demoKeyset } from '../config/demo-keyset.ts';
import { keysetFromConfig } from '../config/keyset-from-config.ts';
import type { Config } from '../config/schema.ts';
import { NodeStats } from '../console/node-stats.ts';
import { consolePolicy, serveConsoleFile } from '../console/serve.ts';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import { Metrics, createParleyMetrics, type MetricsRegistry, type ParleyMetrics, type ScrapeSource } from '../metrics.ts';
import { ClientLimits } from '../protocol/client-limits.ts';
import { allRoutes } from '../protocol/routes/index.ts';
import { createHttpServer, type Fallback } from '../protocol/server.ts';
import type { Services } from '../protocol/services.ts';
import { AnswerEncoder } from '../protocol/wire.ts';
import { ChannelGroupService } from '../realtime/channel-groups.ts';
import { FileService } from '../realtime/files.ts';
import { Hub } from '../realtime/hub.ts';
import { MessageActionService } from '../realtime/message-actions.ts';
import { PresenceService } from '../realtime/presence.ts';
import { PublishPipeline } from '../realtime/publish.ts';
import { SubscriptionService } from '../realtime/subscription.ts';
import { TimetokenGenerator } from '../realtime/timetoken.ts';
import { backendsFromConfig } from '../store/index.ts';
import type { Broker, HealthReport, Stores } from '../store/types.ts';
import { ClusterSync } from './cluster-sync.ts';
import { HttpListener } from './http-listener.ts';

/** What the node is built from (app.ts exports it as ParleyOptions). */
export interface WiringOptions {
  config: Config;
  log: Logger;
  /** Default systemClock. */
  clock?: Clock;
  /** Provide stores directly (tests, other engines); otherwise backendsFromConfig builds them from config.store. */
  stores?: Stores;
  /** Extra HTTP handlers (the demo), tried after the routes. */
  fallbacks?: Fallback[];
  /** Where /metrics reads from, given this server's registries; default: this process alone (a cluster worker: cluster-metrics.ts). */
  metricsSource?: (registries: MetricsRegistry[]) => ScrapeSource;
}

/** The node's components, built and connected but not started: lifecycle.ts starts and stops them. */
export interface Wiring {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Fresh objects, never the frozen config's: a runtime secret rotation updates them in place. */
  keysets: Keyset[];
  /** No keyset was configured: the demo keyset serves. */
  usingDemoKeyset: boolean;
  stores: Stores;
  broker: Broker;
  timetokens: TimetokenGenerator;
  hub: Hub;
  pipeline: PublishPipeline;
  presence: PresenceService;
  access: AccessManager;
  rotation: SecretRotation;
  nodeStats: NodeStats;
  sync: ClusterSync;
  services: Services;
  listener: HttpListener;
  /** The HTTP server reads this list on every unmatched request: handlers pushed later are served too. */
  fallbacks: Fallback[];
  /**
   * Once the broker receives (after ready()): memory claims to hold only what is committed from now on,
   * so the hub's coverage starts at the commit-order cut of every keyset (Broker.handshakeTimetoken),
   * not at this node's clock. A cursor handed out by a node whose clock (or Redis's) runs ahead of this
   * one's, between this node's start and the cut, then reads history instead of an empty memory.
   */
  coverFromNow(): Promise<void>;
}

/**
 * Builds every component from the config and the backends backendsFromConfig picks, connects them, and
 * assembles the Services the routes use. Nothing is started and no port is opened (the SQLite file is,
 * by backendsFromConfig). The only place that chooses implementations, with store/index.ts.
 */
export function wire(options: WiringOptions): Wiring {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const usingDemoKeyset = config.keysets.length === 0;
  const keysets: Keyset[] = usingDemoKeyset ? [demoKeyset(config.store.kind === 'sqlite' ? config.dataDir : null)] : config.keysets.map(keysetFromConfig);

  const metrics = new Metrics();
  if (options.metricsSource) metrics.scrapeFrom(options.metricsSource(metrics.registries()));
  const timetokens = new TimetokenGenerator(clock);
  let coverageFloor = timetokens.now();
  const hub = new Hub({
    bufferPerChannel: config.subscribe.bufferPerChannel,
    bufferMaxAgeMs: config.subscribe.bufferMaxAgeSec * 1000,
    floor: () => coverageFloor,
    onWakeError: (err) => log.error({ err }, 'a woken long-poll failed to answer'),
  });
  const region = config.subscribe.region;
  const { stores, broker } = backendsFromConfig(config, { clock, timetokens, log: log.child({ component: 'redis' }), stores: options.stores });
  const pipeline = new PublishPipeline({ broker, hub, log: log.child({ component: 'publish' }), region, observe: (tt) => timetokens.observe(tt) });
  const groups = new ChannelGroupService(stores.channelGroups);
  const subscriptions = new SubscriptionService({
    hub,
    messages: stores.messages,
    handshakes: broker,
    groups,
    timetokens,
    log: log.child({ component: 'subscribe' }),
    longPollTimeoutMs: config.subscribe.longPollTimeoutSec * 1000,
    maxPerAnswer: config.subscribe.maxMessagesPerResponse,
    maxSourcesPerSubscription: config.limits.maxChannelsPerSubscription,
    maxSourcesPerNode: config.limits.maxSubscribedChannelsPerNode,
    region,
    nowMs: () => clock.nowMs(),
  });
  const presence = new PresenceService({
    store: stores.presence,
    hub,
    clock,
    log: log.child({ component: 'presence' }),
    publish: (input) => pipeline.publish(input),
    defaultTimeoutSec: config.presence.defaultTimeoutSec,
    maxTimeoutSec: config.presence.maxTimeoutSec,
    sweepIntervalMs: config.presence.sweepIntervalMs,
  });
  const objects = new ObjectService({ store: stores.objects, publish: (m) => pipeline.publish(m), clock, log: log.child({ component: 'objects' }) });
  const messageActions = new MessageActionService({
    store: stores.messageActions,
    publish: (m) => pipeline.publish(m),
    timetokens,
    log: log.child({ component: 'message-actions' }),
    maxValueBytes: config.limits.maxMessageBytes,
  });
  const files = new FileService({ store: stores.files, publish: (m) => pipeline.publish(m), clock, retentionHours: config.history.retentionHours });
  const access = new AccessManager({
    grants: stores.grants,
    denyList: stores.denyList,
    clock,
    log: log.child({ component: 'access' }),
    keysets,
    signatureWindowSec: config.access.signatureWindowSec,
    acceptV1Signatures: config.access.acceptV1Signatures,
    tokenCacheSize: config.access.tokenCacheSize,
  });
  const rotation = new SecretRotation({ store: stores.secretRotations, keysets, clock, log: log.child({ component: 'secrets' }) });

  // NodeStats, ClusterSync, readiness and the listener refer to each other; each reference below is read
  // only once the node runs (a sample, a readiness check, a broadcast), after all of them exist.
  const nodeStats = new NodeStats({
    nodeId: broker.nodeId,
    clock,
    intervalMs: config.console.sampleIntervalSec * 1000,
    figures: () => ({
      parkedLongPolls: hub.parkedCount(),
      connections: listener.connections,
      publishesTotal: metrics.value('parley_publishes_total'),
      deliveriesTotal: metrics.value('parley_deliveries_total'),
    }),
    health: () => readiness(),
    share: (sample) => sync.shareNodeStats(sample),
    log: log.child({ component: 'node-stats' }),
  });
  const sync = new ClusterSync({ broker, access, rotation, groups, hub, nodeStats, timetokens, keysets, clock, log });

  /** Readiness (/health): serving, the broker and the store answer, and the access mirrors are not reloading. */
  const readiness = async (): Promise<HealthReport> => {
    if (!listener.isServing) return { ok: false, reason: 'not serving (starting or shutting down)' };
    const [brokerHealth, storeHealth] = await Promise.all([broker.health(), stores.health()]);
    if (!brokerHealth.ok) return brokerHealth;
    if (!storeHealth.ok) return storeHealth;
    return sync.mirrorHealth();
  };

  const m = withConsoleDenials(createParleyMetrics(metrics), nodeStats);
  const services: Services = {
    config,
    keysets: new Map(keysets.map((k) => [k.subscribeKey, k])),
    access: {
      // Fail closed: while this node may be missing other nodes' revocations, secured keysets get a 503.
      check: sync.check,
      recheck: (c, k, u, r) => access.recheck(c, k, u, r),
      canRead: (c, k, u, ch) => access.canRead(c, k, u, ch),
      requirementsFor,
    },
    admin: access,
    secrets: rotation,
    nodeStats,
    pipeline,
    subscriptions,
    answers: new AnswerEncoder(region),
    presence,
    groups,
    objects,
    messages: stores.messages,
    messageActions,
    files,
    hub,
    timetokens,
    clock,
    metrics,
    m,
    log,
    openPolls: new Set(),
    clientLimits: new ClientLimits({ ...config.limits, onRefusal: (labels) => m.capRefusals(labels) }),
    ready: () => readiness(),
  };

  const fallbacks = [...(options.fallbacks ?? [])];
  // docs/security.md "Operator console, kick and rotation": static files only; every call it makes is signed.
  if (consolePolicy(config).enabled) fallbacks.push(serveConsoleFile);
  const listener = new HttpListener(createHttpServer({ routes: allRoutes, services, fallbacks }));
  metrics.gauge('parley_long_polls_parked', 'Long-polls currently parked', () => hub.parkedCount());
  metrics.gauge('parley_connections', 'Open HTTP connections', () => listener.connections);
  metrics.gauge(
    'parley_subscribed_channels',
    'Channels all open long-polls listen on (limits.maxSubscribedChannelsPerNode)',
    () => subscriptions.subscribedChannels,
  );

  return {
    config,
    log,
    clock,
    keysets,
    usingDemoKeyset,
    stores,
    broker,
    timetokens,
    hub,
    pipeline,
    presence,
    access,
    rotation,
    nodeStats,
    sync,
    services,
    listener,
    fallbacks,
    async coverFromNow() {
      const cuts = await Promise.all(keysets.map((k) => broker.handshakeTimetoken(k.subscribeKey)));
      for (const cut of cuts) if (cut > coverageFloor) coverageFloor = cut;
      timetokens.observe(coverageFloor);
      hub.invalidateCoverage(coverageFloor);
    },
  };
}

/** The metrics with denials by code also counted for the operator console's overview. */
function withConsoleDenials(counters: ParleyMetrics, nodeStats: Pick<NodeStats, 'recordDenial'>): ParleyMetrics {
  return {
    ...counters,
    denials: (labels, by) => {
      counters.denials(labels, by);
      if (labels?.code !== undefined) nodeStats.recordDenial(labels.code);
    },
  };
}
