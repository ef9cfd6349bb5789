/**
 * Long-poll fan-out benchmark: one channel, N = 1, 100, 1000 long-poll subscribers, Parley beside a
 * raw node:http long-poll server (bench/baseline-longpoll-server.ts) measured in the same run.
 *
 *   npm run bench -- [--store memory|sqlite] [--n 1,100,1000] [--servers baseline,parley]
 *                    [--client http|raw] [--seconds 3] [--cpu-prof DIR] [--server-arg NODE_FLAG]...
 *
 * Each server runs as a child process pinned to core 0; this process (the load generator) pins itself
 * to core 1, when the machine has two cores and `taskset` exists. Per N:
 * - latency: publish one ~100-byte message at a time, wait until all N subscribers have it and the
 *   server's event loop is asleep again (re-polls parked), and record publish-sent → answer-received
 *   per delivery. Every answer then holds exactly one message, so this phase also gives the server CPU
 *   per uncoalesced answer;
 * - throughput: a few publishes in flight for a bounded time, then drain; count messages/s and
 *   deliveries/s. Long-poll answers coalesce: a subscriber that re-polls late gets every message it
 *   missed in one answer, so deliveries per answer is reported too.
 * Server CPU is utime+stime of the server process from /proc/<pid>/stat, before and after each phase.
 *
 * The load generator is one Node process on one core. With `--client http` (node:http through a
 * keep-alive Agent, the default) it drives only a few tens of thousands of long-poll answers/s
 * (performance.md), less than either server can serve, so deliveries/s measure the client and the
 * servers run part idle. `--client raw` (a minimal HTTP/1.1 client on raw sockets) is several times
 * cheaper per answer and pushes both servers close to 100% CPU; use it when comparing deliveries per
 * server-CPU-second, because an idle-then-woken server pays wake-up costs a saturated one does not.
 */
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const PUB_KEY = 'pub-b';
const SUB_KEY = 'sub-b';
const CHANNEL = 'bench-fanout';
/** Pads each message to about 100 bytes of JSON, the size the peers in performance.md were run with. */
const PAD = 'x'.repeat(78);
const WARMUP_MESSAGES = 20;
/** Per-message wait in the latency phase; a lost message costs at most this much. */
const DELIVERY_TIMEOUT_MS = 5_000;
const PUBLISHES_IN_FLIGHT = 4;
/**
 * Publishers pause while the slowest subscriber is this many messages behind. It stays under Parley's
 * in-memory buffer (500 per channel), so the benchmark measures the delivery path, not store catch-up.
 */
const PUBLISH_WINDOW = 200;
const DRAIN_TIMEOUT_MS = 5_000;
/** Messages per N (ids index the per-message accounting arrays). */
const MAX_MESSAGES = 1 << 20;
/** Kill everything if the run hangs despite the per-phase bounds. */
const WATCHDOG_MS = 240_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type ServerKind = 'baseline' | 'parley';
type ClientKind = 'http' | 'raw';

interface Options {
  store: 'memory' | 'sqlite';
  ns: number[];
  servers: ServerKind[];
  client: ClientKind;
  seconds: number;
  cpuProfDir: string | null;
  /** Extra node flags for the server processes (e.g. --max-semi-space-size=32). */
  serverArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { store: 'memory', ns: [1, 100, 1000], servers: ['baseline', 'parley'], client: 'raw', seconds: 3, cpuProfDir: null, serverArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--store': {
        const v = value();
        if (v !== 'memory' && v !== 'sqlite') throw new Error('--store is memory or sqlite');
        o.store = v;
        break;
      }
      case '--n':
        o.ns = value().split(',').map(Number);
        if (o.ns.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) throw new Error('--n takes integers 1..5000');
        break;
      case '--servers':
        o.servers = value().split(',') as ServerKind[];
        if (o.servers.some((s) => s !== 'baseline' && s !== 'parley')) throw new Error('--servers takes baseline,parley');
        break;
      case '--client': {
        const v = value();
        if (v !== 'http' && v !== 'raw') throw new Error('--client is http or raw');
        o.client = v;
        break;
      }
      case '--seconds':
        o.seconds = Number(value());
        if (!(o.seconds > 0 && o.seconds <= 30)) throw new Error('--seconds takes 0..30');
        break;
      case '--server-arg':
        o.serverArgs.push(value());
        break;
      case '--cpu-prof':
        o.cpuProfDir = path.resolve(value());
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see the header of bench/fanout.ts)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Cores and CPU time

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const CORES = os.availableParallelism();
const PIN = CORES >= 2 && process.platform === 'linux' && hasTaskset();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
const CLK_TCK = clockTicks();

