import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { createParley, type Parley } from '../../src/app.ts';
import { attachDemo, type DemoHost } from '../../src/demo/attach.ts';
import type { Clock } from '../../src/clock.ts';
import type { Keyset } from '../../src/keyset.ts';

export const OPEN_KEYSET: Keyset = { publishKey: 'pub-open', subscribeKey: 'sub-open', secretKey: '' };
export const PAM_KEYSET: Keyset = { publishKey: 'pub-pam', subscribeKey: 'sub-pam', secretKey: 'sec-pam-0123456789abcdef0123456789abcdef' };

export interface TestServer {
  url: string;
  /** host:port, as the SDK's `origin`. */
  origin: string;
  port: number;
  dataDir: string;
  parley: Parley;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'parley-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * What main.ts hands the demo for this Parley: its keyset with a secret, its demo config, its HTTP
 * fallback; with a clock, the app server tells the page expiries on that clock (the one Parley runs on).
 */
export function demoHost(parley: Parley, log: Logger, clock?: Clock): DemoHost {
  return {
    keyset: parley.keysets.find((k) => k.secretKey.length > 0) ?? null,
    config: parley.services.config.demo,
    addHandler: (handler) => parley.addFallback(handler),
    log,
    clock,
  };
}

/** An in-process server on port 0 with a fresh data dir (sqlite) unless one is given. */
export async function startServer(
  options: {
    store?: 'memory' | 'sqlite';
    dataDir?: string;
    keysets?: Keyset[];
    overrides?: Record<string, unknown>;
    clock?: Clock;
    keepDataDir?: boolean;
    /** Serve the secure chat demo with its app server, as `npm start` does. */
    demo?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: process.env.PARLEY_TEST_LOG ?? 'silent',
      store: { kind: options.store ?? 'sqlite' },
      keysets: options.keysets ?? [OPEN_KEYSET, PAM_KEYSET],
      demo: { enabled: false },
      ...options.overrides,
    },
  });
  const log = createLogger({ level: config.logLevel });
  const parley = createParley({ config, log, clock: options.clock });
  const demo = options.demo ? attachDemo(demoHost(parley, log, options.clock)) : null;
  const { port, url } = await parley.start();
  await demo?.start(url);
  let stopped = false;
  return {
    url,
    port,
    origin: `127.0.0.1:${port}`,
    dataDir,
    parley,
    async stop() {
      if (stopped) return;
      stopped = true;
      await demo?.stop();
      await parley.stop();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Parley as a real child process (`src/main.ts` through tsx), for restarts and kill -9; with `entry`, that
 * compiled file (`dist/main.js`, see scripts/build.mjs) run by plain node.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: { entry?: string } = {},
): Promise<{ child: ChildProcess; origin: string; url: string; exited: Promise<number | null>; stdout: () => string; stderr: () => string }> {
  const args = options.entry ? [options.entry] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PARLEY_HOST: '127.0.0.1', PORT: '0', PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG ?? 'warn', PARLEY_DEMO_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  // Debugging aid: PARLEY_TEST_CHILD_LOGS=dir keeps each child's log lines.
  if (process.env.PARLEY_TEST_CHILD_LOGS) {
    const { createWriteStream } = await import('node:fs');
    const sink = createWriteStream(join(process.env.PARLEY_TEST_CHILD_LOGS, `parley-${child.pid}.log`));
    child.stdout!.pipe(sink);
    child.stderr!.pipe(sink);
  }
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  return { child, url, origin: url.replace('http://', ''), exited, stdout: () => out, stderr: () => err };
}

/**
 * `src/main.ts` as `npm start` runs it: the memory engine, info logs, the demo left to its default
 * (`env` overrides any of them), a temporary data directory. After the test the process is killed if it
 * still runs and its directory removed.
 */
export async function spawnMain(t: TestContext, env: Record<string, string> = {}): ReturnType<typeof spawnServer> {
  const dataDir = tempDir();
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
  // One hook, registered before the start so a failed start is cleaned up too: the process goes, then its files.
  t.after(async () => {
    const child = server?.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await server?.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  server = await spawnServer({ PARLEY_DATA_DIR: dataDir, PARLEY_STORE: 'memory', PARLEY_LOG_LEVEL: 'info', PARLEY_DEMO_ENABLED: '', ...env });
  return server;
}
