import { ConfigError, EX_CONFIG, loadConfig } from './config/load.ts';
import { createLogger } from './log.ts';
import { createParley } from './app.ts';
import { attachDemo } from './demo/attach.ts';

/** Process entry: config → Parley (+ demo) → listen; SIGTERM/SIGINT drain and close cleanly. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const parley = createParley({ config, log });
  const demo = config.demo.enabled ? attachDemo(parley, log) : null;

  let stopping = false;
  const stop = async (signal: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await demo?.stop();
      await parley.stop();
      log.info('stopped');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = code || 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });

  const { url } = await parley.start();
  await demo?.start(url);
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
  if (demo) process.stdout.write(`  secure chat demo: ${url}/demo/  (open it in two windows)\n\n`);
  for (const k of parley.keysets) {
    if (k.secretKey && k.secretKey.length < 32) log.warn({ subscribeKey: k.subscribeKey }, 'secret key is shorter than 32 characters');
  }
  if (demo && config.host !== '127.0.0.1' && config.host !== 'localhost') {
    log.warn({ host: config.host }, 'the demo is enabled on a non-loopback address');
  }
}

main().catch((err) => {
  process.stderr.write(`parley: failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