/** utime + stime of every thread of the process, in seconds (resolution 1/CLK_TCK, usually 10 ms). */
function serverCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name start at field 3; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Process state of the server's main (event-loop) thread: R running, S sleeping in epoll_wait. */
function serverState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat[stat.lastIndexOf(')') + 2];
}

/** Waits (at most maxMs) until the server's event loop has been seen asleep twice in a row, 1 ms apart. */
async function waitServerIdle(pid: number, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  let asleep = 0;
  while (asleep < 2 && performance.now() < end) {
    asleep = serverState(pid) === 'S' ? asleep + 1 : 0;
    await sleep(1);
  }
}

function clientCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// ---------------------------------------------------------------------------------------------------
// Server child processes

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
// Never leave a server or its data behind, however this process ends.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

interface ServerProcess {
  kind: ServerKind;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

async function startServer(kind: ServerKind, o: Options): Promise<ServerProcess> {
  const script = kind === 'parley' ? 'src/main.ts' : 'bench/baseline-longpoll-server.ts';
  const nodeArgs = ['--import', 'tsx'];
  // No --cpu-prof-name: tsx's loader thread writes a profile too and would overwrite the main thread's.
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', o.cpuProfDir);
  nodeArgs.push(...o.serverArgs, script);
  // The benchmark owns the configuration: drop PARLEY_* from the caller's environment (a stray
  // PARLEY_SECRET_KEY would turn the Access Manager on).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARLEY_')) env[k] = v;
  const dataDir = o.store === 'sqlite' && kind === 'parley' ? mkdtempSync(path.join(os.tmpdir(), 'parley-bench-')) : null;
  if (dataDir) tempDirs.add(dataDir);
  Object.assign(env, {
    PORT: '0',
    HOST,
    PARLEY_HOST: HOST,
    PARLEY_STORE: o.store,
    PARLEY_DEMO_ENABLED: 'false',
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_PUBLISH_KEY: PUB_KEY,
    PARLEY_SUBSCRIBE_KEY: SUB_KEY,
    ...(dataDir ? { PARLEY_DATA_DIR: dataDir } : {}),
  });
  // taskset execs node in place, so the child's pid is the server's pid.
  const child = PIN
    ? spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  // Keep the pipes drained (a full pipe would stall the server) and the tail for error reports.
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));

  let listening = false;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    } else if (listening) {
      process.stderr.write(`${kind} server had exited (code ${child.exitCode}, signal ${child.signalCode}):\n${stderr}\n`);
    }
    if (dataDir) {
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    }
  };

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 30 s\n${stderr}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout = (stdout + c).slice(-4000);
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(stdout);
      if (m && !listening) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with code ${code} before listening\n${stderr}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return { kind, pid: child.pid!, port, stop };
}

// ---------------------------------------------------------------------------------------------------
// Load generator

type Done = (err: Error | null, status: number, body: string) => void;

/** One GET through a node:http Agent; `done` runs exactly once. */
function get(agent: http.Agent, port: number, urlPath: string, done: Done): http.ClientRequest {
  let called = false;
  const finish = (err: Error | null, status: number, body: string): void => {
    if (called) return;
    called = true;
    done(err, status, body);
  };
  const req = http.request({ agent, host: HOST, port, path: urlPath, method: 'GET' }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => finish(null, res.statusCode ?? 0, body));
    res.on('error', (err) => finish(err, 0, ''));
  });
  req.on('error', (err) => finish(err, 0, ''));
  req.end();
  return req;
}

/** How a subscriber sends its GETs: one at a time, each answered before the next. */
interface Transport {
  get(urlPath: string, done: Done): void;
  close(): void;
}

/** node:http client through a shared keep-alive Agent: what a Node application would use. */
class AgentTransport implements Transport {
  private req: http.ClientRequest | null = null;

  constructor(
    private readonly agent: http.Agent,
    private readonly port: number,
    private readonly onNewConnection: () => void,
  ) {}

