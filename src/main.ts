import { ConfigError, EX_CONFIG, loadConfig, prepareDataDir } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { isParleyError } from './errors.ts';
import { createLogger, LogDestination, type Logger } from './log.ts';
import { createParley } from './app.ts';
import { attachDemo, demoPolicy } from './demo/attach.ts';

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

/** Process entry: config → Parley (+ demo) → listen; SIGTERM/SIGINT drain and close within shutdownTimeoutSec. */
async function main(): Promise<void> {
  // A reader of stdout/stderr that went away must not crash the process (EPIPE on the banner) or stop it.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const config = configOrExit();
  const logOutput = new LogDestination({ fd: 1 });
  const log = createLogger({ level: config.logLevel, destination: logOutput });
  const parley = createParley({ config, log });
  const policy = demoPolicy(config);
  const demo = policy.enabled ? attachDemo(parley, log) : null;

  let stopping = false;
  const exit = async (code: number): Promise<never> => {
    process.exitCode = code;
    await logOutput.drain(LOG_DRAIN_MS);
    process.exit(code);
  };
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
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });

  const { url } = await parley.start();
  await demo?.start(url);
  logStartup(config, log, url, parley, demo !== null);
  if (policy.warning) log.warn({ channel: config.demo.channel }, policy.warning);
}

function logStartup(config: Config, log: Logger, url: string, parley: ReturnType<typeof createParley>, isDemoOn: boolean): void {
  for (const k of parley.keysets) {
    log.info({ subscribeKey: k.subscribeKey, publishKey: k.publishKey, accessManager: k.secretKey.length > 0 }, 'keyset');
  }
  if (parley.usingDemoKeyset) {
    const k = parley.keysets[0];
    log.warn({ file: `${config.dataDir}/demo-keyset.json` }, 'no keyset configured: using the demo keyset (set PARLEY_PUBLISH_KEY, PARLEY_SUBSCRIBE_KEY, PARLEY_SECRET_KEY for your own)');
    const where = config.store.kind === 'sqlite' ? `in ${config.dataDir}/demo-keyset.json` : 'random for this run (memory store)';
    process.stdout.write(`\nParley is listening on ${url}\n  publish key:   ${k.publishKey}\n  subscribe key: ${k.subscribeKey}\n  secret key:    ${where}\n`);
  } else {
    process.stdout.write(`\nParley is listening on ${url}\n`);
  }
  if (isDemoOn) process.stdout.write(`  secure chat demo: ${url}/demo/  (open it in two windows)\n\n`);
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
