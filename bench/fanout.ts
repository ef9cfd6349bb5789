/**
 * `npm run bench`: Parley's benchmark suite. Every figure is read beside a baseline measured in the same
 * run (performance.md), and the run writes bench/results/latest.json and bench/results/latest.svg.
 *
 *   npm run bench -- [--n 1000,10000] [--servers parley,baseline,floor,nchan] [--seconds 5]
 *                    [--store memory|sqlite|redis] [--workers N] [--parley dist|src] [--repeat 1]
 *                    [--publish-seconds 4] [--no-publish] [--no-fanout]
 *                    [--cpu-prof DIR | --alloc-prof DIR] [--server-arg NODE_FLAG]...
 *                    [--parley-env PARLEY_NAME=value]... [--out DIR]
 *
 * Long-poll fan-out, one channel, N subscribers, ~100-byte messages, for each server:
 * - parley:   Parley as `npm start` runs it (compiled), memory engine;
 * - baseline: bench/baseline-longpoll-server.ts, a raw node:http long-poll server (the least any
 *             node:http server must do for this workload);
 * - floor:    bench/floor-longpoll-server.ts, about the least any Node server can do for it (node:net,
 *             no HTTP parser, no features): what the runtime costs per answer, beside nchan;
 * - nchan:    nginx + nchan, one worker, long-poll subscribers, HTTP publish (skipped, and said so,
 *             when nginx or libnginx-mod-nchan is not installed).
 * Each (server, N) gets a fresh server process pinned to core 0; this process, the load generator, runs
 * on core 1 (bench/lib/load.ts: raw sockets, so one core drives the servers to saturation). Per run:
 * - memory: at the largest N, RSS per parked long-poll (after a full GC for the Node servers);
 * - latency: one message at a time, each waiting until all N subscribers have it and the server sleeps;
 *   p50/p99 of publish-sent → answer-received, and deliveries per server-CPU-second with one message
 *   per answer ("single");
 * - throughput: a few publishes in flight for --seconds, then the drain; deliveries per server-CPU-
 *   second with answers coalescing ("coalesced"), GC share and bytes allocated per delivery (Node
 *   servers, from bench/server-probe.mjs), and messages lost (deliveries missing after the drain).
 * Then the publish benchmark (bench/publish.ts): authorized publish vs a trivial node:http JSON handler.
 * --store redis runs Parley on the Redis engine (a Redis at 127.0.0.1:6379, a key prefix per server,
 * deleted after it), and --workers N in cluster mode (cluster.workers = N, every worker on the server's
 * core: deliveries per CPU-second compare the cost, not the cores); no memory figure then.
 * Server CPU is utime+stime from /proc/<pid>/stat (nginx: master and worker; Parley: the process and its
 * cluster workers; Redis's own CPU is not counted). Nothing is asserted: the
 * goals are printed with their verdicts, and CI runs none of this.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderChart } from './lib/chart.ts';
import { Load, latencyPhase, percentile, type ThroughputResult, throughputPhase } from './lib/load.ts';
import { deleteRedisKeys } from './lib/redis.ts';
import { hasNchan, type ParleyBuild, prepareParley, ROOT, type ServerKind, type ServerProcess, startServer } from './lib/servers.ts';
import { CORES, PIN, pinSelfToLoadCore, sleep } from './lib/system.ts';
import { type PublishRow, printPublishRows, runPublishBench } from './publish.ts';

const WARMUP_MESSAGES = 20;
/** Per-message wait in the latency phase; a lost message costs at most this much. */
const DELIVERY_TIMEOUT_MS = 5_000;
const PUBLISHES_IN_FLIGHT = 4;
/**
 * Publishers pause while the slowest subscriber is this many messages behind. It stays under the
 * servers' per-channel buffers (500), so the benchmark measures the delivery path, not catch-up.
 */
const PUBLISH_WINDOW = 200;
const DRAIN_TIMEOUT_MS = 10_000;
/** Kill everything if the run hangs despite the per-phase bounds. */
const WATCHDOG_MS = 30 * 60_000;
const MAX_N = 10_000;

