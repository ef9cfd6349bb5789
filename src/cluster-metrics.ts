import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './log.ts';
import type { ScrapeSource } from './metrics.ts';

/**
 * /metrics in cluster mode: one scrape, the whole node. A scrape reaches whichever worker node:cluster
 * handed the connection to; that worker asks the primary, the primary asks every worker for its series
 * (prom-client's AggregatorRegistry, over the cluster's IPC channel) and answers with their aggregate:
 * counters and histograms summed, gauges by each one's aggregator (summed unless it says otherwise), so a
 * scrape through any worker reads the same totals. The primary serves no HTTP itself (cluster.ts).
 */

interface ScrapeRequest {
  parley: 'metrics-request';
  id: number;
}

interface ScrapeAnswer {
  parley: 'metrics-answer';
  id: number;
  text?: string;
  error?: string;
}

/**
 * How long a worker waits for the aggregate. prom-client gives up on a worker that does not answer
 * after 5 s (one that died mid-request); this leaves it the time to say so.
 */
export const CLUSTER_SCRAPE_TIMEOUT_MS = 6_000;

function isScrapeRequest(message: unknown): message is ScrapeRequest {
  const m = message as Partial<ScrapeRequest> | null;
  return typeof m === 'object' && m !== null && m.parley === 'metrics-request' && typeof m.id === 'number';
}

function isScrapeAnswer(message: unknown): message is ScrapeAnswer {
  const m = message as Partial<ScrapeAnswer> | null;
  return typeof m === 'object' && m !== null && m.parley === 'metrics-answer' && typeof m.id === 'number';
}

/** A worker's scrapes: its series go to the primary's aggregation, and a scrape here reads the aggregate. */
export class WorkerMetrics implements ScrapeSource {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  constructor(registries: Registry[]) {
    if (!cluster.isWorker) throw new Error('WorkerMetrics runs in a cluster worker only');
    AggregatorRegistry.setRegistries(registries);
    // Constructing one installs prom-client's worker side: it answers the primary's requests for this
    // worker's series from the registries set above.
    new AggregatorRegistry();
    process.on('message', (message) => this.onMessage(message));
  }

  render(): Promise<string> {
    if (process.send === undefined || !process.connected)
      return Promise.reject(new Error('the cluster primary is gone: no aggregate of the workers to scrape'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the cluster primary did not aggregate the workers' metrics within ${CLUSTER_SCRAPE_TIMEOUT_MS} ms`));
      }, CLUSTER_SCRAPE_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      const request: ScrapeRequest = { parley: 'metrics-request', id };
      process.send?.(request);
    });
  }

  private onMessage(message: unknown): void {
    if (!isScrapeAnswer(message)) return;
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (typeof message.text === 'string') waiting.resolve(message.text);
    else waiting.reject(new Error(`aggregating the workers' metrics failed: ${message.error ?? 'no answer'}`));
  }
}

/** The primary's side: answers each worker's scrape request with the aggregate of every worker's series. */
export function serveClusterScrapes(log: Logger): void {
  if (!cluster.isPrimary) throw new Error('serveClusterScrapes runs in the cluster primary only');
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message) => {
    if (!isScrapeRequest(message)) return;
    const reply = (answer: ScrapeAnswer): void => {
      if (worker.isConnected()) worker.send(answer);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ parley: 'metrics-answer', id: message.id, text }),
      (err: Error) => {
        log.warn({ err }, "aggregating the workers' metrics failed");
        reply({ parley: 'metrics-answer', id: message.id, error: err.message });
      },
    );
  });
}
