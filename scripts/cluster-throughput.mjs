#!/usr/bin/env node
// Publish throughput of one Parley process against cluster.workers=N on the Redis engine, same machine,
// same run, compiled build (dist/). The figures for docs/performance.md ("Every core").
//
//   node scripts/cluster-throughput.mjs [--workers 2] [--seconds 8] [--connections 32] [--rounds 3]
//
// Needs wrk and a Redis at 127.0.0.1:6379 (each run uses a key prefix of its own and deletes it after).
// Each run: start Parley, warm up, then wrk sends GET publishes for a fixed time (keep-alive, loopback,
// 64 channels; with and without storage), then SIGTERM. Reported per run: requests/s, p99, and CPU seconds
// used by the Parley processes and by Redis (from /proc), so a busy machine shows up as such.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ROOT } from './build-state.mjs';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
  },
});
const WORKERS = Number(values.workers);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);
const WARMUP_SECONDS = 1;
const REDIS_URL = 'redis://127.0.0.1:6379';
const PUB = 'pub-bench';
const SUB = 'sub-bench';
const TICKS_PER_SEC = 100; // USER_HZ on Linux

for (const [name, v, max] of [
  ['workers', WORKERS, 64],
  ['seconds', SECONDS, 120],
  ['connections', CONNECTIONS, 1000],
  ['rounds', ROUNDS, 20],
]) {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${name} must be 1..${max}`);
}
if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

const work = mkdtempSync(join(tmpdir(), 'parley-cluster-bench-'));
const lua = join(work, 'publish.lua');
// Channel and message vary per request.
writeFileSync(
  lua,
  `local store = os.getenv("BENCH_STORE")
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format("GET", string.format("/publish/${PUB}/${SUB}/0/bench.%d/0/%%22m%d%%22?uuid=p&store=%s", sent % 64, sent, store))
end
`,
);

function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

function childrenOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

async function startParley(workers, prefix) {
  const env = {
    ...process.env,
    PORT: '0',
    PARLEY_HOST: '127.0.0.1',
    PARLEY_LOG_LEVEL: 'error',
    PARLEY_DEMO_ENABLED: 'false',
    PARLEY_PUBLISH_KEY: PUB,
    PARLEY_SUBSCRIBE_KEY: SUB,
    PARLEY_SECRET_KEY: '',
    PARLEY_REDIS_URL: REDIS_URL,
    PARLEY_REDIS_PREFIX: prefix,
    PARLEY_CLUSTER_WORKERS: workers === 1 ? 'off' : String(workers),
  };
  const child = spawn(process.execPath, [join(ROOT, 'dist/main.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Parley did not start in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`Parley exited with ${code}`)));
  });
  child.stdout.resume();
  return { child, url };
}

function wrk(url, seconds, store) {
  const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', lua, url], {
    env: { ...process.env, BENCH_STORE: store },
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error}`);
  const num = (re) => {
    const m = re.exec(r.stdout);
    return m ? m[1] : null;
  };
  const p99Text = num(/^\s+99%\s+([\d.]+(?:us|ms|s|m))/m);
  const unitMs = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
  const p99 = p99Text ? Number.parseFloat(p99Text) * unitMs[/[a-z]+$/.exec(p99Text)[0]] : NaN;
  return {
    requests: Number(num(/(\d+) requests in/)),
    seconds: Number(num(/requests in ([\d.]+)s/)),
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/)),
    p99,
    errors: Number(num(/Non-2xx or 3xx responses: (\d+)/) ?? 0) + Number(num(/Socket errors: connect (\d+)/) ?? 0),
  };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
}

/** The Parley under test, stopped if this script is interrupted. */
let current = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);

async function clearPrefix(prefix) {
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0' && ++rounds < 100_000);
}

const rows = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const store of ['0', '1']) {
      for (const workers of [1, WORKERS]) {
        const prefix = `parley-bench-${randomBytes(4).toString('hex')}`;
        const parley = await startParley(workers, prefix);
        current = parley.child;
        try {
          wrk(parley.url, WARMUP_SECONDS, store);
          const pids = [parley.child.pid, ...childrenOf(parley.child.pid)];
          const before = pids.map(cpuTicks);
          const redisBefore = cpuTicks(redisPid);
          const r = wrk(parley.url, SECONDS, store);
          const parleyCpu = pids.map(cpuTicks).reduce((a, t, i) => a + t - before[i], 0) / TICKS_PER_SEC;
          const redisCpu = (cpuTicks(redisPid) - redisBefore) / TICKS_PER_SEC;
          rows.push({ round, store, workers, ...r, parleyCpu, redisCpu });
          process.stderr.write(
            `round ${round} store=${store} processes=${workers}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(1)} ms, ${r.requests} requests in ${r.seconds} s, ` +
              `Parley CPU ${parleyCpu.toFixed(2)} s, Redis CPU ${redisCpu.toFixed(2)} s, errors ${r.errors}\n`,
          );
        } finally {
          await stop(parley.child);
          await clearPrefix(prefix);
        }
      }
    }
  }
} finally {
  await redis.quit();
  rmSync(work, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `\nmachine: ${availableParallelism()} CPUs, load average before the last run ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; wrk -t1 -c${CONNECTIONS}, ${SECONDS} s per run, ${ROUNDS} rounds (median)\n`,
);
console.log('| storage | processes | publishes/s | p99 | Parley CPU-s per 10k | Redis CPU-s per 10k | ratio to 1 process |');
console.log('|---|---|---|---|---|---|---|');
for (const store of ['0', '1']) {
  const base = median(rows.filter((r) => r.store === store && r.workers === 1).map((r) => r.rps));
  for (const workers of [1, WORKERS]) {
    const rs = rows.filter((r) => r.store === store && r.workers === workers);
    const rps = median(rs.map((r) => r.rps));
    const per10k = (k) => median(rs.map((r) => (r[k] / r.requests) * 10_000)).toFixed(2);
    console.log(
      `| ${store === '1' ? 'on (Redis history)' : 'off (store=0)'} | ${workers} | ${rps.toFixed(0)} | ${median(rs.map((r) => r.p99)).toFixed(1)} ms | ${per10k('parleyCpu')} | ${per10k('redisCpu')} | ${(rps / base).toFixed(2)}x |`,
    );
  }
}