type FanoutKind = Exclude<ServerKind, 'json'>;
const FANOUT_KINDS: readonly FanoutKind[] = ['parley', 'baseline', 'floor', 'nchan'];

interface Options {
  store: 'memory' | 'sqlite' | 'redis';
  workers: number;
  ns: number[];
  servers: FanoutKind[];
  seconds: number;
  parley: 'dist' | 'src';
  repeat: number;
  publishSeconds: number;
  publish: boolean;
  fanout: boolean;
  /** Where the throughput phases' profiles go (Node servers), and which kind. */
  profileDir: string | null;
  profile: 'cpu' | 'alloc';
  serverArgs: string[];
  parleyEnv: Record<string, string>;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    store: 'memory',
    workers: 0,
    ns: [1000, 10_000],
    servers: ['parley', 'baseline', 'floor', 'nchan'],
    seconds: 5,
    parley: 'dist',
    repeat: 1,
    publishSeconds: 4,
    publish: true,
    fanout: true,
    profileDir: null,
    profile: 'cpu',
    serverArgs: [],
    parleyEnv: {},
    out: path.join(ROOT, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--store': {
        const v = value();
        if (v !== 'memory' && v !== 'sqlite' && v !== 'redis') throw new Error('--store is memory, sqlite or redis');
        o.store = v;
        break;
      }
      case '--workers':
        o.workers = Number(value());
        if (!(Number.isInteger(o.workers) && o.workers >= 0 && o.workers <= 8)) throw new Error('--workers takes 0..8');
        break;
      case '--n':
        o.ns = value().split(',').map(Number);
        if (o.ns.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_N)) throw new Error(`--n takes integers 1..${MAX_N}`);
        break;
      case '--servers':
        o.servers = value().split(',') as FanoutKind[];
        if (o.servers.some((s) => !FANOUT_KINDS.includes(s))) throw new Error(`--servers takes ${FANOUT_KINDS.join(',')}`);
        break;
      case '--seconds':
        o.seconds = Number(value());
        if (!(o.seconds > 0 && o.seconds <= 60)) throw new Error('--seconds takes 0..60');
        break;
      case '--parley': {
        const v = value();
        if (v !== 'dist' && v !== 'src') throw new Error('--parley is dist or src');
        o.parley = v;
        break;
      }
      case '--repeat':
        o.repeat = Number(value());
        if (!(Number.isInteger(o.repeat) && o.repeat >= 1 && o.repeat <= 5)) throw new Error('--repeat takes 1..5');
        break;
      case '--publish-seconds':
        o.publishSeconds = Number(value());
        if (!(o.publishSeconds > 0 && o.publishSeconds <= 60)) throw new Error('--publish-seconds takes 0..60');
        break;
      case '--no-publish':
        o.publish = false;
        break;
      case '--no-fanout':
        o.fanout = false;
        break;
      case '--server-arg':
        o.serverArgs.push(value());
        break;
      case '--parley-env': {
        const [k, ...v] = value().split('=');
        if (!/^PARLEY_[A-Z0-9_]+$/.test(k) || v.length === 0) throw new Error('--parley-env is PARLEY_NAME=value');
        o.parleyEnv[k] = v.join('=');
        break;
      }
      case '--cpu-prof':
        o.profileDir = path.resolve(value());
        o.profile = 'cpu';
        break;
      case '--alloc-prof':
        o.profileDir = path.resolve(value());
        o.profile = 'alloc';
        break;
      case '--out':
        o.out = path.resolve(value());
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see the header of bench/fanout.ts)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------

export interface FanoutRow {
  server: FanoutKind;
  n: number;
  p50Ms: number;
  p99Ms: number;
  /** Deliveries per server-CPU-second, answers coalescing (throughput phase). */
  coalescedPerCpuSecond: number;
  /** Deliveries per server-CPU-second, one message per answer (latency phase). */
  singlePerCpuSecond: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  deliveriesPerAnswer: number;
  serverCpuPercent: number;
  /** Server CPU per answer, microseconds (throughput phase), and the kernel's share of the server's CPU. */
  cpuMicrosPerAnswer: number;
  systemShare: number;
  loadCpuPercent: number;
  /** GC time / server CPU time in the throughput phase (Node servers). */
  gcShare: number | null;
  allocatedBytesPerDelivery: number | null;
  rssPerParkedPollKiB: number | null;
  lost: number;
  latencyMissing: number;
  errors: number;
  duplicates: number;
}