  get(urlPath: string, done: Done): void {
    const req = (this.req = get(this.agent, this.port, urlPath, (err, status, body) => {
      if (!err && !req.reusedSocket) this.onNewConnection();
      // Node frees a keep-alive socket in a nextTick after 'end': a GET sent from within this callback
      // would find no free socket and open a new connection every time.
      process.nextTick(done, err, status, body);
    }));
  }

  close(): void {
    this.req?.destroy();
  }
}

/**
 * One keep-alive HTTP/1.1 connection over a raw socket, parsing only what these two servers send
 * (status line, Content-Length, body). It costs the load generator a fraction of http.request per
 * answer, so one core of load generation can push a server much closer to saturation.
 */
class RawTransport implements Transport {
  private socket: net.Socket | null = null;
  private buf = '';
  private pending: Done | null = null;

  constructor(private readonly port: number) {}

  get(urlPath: string, done: Done): void {
    if (!this.socket || this.socket.destroyed) this.socket = this.connect();
    this.pending = done;
    this.socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${HOST}:${this.port}\r\n\r\n`);
  }

  private connect(): net.Socket {
    this.buf = '';
    const socket = net.connect({ host: HOST, port: this.port, noDelay: true });
    // latin1 keeps one character per byte, so Content-Length can be compared with string lengths.
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      this.parse();
    });
    const fail = (err: Error): void => {
      const done = this.pending;
      this.pending = null;
      done?.(err, 0, '');
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private parse(): void {
    const buf = this.buf;
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const m = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, headEnd));
    if (!m) {
      this.socket!.destroy(new Error('answer without Content-Length'));
      return;
    }
    const bodyEnd = headEnd + 4 + Number(m[1]);
    if (buf.length < bodyEnd) return;
    this.buf = buf.slice(bodyEnd);
    const done = this.pending;
    this.pending = null;
    done?.(null, Number(buf.slice(9, 12)), buf.slice(headEnd + 4, bodyEnd));
  }

  close(): void {
    this.pending = null;
    this.socket?.destroy();
  }
}

interface SubscribeAnswer {
  t: { t: string; r: number };
  m: { p: { t: string }; d: { id: number } }[];
}

/** Timetokens are decimal strings, possibly beyond 2^53: compare by length, then digits. */
const ttAfter = (a: string, b: string): boolean => a.length > b.length || (a.length === b.length && a > b);

class Subscriber {
  tt = '';
  /** Timetoken of the last envelope received: they must rise strictly per subscriber. */
  lastTt = '';
  /** Id of the last message received (the latency phase publishes one at a time, so ids rise too). */
  lastId = 0;

  constructor(
    private readonly load: Load,
    private readonly transport: Transport,
    private readonly uuid: string,
  ) {}

  /** wire-protocol.md §3.2: the first subscribe has no tt and answers at once with the current one. */
  handshake(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.transport.get(`/v2/subscribe/${SUB_KEY}/${CHANNEL}/0?uuid=${this.uuid}`, (err, status, body) => {
        if (err || status !== 200) return reject(err ?? new Error(`handshake: HTTP ${status} ${body.slice(0, 200)}`));
        this.tt = (JSON.parse(body) as SubscribeAnswer).t.t;
        resolve();
      });
    });
  }

  poll(): void {
    const load = this.load;
    if (!load.running) return;
    this.transport.get(`/v2/subscribe/${SUB_KEY}/${CHANNEL}/0?tt=${this.tt}&tr=1&uuid=${this.uuid}`, (err, status, body) => {
      if (!load.running) return;
      if (err || status !== 200) {
        load.errors++;
        if (load.errors <= 3) process.stderr.write(`  subscribe failed: ${err?.message ?? `HTTP ${status} ${body.slice(0, 200)}`}\n`);
        setTimeout(() => this.poll(), 50);
        return;
      }
      const now = performance.now();
      const answer = JSON.parse(body) as SubscribeAnswer;
      this.tt = answer.t.t;
      load.answers++;
      for (const env of answer.m) load.delivered(this, env.p.t, env.d.id, now);
      this.poll();
    });
  }

  close(): void {
    this.transport.close();
  }
}

/** N subscribers on the channel, a publisher, and per-message delivery accounting. */
class Load {
  readonly subAgent: http.Agent;
  readonly pubAgent: http.Agent;
  readonly subs: Subscriber[] = [];
  running = true;
  /** Per message id: when its publish was sent, and how many subscribers have it. */
  private readonly sentAt = new Float64Array(MAX_MESSAGES + 1);
  private readonly got = new Uint32Array(MAX_MESSAGES + 1);
  nextId = 1;
  /** Lowest id not yet delivered to every subscriber. */
  complete = 1;
  /** Called whenever `complete` advances or a publish answers. */
  onProgress: (() => void) | null = null;
  /** Per-delivery latencies (ms) while recording. */
  latencies: number[] | null = null;
  deliveries = 0;
  answers = 0;
  errors = 0;
  duplicates = 0;
  /** Deliveries that had not arrived when the latency phase (or its warm-up) gave up waiting. */
  missing = 0;
  /** Polls that could not reuse a keep-alive socket (each costs a connect on both sides). */
  newConnections = 0;

  constructor(
    readonly port: number,
    readonly n: number,
    client: ClientKind,
  ) {
    // performance.md lever 5: no Nagle on either side.
    const opts = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, noDelay: true };
    this.subAgent = new http.Agent(opts);
    this.pubAgent = new http.Agent({ ...opts, maxSockets: 2 * PUBLISHES_IN_FLIGHT });
    const onNewConnection = (): void => void this.newConnections++;
    for (let i = 0; i < n; i++) {
      const transport = client === 'raw' ? new RawTransport(port) : new AgentTransport(this.subAgent, port, onNewConnection);
      this.subs.push(new Subscriber(this, transport, `bench-sub-${i}`));
    }
  }

  /**
   * Handshakes and parks the polls 100 subscribers at a time: each batch's parked polls hold their
   * sockets, so the next batch opens its own, and no burst of connects overflows the listen backlog
   * (a dropped SYN is retried only after a second).
   */
  async connect(): Promise<void> {
    for (let i = 0; i < this.subs.length; i += 100) {
      const batch = this.subs.slice(i, i + 100);
      await Promise.all(batch.map((s) => s.handshake()));
      for (const s of batch) s.poll();
    }
  }

  delivered(sub: Subscriber, tt: string, id: number, now: number): void {
    // Concurrent publishes may be sequenced by the server in another order than their ids, so order is
    // checked on the server's timetokens; losses show as deliveries missing after the drain.
    if (!ttAfter(tt, sub.lastTt) || this.got[id] >= this.n) {
      this.duplicates++;
      return;
    }
    sub.lastTt = tt;
    if (id > sub.lastId) sub.lastId = id;
    this.deliveries++;
    this.latencies?.push(now - this.sentAt[id]);
    if (++this.got[id] === this.n && id === this.complete) {
      while (this.got[this.complete] === this.n) this.complete++;
      this.onProgress?.();
    }
  }

  publish(id: number, done: () => void): void {
    const payload = encodeURIComponent(JSON.stringify({ id, text: PAD }));
    this.sentAt[id] = performance.now();
    get(this.pubAgent, this.port, `/publish/${PUB_KEY}/${SUB_KEY}/0/${CHANNEL}/0/${payload}?uuid=bench-pub`, (err, status, body) => {
      if (err || status !== 200) {
        this.errors++;
        if (this.errors <= 3) process.stderr.write(`  publish failed: ${err?.message ?? `HTTP ${status} ${body.slice(0, 200)}`}\n`);
      }
      done();
      this.onProgress?.();
    });
  }

  close(): void {
    this.running = false;
    for (const s of this.subs) s.close();
    this.subAgent.destroy();
    this.pubAgent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Phases

interface LatencyResult {
  latencies: Float64Array;
  deliveries: number;
  serverCpu: number;
}

/** One message at a time; each waits (bounded) until every subscriber has it. */
async function latencyPhase(load: Load, srv: ServerProcess, count: number, record: boolean): Promise<LatencyResult> {
  const latencies: number[] = [];
  load.latencies = record ? latencies : null;
  let timeouts = 0;
  const d0 = load.deliveries;
  const cpu0 = serverCpuSeconds(srv.pid);
  for (let k = 0; k < count && timeouts < 3; k++) {
    const id = load.nextId++;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), DELIVERY_TIMEOUT_MS);
      load.onProgress = () => {
        if (load.complete > id) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      load.publish(id, () => {});
    });
    load.onProgress = null;
    if (!ok) {
      timeouts++;
      load.missing += load.n - load.subs.filter((s) => s.lastId >= id).length;
      // Give up on this id so later ids can complete.
      load.complete = Math.max(load.complete, id + 1);
    }
    // Let the re-polls reach the server and park before the next publish, so each message measures a
    // wake of parked polls rather than a race with the previous fan-out.
    await new Promise((r) => setImmediate(r)); // the re-polls are written a few ticks after scheduling
    await waitServerIdle(srv.pid, 50);
  }
  load.latencies = null;
  const serverCpu = serverCpuSeconds(srv.pid) - cpu0;
  return { latencies: Float64Array.from(latencies).sort(), deliveries: load.deliveries - d0, serverCpu };
}

interface ThroughputResult {
  seconds: number;
  messages: number;
  deliveries: number;
  answers: number;
  undelivered: number;
  serverCpu: number;
  clientCpu: number;
}

/** Publishes with a few requests in flight for `seconds`, then waits for the drain (bounded). */
async function throughputPhase(load: Load, srv: ServerProcess, seconds: number): Promise<ThroughputResult> {
  const firstId = load.nextId;
  const d0 = load.deliveries;
  const a0 = load.answers;
  const cpu0 = serverCpuSeconds(srv.pid);
  const ccpu0 = clientCpuSeconds();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let inFlight = 0;

  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      clearTimeout(drainTimer);
      load.onProgress = null;
      resolve();
    };
    const pump = (): void => {
      const publishing = performance.now() < deadline;
      while (publishing && inFlight < PUBLISHES_IN_FLIGHT && load.nextId - load.complete < PUBLISH_WINDOW && load.nextId < MAX_MESSAGES) {
        inFlight++;
        load.publish(load.nextId++, () => inFlight--);
      }
      if (!publishing && inFlight === 0 && load.complete === load.nextId) finish();
    };
    // Wakes the pump when the deadline passes with nothing else happening, and bounds the drain.
    const deadlineTimer = setTimeout(pump, seconds * 1000 + 1);
    const drainTimer = setTimeout(finish, seconds * 1000 + DRAIN_TIMEOUT_MS);
    load.onProgress = pump;
    pump();
  });

  const messages = load.nextId - firstId;
  const deliveries = load.deliveries - d0;
  return {
    seconds: (performance.now() - t0) / 1000,
    messages,
    deliveries,
    answers: load.answers - a0,
    undelivered: messages * load.n - deliveries,
    serverCpu: serverCpuSeconds(srv.pid) - cpu0,
    clientCpu: clientCpuSeconds() - ccpu0,
  };
}

interface Row {
  n: number;
  kind: ServerKind;
  p50: number;
  p99: number;
  latencyMissing: number;
  /** Deliveries per server-CPU-second in the latency phase: one message per answer, nothing coalesced. */
  singlePerCpu: number;
  t: ThroughputResult;
  errors: number;
  duplicates: number;
  newConnections: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function runN(srv: ServerProcess, n: number, o: Options): Promise<Row> {
  const load = new Load(srv.port, n, o.client);
  const started = performance.now();
  const step = (what: string): void => void process.stderr.write(`  ${what} at ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  try {
    await load.connect();
    await sleep(100);
    step('connected');
    await latencyPhase(load, srv, WARMUP_MESSAGES, false);
    step('warmed up');
    // Connections opened while the polls spread out from the handshakes' sockets are expected; from
    // here on every poll should reuse its socket.
    load.newConnections = 0;
    const lat = await latencyPhase(load, srv, n >= 1000 ? 150 : 300, true);
    step('latency measured');
    const t = await throughputPhase(load, srv, o.seconds);
    step('throughput measured');
    return {
      n,
      kind: srv.kind,
      p50: percentile(lat.latencies, 0.5),
      p99: percentile(lat.latencies, 0.99),
      latencyMissing: load.missing,
      singlePerCpu: lat.deliveries / lat.serverCpu,
      t,
      errors: load.errors,
      duplicates: load.duplicates,
      newConnections: load.newConnections,
    };
  } finally {
    load.close();
    // Let the server reap the closed polls before the next N.
    await sleep(300);
  }
}

// ---------------------------------------------------------------------------------------------------
// Report

function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '-';
  return digits === 0 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits);
}

