import { consolePolicy } from '../console/serve.ts';
import type { Logger } from '../log.ts';
import type { Wiring } from './wiring.ts';

/**
 * One part of the node that start() opens and stop() closes. Steps start one after another in list
 * order; stop() runs two phases, each in reverse list order: every preClose (stop taking new work and
 * finish what was accepted), then every close (release what start opened). A step whose close must wait
 * for other steps' preClose (the listener waits for in-flight requests after the pipeline drained) splits
 * its stop across both. Only a returned promise is waited for: a step that returns nothing runs in the
 * same tick as the one before, so stop() stops serving before it first yields (readiness says "not
 * serving" from the call on).
 */
export interface LifecycleStep {
  /** For logs and tests. */
  readonly name: string;
  start?(): void | Promise<void>;
  preClose?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Starts the steps in order, each once the previous one resolved; the first failure rejects and later steps do not start. */
export async function startSteps(steps: readonly LifecycleStep[]): Promise<void> {
  for (const step of steps) {
    const started = step.start?.();
    if (started !== undefined) await started;
  }
}

/**
 * Every preClose in reverse order, then every close in reverse order; the first failure rejects and
 * stops the rest. Runs every step whether or not it started (the stores are open from construction on),
 * so each step's stop must tolerate a part that never started.
 */
export async function stopSteps(steps: readonly LifecycleStep[]): Promise<void> {
  const reversed = [...steps].reverse();
  for (const step of reversed) {
    const preClosed = step.preClose?.();
    if (preClosed !== undefined) await preClosed;
  }
  for (const step of reversed) {
    const closed = step.close?.();
    if (closed !== undefined) await closed;
  }
}

/** Work the node repeats while it runs. */
export interface PeriodicJob {
  /** Names the job in the log line of a failed run. */
  what: string;
  everyMs: number;
  run(): unknown;
}

/** Runs jobs on unref'd intervals: a failed run is logged and the next one happens as planned. */
export class PeriodicJobs {
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly log: Logger) {}

  start(jobs: readonly PeriodicJob[]): void {
    for (const job of jobs) {
      const timer = setInterval(() => {
        Promise.resolve()
          .then(job.run)
          .catch((err) => this.log.error({ err }, `${job.what} failed`));
      }, job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

/** The node's housekeeping: expired rows and mirror entries, the buffers' age limit, the rotation window. */
export function housekeeping(w: Wiring): PeriodicJob[] {
  const { hub, timetokens, stores, access, rotation, clock } = w;
  return [
    { what: 'buffer sweep', everyMs: 10_000, run: () => hub.sweep(timetokens.now()) },
    { what: 'history purge', everyMs: 60_000, run: () => stores.messages.purgeExpired(clock.nowMs()) },
    { what: 'denylist purge', everyMs: 60_000, run: () => stores.denyList.purgeExpired(clock.nowMs()) },
    { what: 'denylist epoch check', everyMs: 60_000, run: () => access.refreshEpoch() },
    { what: 'grant purge', everyMs: 60_000, run: () => stores.grants.purgeExpired(clock.nowMs()) },
    { what: 'rotation window check', everyMs: 1000, run: () => rotation.retireExpired() },
  ];
}

/**
 * The node's steps, in start order. stop() therefore: stops accepting, answers parked polls and closes
 * idle connections (listener), drains the publish pipeline, stops the periodic jobs and presence sweeps;
 * then stops node stats, waits for in-flight requests (listener), closes the access mirrors and their
 * resync, and closes the broker, then the stores.
 */
export function parleySteps(w: Wiring): LifecycleStep[] {
  const jobs = new PeriodicJobs(w.log);
  const { services, hub } = w;
  return [
    {
      name: 'backends',
      start: async () => {
        await w.broker.ready();
        await w.coverFromNow();
      },
      close: async () => {
        await w.broker.close();
        await w.stores.close();
      },
    },
    {
      // Before the listener: a secured keyset's requests are refused until its mirrors are loaded.
      name: 'access mirrors',
      start: async () => {
        await w.rotation.start();
        await w.access.start();
      },
      close: () => {
        w.sync.close();
        w.access.close();
      },
    },
    { name: 'presence', start: () => w.presence.start(), preClose: () => w.presence.close() },
    { name: 'periodic jobs', start: () => jobs.start(housekeeping(w)), preClose: () => jobs.close() },
    // Publishes already accepted are committed and answered before their connections are waited for.
    { name: 'publish pipeline', preClose: () => w.pipeline.drain() },
    {
      name: 'listener',
      start: () => w.listener.listen(w.config.port, w.config.host),
      preClose: () =>
        w.listener.stopAccepting(() => {
          for (const p of [...services.openPolls]) p.interrupt();
          // Parked subscribe long-polls are the hub's (the subscribe route keeps them out of openPolls).
          for (const waiter of [...hub.waiters()]) waiter.interrupt();
        }),
      close: () => w.listener.closed(),
    },
    // After the listener: its first sample reports the node as serving.
    { name: 'node stats', start: () => w.nodeStats.start(), close: () => w.nodeStats.close() },
  ];
}

/** Start and a symmetric stop of a wired node. */
export interface Lifecycle {
  /** Opens every step; resolves with the port bound and a URL to reach it (a loopback one when listening on every address). */
  start(): Promise<{ port: number; url: string }>;
  /** The graceful stop (parleySteps); callable before, during or without start(). */
  stop(): Promise<void>;
}

export function createLifecycle(w: Wiring): Lifecycle {
  const steps = parleySteps(w);
  return {
    async start() {
      await startSteps(steps);
      const { config, log } = w;
      const port = w.listener.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      if (consolePolicy(config).enabled) log.info({ url: `http://${host}:${port}/console/` }, 'operator console');
      return { port, url: `http://${host}:${port}` };
    },
    stop: () => stopSteps(steps),
  };
}
