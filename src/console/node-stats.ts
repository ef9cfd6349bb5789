import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { HealthReport, NodeSample } from '../store/types.ts';

/** The overview's window: 15 minutes of samples per node. */
export const STATS_WINDOW_MS = 15 * 60_000;
/** Denial codes one sample may carry (the error catalog has fewer; a bound for samples from other nodes). */
const MAX_DENIAL_CODES = 64;

/** Counters and gauges a sample is computed from (app.ts reads them from the node's metrics). */
export interface NodeFigures {
  parkedLongPolls: number;
  connections: number;
  /** Totals since start: the sample turns them into rates. */
  publishesTotal: number;
  deliveriesTotal: number;
}

export interface NodeStatsDeps {
  /** This node's name in the overview (the broker's node id on Redis). */
  nodeId: string;
  clock: Clock;
  /** console.sampleIntervalSec in ms. */
  intervalMs: number;
  figures: () => NodeFigures;
  health: () => Promise<HealthReport>;
  /** Tells the other nodes (Broker.broadcast of a `node-stats` event); a failure is logged, not fatal. */
  share: (sample: NodeSample) => Promise<void>;
  log: Logger;
}

export interface NodeSeries {
  nodeId: string;
  /** This node (the one that answered). */
  self: boolean;
  /** When its last sample arrived here (ms, this node's clock). */
  lastSeenMs: number;
  /** No sample for three intervals: the node may be gone or cut off from Redis. */
  stale: boolean;
  /** Oldest first, at most the last 15 minutes. */
  samples: NodeSample[];
}

export interface StatsView {
  nowMs: number;
  intervalMs: number;
  windowMs: number;
  nodes: NodeSeries[];
}

/** A fixed-size ring of samples, oldest dropped first. */
class SampleRing {
  private readonly items: NodeSample[] = [];

  constructor(private readonly capacity: number) {}

  push(sample: NodeSample): void {
    this.items.push(sample);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  list(): NodeSample[] {
    return this.items.slice();
  }

  get last(): NodeSample | undefined {
    return this.items[this.items.length - 1];
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** A sample from another node, checked field by field; undefined when it is not one. */
export function readSample(raw: unknown): NodeSample | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!isCount(r.t) || typeof r.ok !== 'boolean' || !isCount(r.parkedLongPolls) || !isCount(r.connections)) return undefined;
  if (!isCount(r.publishesPerSec) || !isCount(r.deliveriesPerSec)) return undefined;
  if (typeof r.denials !== 'object' || r.denials === null || Array.isArray(r.denials)) return undefined;
  const denials: Record<string, number> = {};
  const entries = Object.entries(r.denials as Record<string, unknown>);
  if (entries.length > MAX_DENIAL_CODES) return undefined;
  for (const [code, n] of entries) {
    if (!/^[A-Z_]{1,40}$/.test(code) || !isCount(n)) return undefined;
    denials[code] = n;
  }
  const sample: NodeSample = {
    t: r.t,
    ok: r.ok,
    parkedLongPolls: r.parkedLongPolls,
    connections: r.connections,
    publishesPerSec: r.publishesPerSec,
    deliveriesPerSec: r.deliveriesPerSec,
    denials,
  };
  if (typeof r.reason === 'string') sample.reason = r.reason.slice(0, 200);
  return sample;
}

/**
 * Each node's figures over the last 15 minutes for the operator console's overview
 * (GET /v1/admin/{sub}/stats). Every interval this node takes a sample (health, parked long-polls,
 * connections, publish and delivery rates, denials by code since the previous sample), keeps it in a
 * ring and tells the other nodes; their samples arrive through the broker and are kept the same way.
 * Memory: nodes × 15 min / interval samples (180 per node at 5 s). A node not heard from for the whole
 * window is forgotten.
 */
export class NodeStats {
  private readonly capacity: number;
  private readonly own: SampleRing;
  private readonly others = new Map<string, { ring: SampleRing; lastSeenMs: number }>();
  private denials = new Map<string, number>();
  private previous: { t: number; publishes: number; deliveries: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly o: NodeStatsDeps) {
    this.capacity = Math.ceil(STATS_WINDOW_MS / o.intervalMs) + 1;
    this.own = new SampleRing(this.capacity);
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** Takes the first sample now, then one per interval. */
  start(): void {
    if (this.timer !== undefined) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Counts one access denial (wired to the denials metric in app.ts). */
  recordDenial(code: string): void {
    this.denials.set(code, (this.denials.get(code) ?? 0) + 1);
  }

  private async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const sample = await this.sample();
      await this.o.share(sample).catch((err: unknown) => this.o.log.debug({ err }, 'node stats not shared'));
    } catch (err) {
      this.o.log.warn({ err }, 'node stats sample failed');
    } finally {
      this.sampling = false;
    }
  }

  /** Takes one sample of this node and keeps it. */
  async sample(): Promise<NodeSample> {
    const health = await this.o.health();
    const f = this.o.figures();
    const t = this.o.clock.nowMs();
    const previous = this.previous;
    // The node's clock may stand still (a test's fake clock): then the nominal interval stands in.
    const seconds = previous !== undefined && t > previous.t ? (t - previous.t) / 1000 : this.o.intervalMs / 1000;
    const rate = (now: number, before: number | undefined): number => (before === undefined ? 0 : Math.max(0, now - before) / seconds);
    const denials = Object.fromEntries(this.denials);
    this.denials = new Map();
    const sample: NodeSample = {
      t,
      ok: health.ok,
      parkedLongPolls: f.parkedLongPolls,
      connections: f.connections,
      publishesPerSec: round(rate(f.publishesTotal, previous?.publishes)),
      deliveriesPerSec: round(rate(f.deliveriesTotal, previous?.deliveries)),
      denials,
    };
    if (!health.ok && health.reason !== undefined) sample.reason = health.reason;
    this.previous = { t, publishes: f.publishesTotal, deliveries: f.deliveriesTotal };
    this.own.push(sample);
    return sample;
  }

  /** Another node's sample (ControlEvent `node-stats`); malformed ones are dropped. */
  receive(nodeId: string, raw: unknown): void {
    const sample = readSample(raw);
    if (sample === undefined || typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 64 || nodeId === this.o.nodeId) {
      this.o.log.debug({ nodeId: String(nodeId).slice(0, 64) }, 'malformed node stats dropped');
      return;
    }
    let entry = this.others.get(nodeId);
    if (entry === undefined) this.others.set(nodeId, (entry = { ring: new SampleRing(this.capacity), lastSeenMs: 0 }));
    entry.ring.push(sample);
    entry.lastSeenMs = this.o.clock.nowMs();
  }

  /** This node first, then the others by id. */
  view(): StatsView {
    const nowMs = this.o.clock.nowMs();
    const staleAfterMs = 3 * this.o.intervalMs;
    const nodes: NodeSeries[] = [{ nodeId: this.o.nodeId, self: true, lastSeenMs: this.own.last?.t ?? nowMs, stale: false, samples: this.own.list() }];
    for (const [nodeId, entry] of [...this.others].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (nowMs - entry.lastSeenMs > STATS_WINDOW_MS) {
        this.others.delete(nodeId);
        continue;
      }
      nodes.push({ nodeId, self: false, lastSeenMs: entry.lastSeenMs, stale: nowMs - entry.lastSeenMs > staleAfterMs, samples: entry.ring.list() });
    }
    return { nowMs, intervalMs: this.o.intervalMs, windowMs: STATS_WINDOW_MS, nodes };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
