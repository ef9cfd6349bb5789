import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';

/**
 * Every core of one machine: a primary process forks `cluster.workers` Parley processes that share the
 * listening port (node:cluster hands each new connection to a worker in turn). Workers share state the
 * way separate nodes do, through the redis engine, so the schema refuses the setting on sqlite and memory.
 * The primary serves nothing itself: it starts the workers, restarts one that dies, and turns SIGTERM or
 * SIGINT into a graceful stop of every worker within shutdownTimeoutSec.
 */

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  parley: 'ready';
  url: string;
  isDemoOn: boolean;
}

/** First restart delay of a worker that died; it doubles per consecutive crash up to RESTART_MAX_MS. */
export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before dying counts as stable: its next restart starts from RESTART_BASE_MS. */
export const STABLE_AFTER_MS = 30_000;
/** Past the workers' own shutdown deadline, how long the primary waits before it kills what is left. */
const KILL_GRACE_MS = 2_000;

/** The number of workers `cluster.workers` asks for; 0 = no cluster (one process). */
export function clusterWorkerCount(setting: Config['cluster']['workers'], cpus: number = availableParallelism()): number {
  if (setting === 'off') return 0;
  if (setting === 'auto') return Math.max(1, cpus);
  return setting;
}

/** Delay before restarting a worker after `crashes` consecutive quick deaths (1 = the first). */
export function restartDelayMs(crashes: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, Math.min(crashes - 1, 20)));
}

export function isWorkerReady(message: unknown): message is WorkerReady {
  const m = message as Partial<WorkerReady> | null;
  return typeof m === 'object' && m !== null && m.parley === 'ready' && typeof m.url === 'string';
}

/** One worker position: the process now in it and how often it died young in a row. */
interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  crashes: number;
  restartTimer: NodeJS.Timeout | null;
  isReady: boolean;
}

export interface ClusterPrimaryOptions {
  workers: number;
  shutdownTimeoutSec: number;
  log: Logger;
}

/** The primary of a cluster: start(), then stop() on a signal. Only one may exist per process. */
export class ClusterPrimary {
  private readonly slots: Slot[];
  private readonly log: Logger;
  private isStopping = false;
  private isStarted = false;
  private startFailure: ((err: Error & { exitCode: number }) => void) | null = null;

  constructor(private readonly options: ClusterPrimaryOptions) {
    if (!cluster.isPrimary) throw new Error('ClusterPrimary runs in the primary process only');
    this.log = options.log.child({ component: 'cluster' });
    this.slots = Array.from({ length: options.workers }, (_, index) => ({ index, worker: null, startedAt: 0, crashes: 0, restartTimer: null, isReady: false }));
  }

  /**
   * Forks every worker and resolves with the URL once all of them listen. A worker that exits before
   * it listens (a port in use, a store that cannot open) fails the start: the others are stopped and
   * the promise rejects with an `exitCode` to leave with; the worker has said why on stderr.
   */
  start(): Promise<{ url: string; isDemoOn: boolean }> {
    return new Promise((resolve, reject) => {
      let readyCount = 0;
      this.startFailure = (err) => {
        this.startFailure = null;
        reject(err);
      };
      cluster.on('message', (worker, message) => {
        if (!isWorkerReady(message)) return;
        const slot = this.slots.find((s) => s.worker === worker);
        if (!slot || slot.isReady) return;
        slot.isReady = true;
        this.log.info({ worker: worker.id, pid: worker.process.pid, slot: slot.index }, 'worker listening');
        if (!this.isStarted && ++readyCount === this.slots.length) {
          this.isStarted = true;
          this.startFailure = null;
          resolve({ url: message.url, isDemoOn: message.isDemoOn });
        }
      });
      cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
      for (const slot of this.slots) this.fork(slot);
    });
  }

  private fork(slot: Slot): void {
    slot.restartTimer = null;
    slot.isReady = false;
    slot.startedAt = Date.now();
    slot.worker = cluster.fork();
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot) return;
    slot.worker = null;
    if (this.isStopping) return;
    if (!this.isStarted) {
      // Not started yet: what failed one worker would fail the next; stop them all and report.
      const exitCode = code && code > 0 ? code : 1;
      this.log.error({ worker: worker.id, code, signal }, 'worker exited before listening: stopping');
      const fail = this.startFailure;
      void this.stop().then(() => fail?.(Object.assign(new Error(`a worker exited with ${code ?? signal} before listening`), { exitCode })));
      return;
    }
    const livedMs = Date.now() - slot.startedAt;
    slot.crashes = livedMs >= STABLE_AFTER_MS ? 1 : slot.crashes + 1;
    const delayMs = restartDelayMs(slot.crashes);
    this.log.error({ worker: worker.id, pid: worker.process.pid, code, signal, livedMs, restartInMs: delayMs }, 'worker exited: restarting');
    slot.restartTimer = setTimeout(() => this.fork(slot), delayMs);
  }

  /**
   * SIGTERM to every worker (each answers its long-polls, flushes and closes within shutdownTimeoutSec);
   * what is still alive shortly after that deadline is killed. Resolves with the exit code for the
   * primary: 0 when every worker stopped cleanly, 1 otherwise.
   */
  async stop(): Promise<number> {
    this.isStopping = true;
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
    }
    const live = this.slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));
    let code = 0;
    const exits = live.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          // Killed by the SIGTERM itself: a worker still starting, before its handler was installed.
          w.process.once('exit', (exitCode, signal) => {
            if (exitCode !== 0 && signal !== 'SIGTERM') code = 1;
            resolve();
          });
        }),
    );
    for (const w of live) w.process.kill('SIGTERM');
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadline = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutSec * 1000 + KILL_GRACE_MS);
    });
    const outcome = await Promise.race([Promise.all(exits), timedOut]);
    clearTimeout(deadline);
    if (outcome === 'timeout') {
      const left = live.filter((w) => !w.isDead());
      this.log.error({ workers: left.map((w) => w.id) }, 'workers did not stop in time: killing them');
      for (const w of left) w.process.kill('SIGKILL');
      await Promise.all(exits);
      code = 1;
    }
    return code;
  }

  /** A second signal while stopping: the operator wants out now. */
  /** The workers that listen now (started, not exited): the ones a scrape can ask (cluster-metrics.ts). */
  readyWorkers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker !== null && s.isReady && s.worker.isConnected() ? [s.worker] : []));
  }

  killAll(): void {
    for (const slot of this.slots) slot.worker?.process.kill('SIGKILL');
  }
}
