import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './log.ts';
import type { ScrapeSource } from './metrics.ts';

/**
 * /metrics in cluster mode: one scrape, the whole node. A scrape reaches whichever worker node:cluster
 * handed the connection to; that worker asks the primary, the primary collects every listening worker's
 * series over the cluster's IPC channel and answers with their aggregate (prom-client's
 * AggregatorRegistry.aggregate: counters and histograms summed, gauges by each one's aggregator, summed
 * unless it says otherwise), so a scrape through any worker reads the same totals. The primary serves no
 * HTTP itself (cluster.ts).
 *
 * Why not prom-client's AggregatorRegistry.clusterMetrics(): it asks every connected worker, including
 * one still starting (its listener not yet installed), and then waits 5 s for an answer that never comes;
 * the primary knows which workers listen (ClusterPrimary.readyWorkers) and asks only those.
 */

/** One registry's series as Registry.getMetricsAsJSON gives them (what AggregatorRegistry.aggregate takes). */
type RegistryJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

type Message =
  /** worker → primary: a scrape arrived. */
  | { parley: 'metrics-request'; id: number }
  /** primary → worker: the aggregate, or why there is none. */
  | { parley: 'metrics-answer'; id: number; text?: string; error?: string }
  /** primary → worker: send your series. */
  | { parley: 'metrics-collect'; id: number }
  /** worker → primary: its series (Registry.getMetricsAsJSON of each registry). */
  | { parley: 'metrics-collected'; id: number; metrics?: RegistryJson[]; error?: string };

/** How long the primary waits for every listening worker's series. */
export const COLLECT_TIMEOUT_MS = 3_000;
/** How long a worker waits for the aggregate (the primary's own wait, and some). */
export const CLUSTER_SCRAPE_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 2_000;

function asMessage(message: unknown, kind: Message['parley']): Message | null {
  const m = message as Partial<Message> | null;
  return typeof m === 'object' && m !== null && m.parley === kind && typeof m.id === 'number' ? (m as Message) : null;
}

/** One request/answer exchange per id, bounded in time. */
class Exchanges<T> {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: T) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  start(timeoutMs: number, what: string, send: (id: number) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      send(id);
    });
  }

  settle(id: number, outcome: { value: T } | { error: string }): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    clearTimeout(waiting.timer);
    if ('value' in outcome) waiting.resolve(outcome.value);
    else waiting.reject(new Error(outcome.error));
  }
}

/** A worker's scrapes: it sends its series when the primary collects them, and a scrape here reads the aggregate. */
export class WorkerMetrics implements ScrapeSource {
  private readonly answers = new Exchanges<string>();

  constructor(private readonly registries: Registry[]) {
    if (!cluster.isWorker) throw new Error('WorkerMetrics runs in a cluster worker only');
    process.on('message', (message) => this.onMessage(message));
  }

  render(): Promise<string> {
    if (process.send === undefined || !process.connected)
      return Promise.reject(new Error('the cluster primary is gone: no aggregate of the workers to scrape'));
    return this.answers.start(CLUSTER_SCRAPE_TIMEOUT_MS, "the cluster primary's aggregate of the workers' metrics", (id) => {
      const request: Message = { parley: 'metrics-request', id };
      process.send?.(request);
    });
  }

  private onMessage(message: unknown): void {
    const answer = asMessage(message, 'metrics-answer');
    if (answer?.parley === 'metrics-answer') {
      this.answers.settle(answer.id, typeof answer.text === 'string' ? { value: answer.text } : { error: answer.error ?? 'no aggregate' });
      return;
    }
    const collect = asMessage(message, 'metrics-collect');
    if (collect === null) return;
    const reply = (m: Message): void => {
      if (process.connected) process.send?.(m);
    };
    Promise.all(this.registries.map((r) => r.getMetricsAsJSON())).then(
      (metrics) => reply({ parley: 'metrics-collected', id: collect.id, metrics }),
      (err: Error) => reply({ parley: 'metrics-collected', id: collect.id, error: err.message }),
    );
  }
}

/**
 * The primary's side: a worker's scrape request is answered with the aggregate of the series of every
 * worker `listening()` names, or with why not (a worker that did not answer in time: the scrape fails
 * rather than under-counts).
 */
export function serveClusterScrapes(listening: () => Worker[], log: Logger): void {
  if (!cluster.isPrimary) throw new Error('serveClusterScrapes runs in the cluster primary only');
  const collections = new Exchanges<RegistryJson[]>();
  cluster.on('message', (worker, message) => {
    const collected = asMessage(message, 'metrics-collected');
    if (collected?.parley === 'metrics-collected') {
      collections.settle(collected.id, collected.metrics !== undefined ? { value: collected.metrics } : { error: `worker ${worker.id}: ${collected.error}` });
      return;
    }
    const request = asMessage(message, 'metrics-request');
    if (request === null) return;
    const reply = (answer: Message): void => {
      if (worker.isConnected()) worker.send(answer);
    };
    const workers = listening();
    Promise.all(
      workers.map((w) =>
        collections.start(COLLECT_TIMEOUT_MS, `worker ${w.id}'s metrics`, (id) => {
          const collect: Message = { parley: 'metrics-collect', id };
          w.send(collect);
        }),
      ),
    )
      .then((perWorker) => AggregatorRegistry.aggregate(perWorker.flat()).metrics())
      .then(
        (text) => reply({ parley: 'metrics-answer', id: request.id, text }),
        (err: Error) => {
          log.warn({ err }, "aggregating the workers' metrics failed");
          reply({ parley: 'metrics-answer', id: request.id, error: err.message });
        },
      );
  });
}
