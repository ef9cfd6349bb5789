/**
 * The servers a benchmark runs, each as child processes on 127.0.0.1, pinned to the server core, with
 * a port of their own and stopped by PID however the benchmark ends:
 * - parley:   Parley as `npm start` runs it (dist/main.js, built first if src/ changed), or from source
 *             through tsx when it cannot be built (said in the report);
 * - baseline: bench/baseline-longpoll-server.ts, the least a node:http long-poll server does;
 * - floor:    bench/floor-longpoll-server.ts, about the least any Node long-poll server can do (node:net,
 *             no HTTP parser): what the runtime itself costs per answer;
 * - json:     bench/baseline-json-server.ts, a trivial node:http JSON handler (the publish baseline);
 * - nchan:    nginx with the nchan module (Debian nginx + libnginx-mod-nchan), one worker process,
 *             long-poll subscribers and HTTP publish at the same URLs the load generator uses.
 * Node servers load bench/server-probe.mjs and answer GC, allocation and profile requests over IPC.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDIS_URL } from './redis.ts';
import { childrenOf, cpuSecondsOf, pinned, rssBytesOf, SERVER_CORE, sleep, systemSecondsOf } from './system.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HOST = '127.0.0.1';
export const PUB_KEY = 'pub-b';
export const SUB_KEY = 'sub-b';

export type ServerKind = 'parley' | 'baseline' | 'floor' | 'nchan' | 'json';
/** How subscribers talk to the server: PubNub's subscribe v2 (Parley and the Node baselines) or nchan's long-poll. */
export type Dialect = 'pubnub' | 'nchan';

export interface ProbeSample {
  gcMs: number;
  allocatedBytes: number;
  heapUsedBytes: number;
  rssBytes: number;
}

/** The IPC side of bench/server-probe.mjs. */
export class Probe {
  constructor(private readonly child: ChildProcess) {}

