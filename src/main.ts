import cluster from 'node:cluster';
import { ConfigError, EX_CONFIG, loadConfig, prepareDataDir } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { isParleyError } from './errors.ts';
import { createLogger, LogDestination, type Logger } from './log.ts';
import { createParley, type Parley } from './app.ts';
import { ClusterPrimary, clusterWorkerCount, type WorkerReady } from './cluster.ts';
import { serveClusterScrapes, WorkerMetrics } from './cluster-metrics.ts';
import { demoPolicy, isDemoSdkInstalled } from './demo/policy.ts';

/** Exit code when the graceful stop did not finish within shutdownTimeoutSec, or failed. */
const EX_STOP_FAILED = 1;
/** Longest the last log lines may take to reach a (slow) reader before the process exits anyway. */
const LOG_DRAIN_MS = 1000;

function configOrExit(): Config {
  try {
    const config = loadConfig();
    prepareDataDir(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }
}

/**
 * Whether this process runs the demo. The demo's SDK is a dev dependency: without it (a production
 * install) "auto" runs the server alone, and an explicit demo.enabled=true stops start-up (exit 78).
 */
function demoOrExit(config: Config, log: Logger | null): { isOn: boolean; warning: string | null } {
  const policy = demoPolicy(config);
  if (!policy.enabled) return { isOn: false, warning: null };
  if (isDemoSdkInstalled()) return { isOn: true, warning: policy.warning };
  if (config.demo.enabled === true) {
    process.stderr.write(
      "parley: demo.enabled is true but the demo's SDK (the pubnub package, a dev dependency) is not installed: install dev dependencies (npm ci), or set demo.enabled (PARLEY_DEMO_ENABLED) to auto or false\n",
    );
    process.exit(EX_CONFIG);
  }
  log?.warn('demo not started: its SDK (the pubnub package, a dev dependency) is not installed; the server runs without it');
  return { isOn: false, warning: null };
}

/** Process entry: config → Parley (+ demo) → listen, or with cluster.workers the primary of that many workers. */
async function main(): Promise<void> {
  // A reader of stdout/stderr that went away must not crash the process (EPIPE on the banner) or stop it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const config = configOrExit();
  const logOutput = new LogDestination({ fd: 1 });
  const rootLog = createLogger({ level: config.logLevel, destination: logOutput });
  const exit = async (code: number): Promise<never> => {
    process.exitCode = code;
    await logOutput.drain(LOG_DRAIN_MS);
    process.exit(code);
  };
  const workers = clusterWorkerCount(config.cluster.workers);
  // The primary has said what it decided about the demo; its workers decide the same, quietly.
  const demoPlan = demoOrExit(config, cluster.isWorker ? null : rootLog);
  if (workers > 0 && cluster.isPrimary) return runPrimary(config, rootLog, workers, demoPlan.warning, exit);
  await runServer(config, cluster.isWorker ? rootLog.child({ worker: cluster.worker?.id }) : rootLog, demoPlan, exit);
}

/** One Parley: the whole server, or one worker of a cluster (then the primary owns the banner and SIGINT). */
async function runServer(
  config: Config,
  log: Logger,
  demoPlan: { isOn: boolean; warning: string | null },
  exit: (code: number) => Promise<never>,
): Promise<void> {
  // A worker's /metrics is the node's: the primary aggregates every worker's series (cluster-metrics.ts).
  const parley = createParley({ config, log, metricsSource: cluster.isWorker ? (registries) => new WorkerMetrics(registries) : undefined });
  // Loaded only when it runs: a production install has no demo SDK to import. The demo gets plain values
  // and a way to serve HTTP; it reaches Parley itself only over HTTP, through the SDK.
  const demo = demoPlan.isOn
    ? (await import('./demo/attach.ts')).attachDemo({
        keyset: parley.keysets.find((k) => k.secretKey.length > 0) ?? null,
        config: config.demo,
        addHandler: (handler) => parley.addFallback(handler),
        log,
      })
    : null;

  let stopping = false;
  const stop = async (signal: string, code: number): Promise<void> => {
    if (stopping) {
      // A second signal while stopping: the operator wants out now.
      if (signal === 'SIGTERM' || signal === 'SIGINT') {
        log.warn({ signal }, 'second signal while shutting down: exiting now');
        await exit(EX_STOP_FAILED);
      }
      return;
    }
    stopping = true;
    log.info({ signal, timeoutSec: config.shutdownTimeoutSec }, 'shutting down');
    // Whatever clients, stores or the log stream do, the process is gone by the deadline.
    const deadline = setTimeout(() => {
      log.error({ signal, timeoutSec: config.shutdownTimeoutSec }, 'shutdown did not finish in time: exiting');
      void exit(EX_STOP_FAILED);
    }, config.shutdownTimeoutSec * 1000);
    try {
      await demo?.stop();
      await parley.stop();
      log.info('stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = code || EX_STOP_FAILED;
    }
    clearTimeout(deadline);
    await exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  // Ctrl-C reaches the whole process group: a worker leaves SIGINT to its primary, which sends it SIGTERM.
  process.on('SIGINT', () => void (cluster.isWorker ? undefined : stop('SIGINT', 0)));
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });

  const { url } = await parley.start();
  await demo?.start(url);
  if (cluster.isWorker) {
    const ready: WorkerReady = { parley: 'ready', url, isDemoOn: demo !== null };
    process.send?.(ready);
    return;
  }
  logStartup(config, log, url, parley, demo !== null, 0);
  if (demoPlan.warning) log.warn({ channel: config.demo.channel }, demoPlan.warning);
}

/** The primary of cluster.workers processes: it serves nothing, restarts workers that die, stops them all on a signal. */
async function runPrimary(config: Config, log: Logger, workers: number, demoWarning: string | null, exit: (code: number) => Promise<never>): Promise<void> {
  const primary = new ClusterPrimary({ workers, shutdownTimeoutSec: config.shutdownTimeoutSec, log });
  serveClusterScrapes(() => primary.readyWorkers(), log);
  let stopping = false;
  const stop = async (signal: string, code: number): Promise<void> => {
    if (stopping) {
      if (signal === 'SIGTERM' || signal === 'SIGINT') {
        log.warn({ signal }, 'second signal while shutting down: exiting now');
        primary.killAll();
        await exit(EX_STOP_FAILED);
      }
      return;
    }
    stopping = true;
    log.info({ signal, workers, timeoutSec: config.shutdownTimeoutSec }, 'shutting down');
    const workersCode = await primary.stop();
    log.info('stopped');
    await exit(code || workersCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });
  log.info({ workers, store: config.store.kind }, 'starting workers');
  let started: { url: string; isDemoOn: boolean };
  try {
    started = await primary.start();
  } catch (err) {
    process.stderr.write(`parley: failed to start: ${(err as Error).message}\n`);
    return void (await exit((err as { exitCode?: number }).exitCode ?? 1));
  }
  logStartup(config, log, started.url, { keysets: config.keysets, usingDemoKeyset: false }, started.isDemoOn, workers);
  if (demoWarning) log.warn({ channel: config.demo.channel }, demoWarning);
}

/** The banner and start-up warnings; `workers` > 0 names the cluster in the banner. */
function logStartup(config: Config, log: Logger, url: string, parley: Pick<Parley, 'keysets' | 'usingDemoKeyset'>, isDemoOn: boolean, workers: number): void {
  for (const k of parley.keysets) {
    log.info({ subscribeKey: k.subscribeKey, publishKey: k.publishKey, accessManager: k.secretKey.length > 0 }, 'keyset');
  }
  if (parley.usingDemoKeyset) {
    const k = parley.keysets[0];
    log.warn(
      { file: `${config.dataDir}/demo-keyset.json` },
      'no keyset configured: using the demo keyset (set PARLEY_PUBLISH_KEY, PARLEY_SUBSCRIBE_KEY, PARLEY_SECRET_KEY for your own)',
    );
    const where = config.store.kind === 'sqlite' ? `in ${config.dataDir}/demo-keyset.json` : 'random for this run (memory store)';
    process.stdout.write(`\nParley is listening on ${url}\n  publish key:   ${k.publishKey}\n  subscribe key: ${k.subscribeKey}\n  secret key:    ${where}\n`);
  } else {
    process.stdout.write(`\nParley is listening on ${url}${workers > 0 ? ` (${workers} worker processes)` : ''}\n`);
  }
  if (isDemoOn) process.stdout.write(`  secure chat demo: ${url}/demo/  (open it in two windows)\n`);
  if (config.console.enabled === true || (config.console.enabled === 'auto' && parley.usingDemoKeyset)) {
    process.stdout.write(`  operator console:  ${url}/console/  (sign in with a keyset's keys)\n`);
  }
  process.stdout.write('\n');
  for (const k of parley.keysets) {
    if (k.secretKey && k.secretKey.length < 32) log.warn({ subscribeKey: k.subscribeKey }, 'secret key is shorter than 32 characters');
  }
  if (isDemoOn && config.host !== '127.0.0.1' && config.host !== 'localhost') {
    log.warn({ host: config.host }, 'the demo is enabled on a non-loopback address');
  }
}

main().catch((err) => {
  // Expected failures (a store that cannot open, a port in use) in one line; anything else is a bug: its stack.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = isParleyError(err) || code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
  const cause = isParleyError(err) && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  process.stderr.write(`parley: failed to start: ${known ? `${(err as Error).message}${cause}` : ((err as Error).stack ?? String(err))}\n`);
  process.exit(1);
});
