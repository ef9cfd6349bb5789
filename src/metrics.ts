import { collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';

/**
 * Parley's Prometheus metrics, on prom-client: one registry per server for Parley's own series, and the
 * process's (CPU, memory, heap, GC, event-loop lag) from collectDefaultMetrics, rendered with them on
 * every scrape. docs/metrics.md lists every series with its labels and buckets.
 */
export type Labels = Readonly<Record<string, string>>;

/** Counts one event (or `by` of them) for a label set: the `m.xxx(labels)` calls across src/. */
export type Count = (labels?: Labels, by?: number) => void;

/**
 * parley_request_duration_seconds, in seconds: from 0.5 ms (a publish or /time on a LAN answers in well
 * under a millisecond) through the store's and Redis's few milliseconds to 10 s (a large upload, a store
 * that stalls); past 10 s is +Inf.
 */
export const REQUEST_SECONDS_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * parley_publish_to_deliver_seconds, in seconds. Timetokens and the clock count whole milliseconds here,
 * so the first bucket is 1 ms; 2.5 ms to 100 ms is a healthy fan-out (in-process or over Redis), up to
 * 10 s a slow one, and 30 s / 60 s separate a reconnect gap from a catch-up after a longer absence.
 */
export const DELIVERY_SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One label set's counts (HotHistogram.cell): what observe() touches. */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last is past the highest bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A counter, registered in prom-client's registry as a custom metric and rendered by it exactly as its
 * own Counter is (test/unit/metrics.test.ts compares the scrape). Why not prom-client's Counter: its
 * inc() checks the label names and hashes the label set on every call, and it has no synchronous
 * reader (value() here). Label sets are keyed by their values in labelNames' order; the names are
 * checked when a label set is first seen.
 */
export class HotCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(labels: Labels | undefined, by: number): void {
    if (!Number.isFinite(by) || by < 0) throw new TypeError(`${this.name}: a counter only goes up (got ${by})`);
    const names = this.labelNames;
    const key = names.length === 0 ? '' : names.length === 1 ? (labels?.[names[0]] ?? '') : names.map((n) => labels?.[n] ?? '').join('\u0000');
    let cell = this.cells.get(key);
    if (cell === undefined) {
      for (const k of Object.keys(labels ?? {})) if (!names.includes(k)) throw new Error(`${this.name} has no label "${k}"`);
      const own: Record<string, string> = {};
      for (const n of names) if (labels?.[n] !== undefined) own[n] = labels[n];
      this.cells.set(key, (cell = { labels: own, value: 0 }));
    }
    cell.value += by;
  }

  /** The total over the label sets that include `labels` (all of them without). */
  total(labels?: Labels): number {
    let sum = 0;
    for (const cell of this.cells.values()) {
      if (labels === undefined || Object.keys(labels).every((k) => cell.labels[k] === labels[k])) sum += cell.value;
    }
    return sum;
  }

  /** What prom-client's registry renders: one row per label set (an unlabelled counter shows 0 before its first inc). */
  getForPromString(): { name: string; help: string; type: string; values: ValueRow[]; aggregator: string } {
    const values: ValueRow[] = [];
    if (this.labelNames.length === 0 && this.cells.size === 0) values.push({ labels: {}, value: 0, metricName: this.name });
    for (const cell of this.cells.values()) values.push({ labels: { ...cell.labels }, value: cell.value, metricName: this.name });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  async get(): Promise<ReturnType<HotCounter['getForPromString']>> {
    return this.getForPromString();
  }

  reset(): void {
    this.cells.clear();
  }
}

/** A row of a metric's values, as prom-client's registry renders them. */
interface ValueRow {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName: string;
}

/**
 * A histogram with one label, for the per-answer path, registered in prom-client's registry as a custom
 * metric (Registry.registerMetric takes any object with a name and get()) and rendered by it exactly as
 * its own Histogram is (test/unit/metrics.test.ts compares the scrape).
 *
 * Why not prom-client's Histogram there: its observe() checks the label names, hashes the label set and
 * finds the bucket by the bound's string key on every call. At one or two observations per subscribe
 * answer that was 5% of the server's CPU in the fan-out profile (docs/performance.md). Here a label
 * set's cell is looked up once by the caller (cell()), and observe() is a scan of the bounds and three
 * additions.
 */
export class HotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell>();
  private readonly bounds: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    buckets: readonly number[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
  }

  /** The cell of one label value, made on first use. */
  cell(labelValue: string): HistogramCell {
    let c = this.cells.get(labelValue);
    if (c === undefined) this.cells.set(labelValue, (c = new HistogramCell(this.bounds)));
    return c;
  }

  /** What prom-client's registry renders: cumulative buckets, +Inf, sum and count per label value. */
  getForPromString(): { name: string; help: string; type: string; values: ValueRow[]; aggregator: string } {
    const values: ValueRow[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const [labelValue, c] of this.cells) {
      const shared = { [this.labelName]: labelValue };
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: shared, value: acc, metricName: bucketName });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: c.count, metricName: bucketName });
      values.push({ labels: {}, sharedLabels: shared, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: shared, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** As prom-client's get(): the same rows with every label in `labels`. */
  async get(): Promise<ReturnType<HotHistogram['getForPromString']>> {
    const data = this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({ labels: { ...labels, ...sharedLabels }, value, metricName }));
    return data;
  }

  reset(): void {
    this.cells.clear();
  }
}