  private ask<T>(msg: object, probe: string, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`server probe did not answer ${probe} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { probe?: string }): void => {
        if (m?.probe !== probe) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(m as T);
      };
      this.child.on('message', onMessage);
      this.child.send(msg);
    });
  }

  sample(): Promise<ProbeSample> {
    return this.ask({ probe: 'sample' }, 'sample');
  }

  /** Two full GCs, then heap and RSS. */
  settle(): Promise<{ heapUsedBytes: number; rssBytes: number }> {
    return this.ask({ probe: 'settle' }, 'settle');
  }

  /** A CPU profile (`.cpuprofile`) or an allocation profile (`.heapprofile`, every allocation sampled) of `during`. */
  async profile<T>(kind: 'cpu' | 'alloc', file: string, during: () => Promise<T>): Promise<T> {
    const [start, stop] = kind === 'cpu' ? ['profile-start', 'profile-stop'] : ['alloc-start', 'alloc-stop'];
    await this.ask({ probe: start }, start);
    try {
      return await during();
    } finally {
      await this.ask({ probe: stop, path: file }, stop, 120_000);
    }
  }
}

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly dialect: Dialect;
  readonly pid: number;
  readonly port: number;
  /** Processes whose CPU and memory count as the server's (nginx: its master and worker). */
  pids(): number[];
  cpuSeconds(): number;
  /** The part of cpuSeconds spent in the kernel (stime). */
  systemSeconds(): number;
  rssBytes(): number;
  /** Node servers only. */
  readonly probe: Probe | null;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Parley's engine; redis needs `redisPrefix` (a Redis at REDIS_URL). */
  store?: 'memory' | 'sqlite' | 'redis';
  /** Key prefix of this server's Redis keys (store redis): one per server started, deleted after it stops. */
  redisPrefix?: string;
  /** cluster.workers for Parley (store redis): 0 = one process. */
  workers?: number;
  /** Extra node flags for the Node servers (e.g. --max-semi-space-size=32). */
  nodeArgs?: string[];
  /** Parley's keyset secret: turns the Access Manager on. */
  secretKey?: string;
  /** More PARLEY_* settings for Parley (e.g. PARLEY_FAST_LANE=false), after the benchmark's own. */
  parleyEnv?: Record<string, string>;
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
// Never leave a server or its files behind, however this process ends.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

function dropTempDir(d: string | null): void {
  if (d === null) return;
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

export interface ParleyBuild {
  /** Script and node flags that run Parley. */
  script: string;
  nodeArgs: string[];
  /** What ran, for the report. */
  description: string;
}

/**
 * Parley as `npm start` runs it: compiled JavaScript (scripts/build.mjs --if-stale, the same step
 * `npm start` takes). Through tsx only when that fails: tsx's transform wraps named closures in
 * `__name()` calls, which costs CPU and memory on every request, so such figures are marked.
 */
export function prepareParley(from: 'dist' | 'src'): ParleyBuild {
  if (from === 'dist') {
    try {
      execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      if (existsSync(path.join(ROOT, 'dist', 'main.js')))
        return { script: 'dist/main.js', nodeArgs: [], description: 'dist/main.js (compiled, as npm start runs it)' };
    } catch (err) {
      process.stderr.write(`bench: could not build dist/ (${(err as Error).message.split('\n')[0]}); running Parley from source through tsx\n`);
    }
  }
  return { script: 'src/main.ts', nodeArgs: ['--import', 'tsx'], description: 'src/main.ts through tsx (NOT the compiled build: slower per request)' };
}

/** Waits for `listening on http://host:PORT` on stdout. */
function listeningPort(child: ChildProcess, what: string, stderrTail: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let stdout = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${what} did not start within 30 s\n${stderrTail()}`)), 30_000);
    const finish = (err: Error | null, port = 0): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(port);
    };
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout = (stdout + c).slice(-4000);
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(stdout);
      if (m) finish(null, Number(m[1]));
    });
    child.once('exit', (code) => finish(new Error(`${what} exited with code ${code} before listening\n${stderrTail()}`)));
  });
}

function track(child: ChildProcess): { exited: Promise<void>; stderr: () => string } {
  children.add(child);
  let stderr = '';
  // Keep the pipes drained (a full pipe would stall the server) and the tail for error reports.
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  return { exited, stderr: () => stderr };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

const PROBE = path.join(ROOT, 'bench', 'server-probe.mjs');

const NODE_BASELINES = {
  baseline: process.env.BENCH_BASELINE ?? 'bench/baseline-longpoll-server.ts',
  floor: 'bench/floor-longpoll-server.ts',
  json: 'bench/baseline-json-server.ts',
};

async function startNode(kind: Exclude<ServerKind, 'nchan'>, o: ServerOptions, build: ParleyBuild | null): Promise<ServerProcess> {
  const script = kind === 'parley' ? build!.script : NODE_BASELINES[kind];
  const loader = kind === 'parley' ? build!.nodeArgs : ['--import', 'tsx'];
  const nodeArgs = [...loader, '--import', PROBE, ...(o.nodeArgs ?? []), script];
  // The benchmark owns the configuration: drop PARLEY_* from the caller's environment (a stray
  // PARLEY_SECRET_KEY would turn the Access Manager on).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  const dataDir = kind === 'parley' && o.store === 'sqlite' ? tempDir('parley-bench-') : null;
  Object.assign(env, {
    PORT: '0',
    HOST,
    PARLEY_HOST: HOST,
    PARLEY_STORE: o.store ?? 'memory',
    PARLEY_DEMO_ENABLED: 'false',
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_PUBLISH_KEY: PUB_KEY,
    PARLEY_SUBSCRIBE_KEY: SUB_KEY,
    // Every subscriber connects from 127.0.0.1: lift the per-address and node caps above the run's size.
    PARLEY_LIMITS_MAX_CONNECTIONS: '19000',
    PARLEY_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '19000',
    PARLEY_LIMITS_MAX_LONG_POLLS: '19000',
    PARLEY_LIMITS_MAX_LONG_POLLS_PER_ADDRESS: '19000',
    ...(o.secretKey ? { PARLEY_SECRET_KEY: o.secretKey } : {}),
    ...(dataDir ? { PARLEY_DATA_DIR: dataDir } : {}),
    ...(kind === 'parley' && o.store === 'redis' ? { PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: o.redisPrefix ?? 'parley-bench' } : {}),
    ...(kind === 'parley' && o.workers ? { PARLEY_CLUSTER_WORKERS: String(o.workers) } : {}),
    ...(kind === 'parley' ? o.parleyEnv : {}),
  });
  // taskset execs node in place, so the child's pid is the server's pid.
  const { command, args } = pinned(SERVER_CORE, process.execPath, nodeArgs);
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const { exited, stderr } = track(child);
  const stop = async (): Promise<void> => {
    await stopChild(child, exited);
    dropTempDir(dataDir);
  };
  const port = await listeningPort(child, kind, stderr).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  const pid = child.pid!;
  // In cluster mode the primary's workers (its child processes) serve the requests: they count too.
  const pids = (): number[] => [pid, ...childrenOf(pid)];
  return {
    kind,
    dialect: 'pubnub',
    pid,
    port,
    pids,
    cpuSeconds: () => cpuSecondsOf(pids()),
    systemSeconds: () => systemSecondsOf(pids()),
    rssBytes: () => rssBytesOf(pids()),
    probe: new Probe(child),
    stop,
  };
}

/**
 * Parley from source through tsx, unpinned, with settings for benchmarks that run several nodes of it
 * (bench/cross-node.ts, bench/latency.ts): port 0 on loopback, errors only, no demo, then `env` over them.
 * Its stderr is this process's; it is stopped with this process at the latest. Resolves once it listens
 * (within 30 s) with its URL and a promise of its exit.
 */
export async function spawnParleyNode(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', PARLEY_HOST: HOST, PARLEY_LOG_LEVEL: 'error', PARLEY_DEMO_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { exited } = track(child);
  const port = await listeningPort(child, 'parley node', () => '(its stderr is above)');
  return { child, url: `http://${HOST}:${port}`, exited };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';

/** Whether nginx and its nchan module are installed (Debian: apt-get install -y nginx libnginx-mod-nchan). */
export function hasNchan(): boolean {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return existsSync(NCHAN_MODULE);
  } catch {
    return false;
  }
}

/**
 * nginx + nchan with its own configuration in a temp dir: one worker (one core, like the Node servers),
 * the subscribe URL as a long-poll subscriber location whose position is the `tt` query parameter (the
 * message id from the previous answer's Etag), messages queued in one answer when a subscriber is
 * behind (nchan_longpoll_multipart_response raw: the coalescing Parley does), 500 messages buffered per
 * channel (Parley's subscribe.bufferPerChannel), and HTTP POST publish.
 */
async function startNchan(): Promise<ServerProcess> {
  const dir = tempDir('nchan-bench-');
  const port = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(path.join(dir, d));
  const conf = `load_module ${NCHAN_MODULE};
user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 65s;
  keepalive_requests 100000000;
  tcp_nodelay on;
  nchan_max_reserved_memory 256M;
  server {
    listen ${HOST}:${port} backlog=4096;
    location ~ ^/v2/subscribe/[^/]+/([^/]+)/0$ {
      nchan_subscriber longpoll;
      nchan_channel_id $1;
      nchan_subscriber_compound_etag_message_id on;
      nchan_longpoll_multipart_response raw;
      nchan_subscriber_first_message newest;
      nchan_subscriber_last_message_id $arg_tt;
      nchan_subscriber_timeout 280s;
    }
    location ~ ^/publish/[^/]+/[^/]+/0/([^/]+)/0$ {
      nchan_publisher http;
      nchan_channel_id $1;
      nchan_message_buffer_length 500;
      nchan_message_timeout 10m;
    }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const { command, args } = pinned(SERVER_CORE, 'nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;']);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const { exited, stderr } = track(child);
  const master = child.pid!;
  const stop = async (): Promise<void> => {
    // SIGTERM to the master: a fast shutdown that stops its workers too.
    await stopChild(child, exited);
    dropTempDir(dir);
  };
  // Ready when the worker accepts connections.
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited with code ${child.exitCode}\n${stderr()}`);
    }
    const ok = await canConnect(port);
    if (ok && childrenOf(master).length > 0) break;
    if (Date.now() - started > 10_000) {
      await stop();
      throw new Error(`nginx did not listen within 10 s\n${stderr()}`);
    }
    await sleep(50);
  }
  const pids = (): number[] => [master, ...childrenOf(master)];
  return {
    kind: 'nchan',
    dialect: 'nchan',
    pid: master,
    port,
    pids,
    cpuSeconds: () => cpuSecondsOf(pids()),
    systemSeconds: () => systemSecondsOf(pids()),
    rssBytes: () => rssBytesOf(pids()),
    probe: null,
    stop,
  };
}

export async function startServer(kind: ServerKind, o: ServerOptions, build: ParleyBuild | null): Promise<ServerProcess> {
  if (kind === 'nchan') return startNchan();
  return startNode(kind, o, build);
}
