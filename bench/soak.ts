/**
 * Soak: many long-poll subscribers and a steady publish rate for minutes, on loopback, against Parley as
 * `npm start` runs it. Run on demand (`npm run soak`, or `npx tsx bench/soak.ts`), not in CI.
 *
 *   npx tsx bench/soak.ts [--subscribers 10000] [--rate 5] [--minutes 5 | --seconds N]
 *                         [--sample-seconds 10] [--store memory|sqlite] [--parley dist|src] [--out FILE]
 *
 * It reports, and writes to bench/results/soak-latest.json:
 * - memory over time: the server's RSS and V8 heap every --sample-seconds, and the heap after a full GC
 *   at the start and the end (flat: the end within 10% + 1 MiB of the start);
 * - publish → deliver latency per minute (p50, p99, max over every delivery of the messages published
 *   that minute; stable: the worst minute's p99 within 2x the best);
 * - losses: every message must reach every subscriber (counted after a bounded drain), no request errors,
 *   no duplicates.
 * Bounded: the run stops at its duration plus a drain of at most 30 s, with a watchdog past that; every
 * process it starts is stopped by PID; traffic stays on 127.0.0.1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Load } from './lib/load.ts';
import { prepareParley, ROOT, startServer } from './lib/servers.ts';
import { CORES, PIN, pinSelfToLoadCore, selfCpuSeconds, sleep } from './lib/system.ts';

interface Options {
  subscribers: number;
  rate: number;
  seconds: number;
  sampleSeconds: number;
  store: 'memory' | 'sqlite';
  parley: 'dist' | 'src';
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    subscribers: 10_000,
    rate: 5,
    seconds: 300,
    sampleSeconds: 10,
    store: 'memory',
    parley: 'dist',
    out: path.join(ROOT, 'bench', 'results', 'soak-latest.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    const num = (min: number, max: number): number => {
      const n = Number(value());
      if (!(n >= min && n <= max)) throw new Error(`${argv[i - 1]} takes ${min}..${max}`);
      return n;
    };
    switch (argv[i]) {
      case '--subscribers':
        o.subscribers = Math.round(num(1, 15_000));
        break;
      case '--rate':
        o.rate = num(0.1, 1000);
        break;
      case '--minutes':
        o.seconds = Math.round(num(0.1, 60) * 60);
        break;
      case '--seconds':
        o.seconds = Math.round(num(5, 3600));
        break;
      case '--sample-seconds':
        o.sampleSeconds = num(1, 600);
        break;
      case '--store': {
        const v = value();
        if (v !== 'memory' && v !== 'sqlite') throw new Error('--store is memory or sqlite');
        o.store = v;
        break;
      }
      case '--parley': {
        const v = value();
        if (v !== 'dist' && v !== 'src') throw new Error('--parley is dist or src');
        o.parley = v;
        break;
      }
      case '--out':
        o.out = path.resolve(value());
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see the header of bench/soak.ts)`);
    }
  }
  return o;
}

/** Latencies by log-spaced bucket: 1 µs to ~100 s, 20 buckets per decade (about 12% wide). */
class Histogram {
  private readonly counts = new Float64Array(200);
  count = 0;
  max = 0;

  add(ms: number): void {
    const b = Math.min(this.counts.length - 1, Math.max(0, Math.floor(20 * (Math.log10(Math.max(ms, 0.001)) + 3))));
    this.counts[b]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The upper edge of the bucket holding the q-th delivery (an over-estimate by at most one bucket). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= target) return Math.min(this.max, 10 ** ((b + 1) / 20 - 3));
    }
    return this.max;
  }
}

interface MemorySample {
  atSeconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** CPU used since the previous sample, in % of one core: the server's, and this process's (the load). */
  serverCpuPercent: number | null;
  loadCpuPercent: number | null;
}