function printTable(rows: Row[]): void {
  const head = ['N', 'server', 'p50 ms', 'p99 ms', 'msgs/s', 'deliv/s', 'deliv/answer', 'srv CPU%', 'gen CPU%', 'deliv/srv-CPU-s', '1-msg answers/srv-CPU-s'];
  const lines: string[][] = [head];
  const ns = [...new Set(rows.map((r) => r.n))];
  for (const n of ns) {
    const byKind = new Map(rows.filter((r) => r.n === n).map((r) => [r.kind, r]));
    for (const r of byKind.values()) {
      const t = r.t;
      lines.push([
        String(n),
        r.kind,
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        fmt(t.messages / t.seconds),
        fmt(t.deliveries / t.seconds),
        fmt(t.deliveries / t.answers, 1),
        fmt((100 * t.serverCpu) / t.seconds),
        fmt((100 * t.clientCpu) / t.seconds),
        fmt(t.deliveries / t.serverCpu),
        fmt(r.singlePerCpu),
      ]);
    }
    const p = byKind.get('parley');
    const b = byKind.get('baseline');
    if (p && b) {
      const x = (a: number, c: number): string => (Number.isFinite(a / c) ? `${(a / c).toFixed(2)}x` : '-');
      const rate = (r: Row, v: number): number => v / r.t.seconds;
      lines.push([
        '',
        'parley/baseline',
        x(p.p50, b.p50),
        x(p.p99, b.p99),
        x(rate(p, p.t.messages), rate(b, b.t.messages)),
        x(rate(p, p.t.deliveries), rate(b, b.t.deliveries)),
        '',
        '',
        '',
        x(p.t.deliveries / p.t.serverCpu, b.t.deliveries / b.t.serverCpu),
        x(p.singlePerCpu, b.singlePerCpu),
      ]);
    }
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const render = (l: string[]): string => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${render(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines.slice(1)) process.stdout.write(render(l) + '\n');

  const problems = rows.filter((r) => r.errors || r.duplicates || r.newConnections || r.latencyMissing || r.t.undelivered);
  for (const r of problems) {
    process.stdout.write(
      `! N=${r.n} ${r.kind}: ${r.errors} request errors, ${r.duplicates} duplicate or out of order, ${r.newConnections} polls on new connections, ` +
        `${r.latencyMissing} missing in the latency phases, ${r.t.undelivered} undelivered after the drain\n`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  setTimeout(() => {
    process.stderr.write('fanout: watchdog: the run took too long, giving up\n');
    process.exit(2);
  }, WATCHDOG_MS).unref();
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  process.stdout.write(
    `fan-out over long-poll, 1 channel, ~100-byte messages; node ${process.version}, ${CORES} cores; ` +
      (PIN ? 'servers pinned to core 0, load generator to core 1' : 'NOT pinned (needs 2 cores and taskset): figures are noisier') +
      `; Parley store: ${o.store}; subscriber client: ${o.client}\n`,
  );
  const rows: Row[] = [];
  for (const kind of o.servers) {
    const srv = await startServer(kind, o);
    process.stderr.write(`${kind} server: pid ${srv.pid}, port ${srv.port}\n`);
    try {
      for (const n of o.ns) {
        process.stderr.write(`${kind}, N=${n} ...\n`);
        rows.push(await runN(srv, n, o));
      }
    } finally {
      await srv.stop();
    }
  }
  printTable(rows);
  process.stdout.write(
    '\np50/p99: publish sent → answer received at each subscriber, one message at a time.\n' +
      `msgs/s, deliv/s: ${o.seconds} s with ${PUBLISHES_IN_FLIGHT} publishes in flight (paused while a subscriber is ${PUBLISH_WINDOW} behind), plus the drain.\n` +
      'deliv/answer > 1 means answers coalesced. srv CPU% near 100 = server-bound; gen CPU% near 100 = load-generator-bound.\n' +
      '1-msg answers/srv-CPU-s: from the latency phase, where every answer carries one message and the server sleeps between\n' +
      '  messages, so it includes a wake-up per message (N=1 is mostly wake-ups and the publish itself).\n',
  );
  if (o.cpuProfDir) process.stdout.write(`CPU profiles of the servers (CPU.*.<pid>.*; the largest per pid is the main thread): ${o.cpuProfDir}\n`);
}

main().catch((err) => {
  process.stderr.write(`fanout: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
