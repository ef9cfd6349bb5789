/**
 * `npx tsx bench/metrics-cost.ts [--iterations 500000] [--rounds 5]`: what the metrics cost on the hot
 * paths since they moved to prom-client (src/metrics.ts), in ns per operation, beside the hand-written
 * counters they replaced (a copy of their counter path below, measured in the same run).
 *
 * Rows:
 * - delivery cycle: the metrics work of one subscribe answer on a long-poll served by the lane, the
 *   delivery hot path: the request's arrival time, parley_requests_total{route}, parley_lane_requests_total,
 *   parley_deliveries_total, and (new) one publish→deliver observation;
 * - publish request: parley_requests_total{route} and (new) parley_request_duration_seconds{route};
 * - publish→deliver per answer vs per message, for answers of 1, 3 and 20 messages (the choice made in
 *   protocol/routes/subscribe.ts: one observation per answer, of its oldest message).
 * The last column relates the added cost to the server CPU time of what the row is part of, in the newest
 * benchmark run (bench/results/latest.json, when there): one delivered answer (parley fan-out at the smallest
 * N, coalesced: 1 / deliveries per CPU-second × deliveries per answer) or one publish (parley-memory,
 * 1 / requests per CPU-second). Nothing is asserted.
 */
import { readFileSync } from 'node:fs';
import { createParleyMetrics, Metrics } from '../src/metrics.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ITERATIONS = arg('iterations', 500_000);
const ROUNDS = arg('rounds', 5);

/** The hand-written registry's counter path (src/metrics.ts before prom-client): a cell per rendered label key. */
function handWrittenCounter(): (labels?: Record<string, string>, by?: number) => void {
  const values = new Map<string, { n: number }>();
  const keys = new WeakMap<object, string>();
  const cell = (k: string): { n: number } => {
    let c = values.get(k);
    if (c === undefined) values.set(k, (c = { n: 0 }));
    return c;
  };
  let unlabelled: { n: number } | null = null;
  return (labels, by = 1) => {
    if (labels === undefined) {
      (unlabelled ??= cell('')).n += by;
      return;
    }
    let k = keys.get(labels);
    if (k === undefined) {
      k = Object.entries(labels)
        .map(([n, v]) => `${n}="${v}"`)
        .join(',');
      keys.set(labels, k);
    }
    cell(k).n += by;
  };
}

/**
 * Median ns of this process's CPU time (user + system, so time other processes take from this core is
 * not counted, and GC threads are) per call of `fn` over ROUNDS rounds of ITERATIONS calls, after one
 * warm-up round.
 */
function nsPerOp(fn: (i: number) => void): number {
  const once = (): number => {
    const before = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) fn(i);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) * 1000) / ITERATIONS;
  };
  once();
  const runs = Array.from({ length: ROUNDS }, once).sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
}

interface Latest {
  fanout?: Array<{ server: string; n: number; coalescedPerCpuSecond: number; deliveriesPerAnswer: number }>;
  publish?: Array<{ server: string; requestsPerCpuSecond: number }>;
}

/** µs of server CPU per delivered answer and per publish in the newest benchmark run, where known. */
function budgetsUs(): { answer: number | null; publish: number | null } {
  let latest: Latest;
  try {
    latest = JSON.parse(readFileSync(new URL('./results/latest.json', import.meta.url), 'utf8')) as Latest;
  } catch {
    return { answer: null, publish: null };
  }
  const fanout = (latest.fanout ?? []).filter((r) => r.server === 'parley').sort((a, b) => a.n - b.n)[0];
  const publish = (latest.publish ?? []).find((r) => r.server === 'parley-memory');
  return {
    answer: fanout === undefined ? null : (1e6 / fanout.coalescedPerCpuSecond) * fanout.deliveriesPerAnswer,
    publish: publish === undefined ? null : 1e6 / publish.requestsPerCpuSecond,
  };
}

const m = createParleyMetrics(new Metrics());
const old = { requests: handWrittenCounter(), laneRequests: handWrittenCounter(), deliveries: handWrittenCounter() };
// Route labels are one object per route (server.ts routeLabel), reused by every request.
const v2 = { route: 'v2' };
const publish = { route: 'publish' };
const publishTime = { endpoint: 'GET /publish/:pub/:sub/:sig/:channel/:cb/:payload' };
const baseTt = BigInt(Date.now()) * 10_000n;
/** A timetoken 0 to 1023 ms old, so the observations spread over several buckets. */
const tt = (i: number): bigint => baseTt - BigInt((i & 1023) * 10_000);
const tts = Array.from({ length: 1024 }, (_, i) => tt(i));
/** Where arrival times go, as RequestRun keeps one per request (a number field, not a boxed one). */
const arrivals = new Float64Array(1024);

type Budget = 'answer' | 'publish';
const rows: Array<{ name: string; before: number; after: number; of: Budget }> = [];
const row = (name: string, of: Budget, before: (i: number) => void, after: (i: number) => void): void => {
  rows.push({ name, of, before: nsPerOp(before), after: nsPerOp(after) });
};

row(
  'delivery cycle (1 message)',
  'answer',
  () => {
    old.requests(v2);
    old.laneRequests();
    old.deliveries(undefined, 1);
  },
  (i) => {
    arrivals[i & 1023] = performance.now();
    m.requests(v2);
    m.laneRequests();
    m.deliveries(undefined, 1);
    m.publishToDeliver(tts[i & 1023], Date.now(), true);
  },
);
row(
  'publish request',
  'publish',
  () => old.requests(publish),
  (i) => {
    const arrived = performance.now();
    m.requests(publish);
    m.requestDuration(publishTime, (performance.now() - arrived + (i & 7)) / 1000);
  },
);
for (const k of [1, 3, 20]) {
  row(
    `publish→deliver, answer of ${k}: per answer | per message`,
    'answer',
    (i) => m.publishToDeliver(tts[i & 1023], Date.now(), true),
    (i) => {
      const now = Date.now();
      for (let j = 0; j < k; j++) m.publishToDeliver(tts[(i + j) & 1023], now, true);
    },
  );
}

const budgets = budgetsUs();
console.log(`node ${process.version}; ${ITERATIONS} calls × ${ROUNDS} rounds, median round; ns of CPU time per operation`);
const said = (what: Budget, us: number | null): string =>
  us === null ? `one ${what}: no figure in bench/results/latest.json` : `one ${what} costs ${us.toFixed(1)} µs of server CPU in bench/results/latest.json`;
console.log(`${said('answer', budgets.answer)}; ${said('publish', budgets.publish)}`);
console.log(`${'operation'.padEnd(56)}${'before'.padStart(9)}${'after'.padStart(9)}${'added'.padStart(9)}${'added / its CPU'.padStart(22)}`);
for (const r of rows) {
  const added = r.after - r.before;
  const us = budgets[r.of];
  const share = us === null ? '-' : `${((added / (us * 1000)) * 100).toFixed(2)} % of ${r.of === 'answer' ? 'an answer' : 'a publish'}`;
  console.log(`${r.name.padEnd(56)}${r.before.toFixed(1).padStart(9)}${r.after.toFixed(1).padStart(9)}${added.toFixed(1).padStart(9)}${share.padStart(22)}`);
}
console.log('(rows "publish→deliver": before = one observation per answer, after = one per message)');
if (arrivals[0] === -1) console.log('');