interface MinuteRow {
  minute: number;
  messages: number;
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const mib = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const drainMs = 30_000;
  setTimeout(
    () => {
      process.stderr.write('soak: watchdog: the run took too long, giving up\n');
      process.exit(2);
    },
    (o.seconds + 240) * 1000,
  ).unref();
  pinSelfToLoadCore();
  const build = prepareParley(o.parley);
  const setting =
    `node ${process.version}, ${CORES} cores; ${PIN ? 'server pinned to core 0, load generator to core 1' : 'not pinned'}; ` +
    `Parley: ${build.description}, ${o.store} engine; ${o.subscribers} subscribers, ${o.rate} messages/s for ${o.seconds} s`;
  process.stdout.write(`soak: ${setting}\n`);
  const srv = await startServer('parley', { store: o.store }, build);
  const load = new Load(srv, o.subscribers, 16);
  const byMinute: Histogram[] = [];
  const messagesByMinute: number[] = [];
  const minuteOf = new Uint16Array(1 << 20);
  load.onLatency = (ms, id) => (byMinute[minuteOf[id]] ??= new Histogram()).add(ms);
  const memory: MemorySample[] = [];
  let startSettled = { heapUsedBytes: 0, rssBytes: 0 };
  let endSettled = { heapUsedBytes: 0, rssBytes: 0 };
  let published = 0;
  let skipped = 0;
  let inFlight = 0;
  try {
    const t0 = performance.now();
    await load.connect();
    await sleep(1000);
    process.stdout.write(`soak: ${o.subscribers} subscribers parked in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    startSettled = await srv.probe!.settle();

    const start = performance.now();
    // A trend in latency is the server's when its CPU share climbs with it, the load generator's when that one's does.
    let last = { at: performance.now(), server: srv.cpuSeconds(), load: selfCpuSeconds() };
    const sample = async (): Promise<void> => {
      const s = await srv.probe!.sample();
      const now = { at: performance.now(), server: srv.cpuSeconds(), load: selfCpuSeconds() };
      const wallSeconds = (now.at - last.at) / 1000;
      const share = (used: number): number | null => (wallSeconds > 0.5 ? Math.round((100 * used) / wallSeconds) : null);
      memory.push({
        atSeconds: Math.round((now.at - start) / 1000),
        rssMiB: mib(s.rssBytes),
        heapUsedMiB: mib(s.heapUsedBytes),
        serverCpuPercent: share(now.server - last.server),
        loadCpuPercent: share(now.load - last.load),
      });
      last = now;
    };
    await sample();
    const sampler = setInterval(() => void sample(), o.sampleSeconds * 1000);
    // A steady rate: message k goes out at start + k / rate, whatever happened to the ones before.
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const elapsed = performance.now() - start;
        if (elapsed >= o.seconds * 1000) {
          resolve();
          return;
        }
        const due = Math.floor((elapsed / 1000) * o.rate) + 1;
        while (published + skipped < due) {
          // A server that cannot keep up would have publishes pile up: count them, do not queue them.
          if (inFlight >= 16) {
            skipped++;
            continue;
          }
          const id = load.nextId++;
          const minute = Math.floor(elapsed / 60_000);
          minuteOf[id] = minute;
          messagesByMinute[minute] = (messagesByMinute[minute] ?? 0) + 1;
          published++;
          inFlight++;
          load.publish(id, () => inFlight--);
        }
        setTimeout(tick, Math.max(1, Math.min(50, 1000 / o.rate / 2)));
      };
      tick();
    });
    clearInterval(sampler);
    // Drain: every message delivered everywhere, or the bound.
    const drainEnd = performance.now() + drainMs;
    while (performance.now() < drainEnd && (inFlight > 0 || load.complete < load.nextId)) await sleep(50);
    await sample();
    endSettled = await srv.probe!.settle();
  } finally {
    load.close();
    await srv.stop();
  }

  let lost = 0;
  for (let id = 1; id < load.nextId; id++) lost += load.missingOf(id);
  const minutes: MinuteRow[] = messagesByMinute.map((messages, minute) => {
    const h = byMinute[minute] ?? new Histogram();
    return { minute, messages, deliveries: h.count, p50Ms: h.quantile(0.5), p99Ms: h.quantile(0.99), maxMs: h.max };
  });
  const p99s = minutes.filter((m) => m.deliveries > 0).map((m) => m.p99Ms);
  const heapGrowth = endSettled.heapUsedBytes - startSettled.heapUsedBytes;
  const verdicts = {
    memoryFlat: heapGrowth <= 0.1 * startSettled.heapUsedBytes + 1_048_576,
    p99Stable: p99s.length > 0 && Math.max(...p99s) <= 2 * Math.min(...p99s),
    nothingLost: lost === 0 && load.errors === 0 && load.duplicates === 0 && skipped === 0,
  };

  process.stdout.write('\nmemory and CPU (server; load = this process):\n   s    RSS MiB   heap MiB  srv CPU%  load CPU%\n');
  const pct = (v: number | null): string => (v === null ? '-' : String(v)).padStart(8);
  for (const m of memory) {
    process.stdout.write(
      `${String(m.atSeconds).padStart(4)}  ${m.rssMiB.toFixed(1).padStart(9)}  ${m.heapUsedMiB.toFixed(1).padStart(9)}  ${pct(m.serverCpuPercent)}  ${pct(m.loadCpuPercent)}\n`,
    );
  }
  process.stdout.write(
    `heap after a full GC: ${mib(startSettled.heapUsedBytes)} MiB at the start, ${mib(endSettled.heapUsedBytes)} MiB at the end; ` +
      `RSS ${mib(startSettled.rssBytes)} → ${mib(endSettled.rssBytes)} MiB\n`,
  );
  process.stdout.write('\nlatency by minute of publish:\nminute  messages  deliveries   p50 ms   p99 ms   max ms\n');
  for (const m of minutes) {
    process.stdout.write(
      `${String(m.minute).padStart(6)}  ${String(m.messages).padStart(8)}  ${String(m.deliveries).padStart(10)}  ${m.p50Ms.toFixed(1).padStart(7)}  ${m.p99Ms.toFixed(1).padStart(7)}  ${m.maxMs.toFixed(1).padStart(7)}\n`,
    );
  }
  process.stdout.write(
    `\npublished ${published}, skipped (server behind) ${skipped}, deliveries ${load.deliveries} of ${published * o.subscribers}, ` +
      `lost ${lost}, request errors ${load.errors}, duplicates ${load.duplicates}\n` +
      `memory flat: ${verdicts.memoryFlat ? 'yes' : 'NO'}; p99 stable: ${verdicts.p99Stable ? 'yes' : 'NO'}; nothing lost: ${verdicts.nothingLost ? 'yes' : 'NO'}\n`,
  );
  mkdirSync(path.dirname(o.out), { recursive: true });
  writeFileSync(
    o.out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        setting,
        options: o,
        memory,
        settled: { start: startSettled, end: endSettled },
        minutes,
        published,
        skipped,
        deliveries: load.deliveries,
        lost,
        errors: load.errors,
        duplicates: load.duplicates,
        verdicts,
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`wrote ${path.relative(ROOT, o.out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`soak: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