/** A registry of series, as ScrapeSource makers are given them (prom-client stays behind this module and cluster-metrics.ts). */
export type MetricsRegistry = Registry;

/** Where a scrape's text comes from when not from this process alone (a cluster worker: cluster-metrics.ts). */
export interface ScrapeSource {
  render(): Promise<string>;
}

let processRegistry: Registry | undefined;

/**
 * The process's series, collected once per process however many servers it runs (tests run several):
 * collectDefaultMetrics installs a GC observer and an event-loop delay monitor that cannot be removed, so
 * one set per server would pile them up, and they describe the process, not a server. No prefix:
 * `process_*` and `nodejs_*` are the names every Prometheus client library and the usual Node.js
 * dashboards use; the scrape's `job` label already says they are Parley's.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  /** This server's own series; the process's are added when rendering (render). */
  private readonly registry = new Registry();
  private readonly counters = new Map<string, HotCounter>();
  private readonly gauges = new Map<string, () => number>();
  private source: ScrapeSource | null = null;

  constructor() {
    // Started with the first server, so process_cpu_* count from then.
    processMetrics();
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Count {
    const c = new HotCounter(name, help, labelNames);
    this.registry.registerMetric(c as unknown as Metric);
    this.counters.set(name, c);
    return (labels, by = 1) => c.inc(labels, by);
  }

  /** A gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
    this.gauges.set(name, read);
  }

  /** A histogram with one label, for the per-answer path (HotHistogram). */
  histogram(name: string, help: string, labelName: string, buckets: readonly number[]): HotHistogram {
    const h = new HotHistogram(name, help, labelName, buckets);
    this.registry.registerMetric(h as unknown as Metric);
    return h;
  }

  /** A counter's total over the label sets that include `labels` (all of them without), or a gauge's value. */
  value(name: string, labels?: Labels): number {
    const read = this.gauges.get(name);
    if (read !== undefined) return read();
    return this.counters.get(name)?.total(labels) ?? 0;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registries a scrape of this process renders: the process's series and this server's. */
  registries(): Registry[] {
    return [processMetrics(), this.registry];
  }

  /** Scrapes render `source` instead of this process's series alone (a cluster worker: the node's aggregate). */
  scrapeFrom(source: ScrapeSource): void {
    this.source = source;
  }

  /** The text exposition of this server's series and the process's, or of the scrape source's. */
  render(): Promise<string> {
    if (this.source !== null) return this.source.render();
    return Registry.merge(this.registries()).metrics();
  }
}

/** The series Parley exports; created once per server. */
export function createParleyMetrics(m: Metrics) {
  const requestDuration = m.histogram(
    'parley_request_duration_seconds',
    "From a request's arrival to its answer, by endpoint (method and route path); parked long-polls are not observed (their time is the hold)",
    'endpoint',
    REQUEST_SECONDS_BUCKETS,
  );
  // One cell per route, looked up on its first request: the key is the route's own label object (server.ts).
  const byRoute = new WeakMap<{ readonly endpoint: string }, HistogramCell>();
  const publishToDeliver = m.histogram(
    'parley_publish_to_deliver_seconds',
    "From a message's timetoken to the subscribe answer carrying it, once per answer (its oldest message), by whether the poll was parked",
    'poll',
    DELIVERY_SECONDS_BUCKETS,
  );
  const parked = publishToDeliver.cell('parked');
  const immediate = publishToDeliver.cell('immediate');
  return {
    requests: m.counter('parley_requests_total', 'HTTP requests by route', ['route']),
    publishes: m.counter('parley_publishes_total', 'Accepted publishes and signals', ['kind']),
    deliveries: m.counter('parley_deliveries_total', 'Envelopes delivered to subscribers'),
    denials: m.counter('parley_access_denials_total', 'Requests denied by the Access Manager, by code', ['code', 'operation']),
    errors: m.counter('parley_errors_total', 'Requests answered with an error, by code', ['code']),
    /** One per refusal by a resource cap; `cap` is the limits.* setting that refused (docs/security.md "Limits"). */
    capRefusals: m.counter('parley_cap_refusals_total', 'Connections and requests refused by a resource cap, by cap (the limits.* setting)', ['cap']),
    /** Requests read and answered on the socket by the lane (protocol/lane.ts: subscribe, and publish and signal by GET), not node:http. */
    laneRequests: m.counter('parley_lane_requests_total', 'Subscribe, publish and signal GETs served by the lane instead of node:http'),
    /** One request's latency; `labels` is the same object for every request of a route (its child is made once). */
    requestDuration(labels: { readonly endpoint: string }, seconds: number): void {
      let child = byRoute.get(labels);
      if (child === undefined) byRoute.set(labels, (child = requestDuration.cell(labels.endpoint)));
      child.observe(seconds);
    },
    /**
     * One subscribe answer written at `nowMs` (the timetokens' clock) whose oldest message has `timetoken`;
     * `wasParked`: the poll waited in the hub and a delivery woke it, else it found the messages on arrival
     * (a reconnect gap or a catch-up). A timetoken ahead of this node's clock (another node's) counts as 0.
     */
    publishToDeliver(timetoken: bigint, nowMs: number, wasParked: boolean): void {
      const seconds = (nowMs - Number(timetoken) / 10_000) / 1000;
      (wasParked ? parked : immediate).observe(Math.max(seconds, 0));
    },
  };
}
export type ParleyMetrics = ReturnType<typeof createParleyMetrics>;