const latencyMessages = (n: number): number => (n >= 5000 ? 60 : n >= 1000 ? 150 : 300);

async function runOne(kind: FanoutKind, n: number, o: Options, build: ParleyBuild, measureMemory: boolean, tag: string): Promise<FanoutRow> {
  const redisPrefix = `parley-bench-${process.pid}-${kind}-${n}${tag}`;
  const srv: ServerProcess = await startServer(
    kind,
    { store: o.store, redisPrefix, workers: o.workers, nodeArgs: o.serverArgs, parleyEnv: o.parleyEnv },
    build,
  );
  const started = performance.now();
  const step = (what: string): void => void process.stderr.write(`  ${kind} N=${n}: ${what} at ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  let load: Load | null = null;
  try {
    let rssPerPoll: number | null = null;
    let before = 0;
    if (measureMemory) {
      // A few polls first, so the path is compiled and its one-time allocations are made.
      const warm = new Load(srv, Math.min(200, n), PUBLISHES_IN_FLIGHT);
      await warm.connect();
      await sleep(200);
      warm.close();
      await sleep(500);
      before = srv.probe ? (await srv.probe.settle()).rssBytes : srv.rssBytes();
    }
    load = new Load(srv, n, PUBLISHES_IN_FLIGHT);
    await load.connect();
    await sleep(300);
    step('connected');
    if (measureMemory) {
      const after = srv.probe ? (await srv.probe.settle()).rssBytes : srv.rssBytes();
      rssPerPoll = (after - before) / n / 1024;
    }
    await latencyPhase(load, WARMUP_MESSAGES, false, DELIVERY_TIMEOUT_MS);
    load.missing = 0;
    const lat = await latencyPhase(load, latencyMessages(n), true, DELIVERY_TIMEOUT_MS);
    step('latency measured');
    // The probe runs in the process the benchmark started: in cluster mode that is the primary, which
    // serves nothing, so there is no GC or allocation figure then.
    const g0 = kind === 'parley' && o.workers > 0 ? undefined : await srv.probe?.sample();
    const throughput = (): Promise<ThroughputResult> => throughputPhase(load!, o.seconds, PUBLISH_WINDOW, DRAIN_TIMEOUT_MS);
    const t =
      o.profileDir && srv.probe
        ? await srv.probe.profile(o.profile, path.join(o.profileDir, `${kind}-${n}${tag}.${o.profile === 'cpu' ? 'cpuprofile' : 'heapprofile'}`), throughput)
        : await throughput();
    const g1 = g0 === undefined ? undefined : await srv.probe?.sample();
    step('throughput measured');
    return {
      server: kind,
      n,
      p50Ms: percentile(lat.latencies, 0.5),
      p99Ms: percentile(lat.latencies, 0.99),
      coalescedPerCpuSecond: t.deliveries / t.serverCpu,
      singlePerCpuSecond: lat.deliveries / lat.serverCpu,
      messagesPerSecond: t.messages / t.seconds,
      deliveriesPerSecond: t.deliveries / t.seconds,
      deliveriesPerAnswer: t.deliveries / t.answers,
      serverCpuPercent: (100 * t.serverCpu) / t.seconds,
      cpuMicrosPerAnswer: (1e6 * t.serverCpu) / t.answers,
      systemShare: t.serverSystemCpu / t.serverCpu,
      loadCpuPercent: (100 * t.clientCpu) / t.seconds,
      gcShare: g0 && g1 ? (g1.gcMs - g0.gcMs) / 1000 / t.serverCpu : null,
      allocatedBytesPerDelivery: g0 && g1 ? (g1.allocatedBytes - g0.allocatedBytes) / t.deliveries : null,
      rssPerParkedPollKiB: rssPerPoll,
      lost: t.undelivered,
      latencyMissing: load.missing,
      errors: load.errors,
      duplicates: load.duplicates,
    };
  } finally {
    load?.close();
    await srv.stop();
    if (kind === 'parley' && o.store === 'redis') await deleteRedisKeys(`${redisPrefix}*`);
  }
}

/** The median row of repeated runs, by coalesced deliveries per CPU-second; memory from the first that has it. */
function medianRow(rows: FanoutRow[]): FanoutRow {
  const sorted = [...rows].sort((a, b) => a.coalescedPerCpuSecond - b.coalescedPerCpuSecond);
  const mid = sorted[Math.floor(sorted.length / 2)];
  const med = (f: (r: FanoutRow) => number): number => {
    const xs = rows.map(f).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  return {
    ...mid,
    singlePerCpuSecond: med((r) => r.singlePerCpuSecond),
    p50Ms: med((r) => r.p50Ms),
    p99Ms: med((r) => r.p99Ms),
    rssPerParkedPollKiB: rows.find((r) => r.rssPerParkedPollKiB !== null)?.rssPerParkedPollKiB ?? null,
    lost: rows.reduce((a, r) => a + r.lost, 0),
    latencyMissing: rows.reduce((a, r) => a + r.latencyMissing, 0),
    errors: rows.reduce((a, r) => a + r.errors, 0),
    duplicates: rows.reduce((a, r) => a + r.duplicates, 0),
  };
}

// ---------------------------------------------------------------------------------------------------
// Report

function fmt(x: number | null, digits = 0): string {
  if (x === null || !Number.isFinite(x)) return '-';
  return digits === 0 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits);
}

const ratio = (a: number, b: number): number => a / b;
const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');

function printFanout(rows: FanoutRow[]): void {
  const head = [
    'N',
    'server',
    'p50 ms',
    'p99 ms',
    'msgs/s',
    'deliv/s',
    'deliv/answer',
    'srv CPU%',
    'sys%',
    'µs/answer',
    'gen CPU%',
    'deliv/srv-CPU-s',
    'single/srv-CPU-s',
    'GC%',
    'B alloc/deliv',
    'KiB/parked',
  ];
  const lines: string[][] = [];
  for (const n of [...new Set(rows.map((r) => r.n))]) {
    const byKind = new Map(rows.filter((r) => r.n === n).map((r) => [r.server, r]));
    for (const r of byKind.values()) {
      lines.push([
        String(n),
        r.server,
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        fmt(r.messagesPerSecond),
        fmt(r.deliveriesPerSecond),
        fmt(r.deliveriesPerAnswer, 1),
        fmt(r.serverCpuPercent),
        fmt(100 * r.systemShare),
        fmt(r.cpuMicrosPerAnswer, 1),
        fmt(r.loadCpuPercent),
        fmt(r.coalescedPerCpuSecond),
        fmt(r.singlePerCpuSecond),
        r.gcShare === null ? '-' : fmt(100 * r.gcShare),
        fmt(r.allocatedBytesPerDelivery),
        fmt(r.rssPerParkedPollKiB, 1),
      ]);
    }
    // Parley against each reference, and the Node floor against nchan: how far the runtime itself is.
    const pairs = [
      ['parley', 'baseline'],
      ['parley', 'floor'],
      ['parley', 'nchan'],
      ['floor', 'nchan'],
    ] as const;
    for (const [one, other] of pairs) {
      const p = byKind.get(one);
      const b = byKind.get(other);
      if (!p || !b) continue;
      lines.push([
        '',
        `${one}/${other}`,
        x(ratio(p.p50Ms, b.p50Ms)),
        x(ratio(p.p99Ms, b.p99Ms)),
        '',
        '',
        '',
        '',
        '',
        x(ratio(p.cpuMicrosPerAnswer, b.cpuMicrosPerAnswer)),
        '',
        x(ratio(p.coalescedPerCpuSecond, b.coalescedPerCpuSecond)),
        x(ratio(p.singlePerCpuSecond, b.singlePerCpuSecond)),
        '',
        '',
        '',
      ]);
    }
  }
  const widths = head.map((_, i) => Math.max(head[i].length, ...lines.map((l) => l[i].length)));
  const render = (l: string[]): string => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${render(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) process.stdout.write(render(l) + '\n');
  for (const r of rows.filter((r) => r.errors || r.duplicates || r.latencyMissing || r.lost)) {
    process.stdout.write(
      `! N=${r.n} ${r.server}: ${r.errors} request errors, ${r.duplicates} duplicate or out of order, ${r.latencyMissing} missing in the latency phase, ${r.lost} lost (undelivered after the drain)\n`,
    );
  }
}

export interface Goal {
  goal: string;
  target: string;
  value: string;
  met: boolean | null;
}

function goals(rows: FanoutRow[], publish: PublishRow[]): Goal[] {
  const out: Goal[] = [];
  const get = (server: FanoutKind, n: number): FanoutRow | undefined => rows.find((r) => r.server === server && r.n === n);
  for (const n of [...new Set(rows.map((r) => r.n))]) {
    const p = get('parley', n);
    const b = get('baseline', n);
    const c = get('nchan', n);
    if (p && b) {
      const co = ratio(p.coalescedPerCpuSecond, b.coalescedPerCpuSecond);
      const si = ratio(p.singlePerCpuSecond, b.singlePerCpuSecond);
      const p99 = ratio(p.p99Ms, b.p99Ms);
      out.push({ goal: `N=${n}: deliveries per server-CPU-s vs node:http, coalesced`, target: '>= 1.0x', value: x(co), met: co >= 1.0 });
      out.push({ goal: `N=${n}: deliveries per server-CPU-s vs node:http, one message per answer`, target: '>= 0.8x', value: x(si), met: si >= 0.8 });
      out.push({ goal: `N=${n}: p99 vs node:http`, target: '<= 1.5x', value: x(p99), met: p99 <= 1.5 });
    }
    if (p && c) {
      const co = ratio(p.coalescedPerCpuSecond, c.coalescedPerCpuSecond);
      out.push({ goal: `N=${n}: deliveries per server-CPU-s vs nginx+nchan, coalesced`, target: '> 1.0x', value: x(co), met: co > 1.0 });
    }
    const f = get('floor', n);
    if (f && c) {
      // Not a goal: where Node's own floor stands, which no Node server gets far past but by coalescing.
      const co = ratio(f.coalescedPerCpuSecond, c.coalescedPerCpuSecond);
      out.push({ goal: `N=${n}: (for reference) node:net floor vs nginx+nchan, coalesced`, target: '-', value: x(co), met: null });
    }
    if (p?.rssPerParkedPollKiB != null) {
      out.push({
        goal: `N=${n}: RSS per parked long-poll`,
        target: '<= 10 KiB',
        value: `${p.rssPerParkedPollKiB.toFixed(1)} KiB`,
        met: p.rssPerParkedPollKiB <= 10,
      });
    }
    if (p) out.push({ goal: `N=${n}: messages lost`, target: '0', value: String(p.lost + p.latencyMissing), met: p.lost + p.latencyMissing === 0 });
  }
  for (const r of publish) {
    if (r.ratio === null) continue;
    out.push({ goal: `${r.what} vs trivial node:http JSON handler (req/s)`, target: '>= 0.75x', value: x(r.ratio), met: r.ratio >= 0.75 && r.failures === 0 });
  }
  return out;
}

function printGoals(list: Goal[]): void {
  process.stdout.write('\nGoals (issue 11), each a ratio measured in this run:\n');
  for (const g of list) process.stdout.write(`  ${g.met === null ? '    ' : g.met ? 'MET ' : 'MISS'}  ${g.goal}: ${g.value} (target ${g.target})\n`);
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  setTimeout(() => {
    process.stderr.write('bench: watchdog: the run took too long, giving up\n');
    process.exit(2);
  }, WATCHDOG_MS).unref();
  pinSelfToLoadCore();
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const build = prepareParley(o.parley);
  const nchanOk = hasNchan();
  const skipped: string[] = [];
  if (o.servers.includes('nchan') && !nchanOk) {
    skipped.push('nchan: nginx or its nchan module is not installed (apt-get install -y nginx libnginx-mod-nchan)');
    o.servers = o.servers.filter((s) => s !== 'nchan');
  }
  const setting =
    `node ${process.version}, ${CORES} cores; ` +
    (PIN ? 'servers pinned to core 0, load generator to core 1' : 'NOT pinned (needs 2 cores and taskset): figures are noisier') +
    `; Parley: ${build.description}, ${o.store} engine${o.workers > 0 ? `, cluster.workers ${o.workers} (all on the server's core)` : ''}; subscribers: raw-socket keep-alive connections from one process`;
  process.stdout.write(`${setting}\n`);
  for (const s of skipped) process.stdout.write(`skipped ${s}\n`);

  const rows: FanoutRow[] = [];
  if (o.fanout) {
    const memoryN = Math.max(...o.ns);
    for (const n of o.ns) {
      const runs = new Map<FanoutKind, FanoutRow[]>();
      for (let r = 0; r < o.repeat; r++) {
        // Servers alternate within each N, so load from elsewhere on the machine hits them alike.
        for (const kind of r % 2 === 0 ? o.servers : [...o.servers].reverse()) {
          process.stderr.write(`${kind}, N=${n}${o.repeat > 1 ? `, run ${r + 1}/${o.repeat}` : ''} ...\n`);
          // Cluster workers are not settled by the probe (it runs in the primary): no memory figure then.
          const row = await runOne(kind, n, o, build, n === memoryN && r === 0 && !(kind === 'parley' && o.workers > 0), o.repeat > 1 ? `-${r + 1}` : '');
          runs.set(kind, [...(runs.get(kind) ?? []), row]);
        }
      }
      for (const kind of o.servers) rows.push(medianRow(runs.get(kind)!));
    }
    printFanout(rows);
    process.stdout.write(
      '\np50/p99: publish sent → answer received at each subscriber, one message at a time.\n' +
        `deliv/srv-CPU-s: ${o.seconds} s with ${PUBLISHES_IN_FLIGHT} publishes in flight (paused while a subscriber is ${PUBLISH_WINDOW} behind) plus the drain; answers coalesce (deliv/answer).\n` +
        'single/srv-CPU-s: the latency phase, one message per answer, the server asleep between messages.\n' +
        'srv CPU% near 100 = server-bound; gen CPU% near 100 = load-generator-bound. GC% and B alloc/deliv: throughput phase, Node servers.\n' +
        'KiB/parked: RSS growth per parked long-poll at the largest N (after a full GC for the Node servers).\n',
    );
  }

  let publish: PublishRow[] = [];
  if (o.publish) {
    process.stderr.write('publish ...\n');
    publish = await runPublishBench({ seconds: o.publishSeconds, connections: 50, build, rounds: o.repeat === 1 ? 3 : o.repeat });
    printPublishRows(publish);
  }

  const goalList = goals(rows, publish);
  printGoals(goalList);

  mkdirSync(o.out, { recursive: true });
  const result = {
    date: new Date().toISOString(),
    setting,
    skipped,
    options: {
      ns: o.ns,
      servers: o.servers,
      seconds: o.seconds,
      store: o.store,
      workers: o.workers,
      repeat: o.repeat,
      serverArgs: o.serverArgs,
      parleyEnv: o.parleyEnv,
    },
    fanout: rows,
    publish,
    goals: goalList,
  };
  writeFileSync(path.join(o.out, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  if (rows.length > 0) writeFileSync(path.join(o.out, 'latest.svg'), renderChart(rows, setting));
  process.stdout.write(
    `\nwrote ${path.relative(ROOT, path.join(o.out, 'latest.json'))}${rows.length > 0 ? ` and ${path.relative(ROOT, path.join(o.out, 'latest.svg'))}` : ''}\n`,
  );
  if (o.profileDir) process.stdout.write(`${o.profile === 'cpu' ? 'CPU' : 'Allocation'} profiles of the throughput phases: ${o.profileDir}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
