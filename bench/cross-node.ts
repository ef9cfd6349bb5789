/**
 * Cross-node publish→deliver latency and throughput over Redis, beside a single node in the same run.
 *   npx tsx bench/cross-node.ts
 * Scenarios (each a fresh set of real Parley processes on 127.0.0.1; Redis at 127.0.0.1:6379, own prefix):
 *   single   one node, embedded memory engine: publish and subscribe on the same node (baseline)
 *   redis-1  one node on the Redis engine: publish and subscribe on the same node (cost of the Redis hop)
 *   redis-2  two nodes on Redis: publish on A, subscribers on B
 * Latency: one message at a time, wait until every subscriber has it. Throughput: a few publishers in
 * flight for a fixed time. Bounded in count and time; figures are printed, nothing is asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { deleteRedisKeys, REDIS_URL } from './lib/redis.ts';
import { spawnParleyNode } from './lib/servers.ts';

const PUB = 'pub-bench';
const SUB = 'sub-bench';
const SUBSCRIBERS = 10;
const LATENCY_MESSAGES = 300;
const THROUGHPUT_MS = 3000;
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('socket', (s) => s.setNoDelay(true));
    req.on('error', reject);
    req.end();
  });
}

/** A Parley node with the benchmark's keyset and `env` (bench/lib/servers.ts spawnParleyNode). */
const startNode = (env: Record<string, string>) => spawnParleyNode({ PARLEY_PUBLISH_KEY: PUB, PARLEY_SUBSCRIBE_KEY: SUB, ...env });

/** A raw long-poll subscriber: counts deliveries and reports each message's arrival to `onMessage`. */
function subscriber(url: string, channel: string, onMessage: (id: number) => void): { stop(): void } {
  let stopped = false;
  void (async () => {
    let tt = JSON.parse((await get(`${url}/v2/subscribe/${SUB}/${channel}/0?uuid=s`)).body).t.t as string;
    while (!stopped) {
      const r = await get(`${url}/v2/subscribe/${SUB}/${channel}/0?tt=${tt}&tr=1&uuid=s`).catch(() => null);
      if (r?.status !== 200) continue;
      const body = JSON.parse(r.body);
      tt = body.t.t;
      for (const m of body.m) onMessage(m.d.id);
    }
  })();
  return { stop: () => (stopped = true) };
}

const publish = (url: string, channel: string, id: number) =>
  get(`${url}/publish/${PUB}/${SUB}/0/${channel}/0/${encodeURIComponent(JSON.stringify({ id }))}?uuid=p&store=0`);

async function measure(pubUrl: string, subUrl: string) {
  const channel = 'bench-' + randomBytes(4).toString('hex');
  const waiting = new Map<number, { left: number; resolve: () => void }>();
  let deliveries = 0;
  const subs = Array.from({ length: SUBSCRIBERS }, () =>
    subscriber(subUrl, channel, (id) => {
      deliveries++;
      const w = waiting.get(id);
      if (w && --w.left === 0) w.resolve();
    }),
  );
  await new Promise((r) => setTimeout(r, 500)); // let every poll park
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    const start = performance.now();
    const all = new Promise<void>((resolve) => waiting.set(i, { left: SUBSCRIBERS, resolve }));
    await publish(pubUrl, channel, i);
    await Promise.race([all, new Promise((r) => setTimeout(r, 2000))]);
    latencies.push(performance.now() - start);
    waiting.delete(i);
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];

  deliveries = 0;
  let published = 0;
  const until = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    Array.from({ length: 8 }, async (_, k) => {
      for (let i = 0; performance.now() < until; i++) {
        await publish(pubUrl, channel, 1_000_000 + k * 100_000 + i);
        published++;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  for (const s of subs) s.stop();
  return { p50: q(0.5), p99: q(0.99), msgsPerSec: (published / THROUGHPUT_MS) * 1000, deliveriesPerSec: (deliveries / (THROUGHPUT_MS + 300)) * 1000 };
}

async function main(): Promise<void> {
  const prefix = `parley-bench-${randomBytes(4).toString('hex')}`;
  const redisEnv = { PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: prefix };
  const rows: Array<[string, Awaited<ReturnType<typeof measure>>]> = [];
  const children: ChildProcess[] = [];
  const cleanup = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.on('exit', cleanup);
  try {
    const single = await startNode({ PARLEY_STORE: 'memory' });
    children.push(single.child);
    rows.push(['single (memory engine, same node)', await measure(single.url, single.url)]);
    single.child.kill('SIGTERM');

    const one = await startNode(redisEnv);
    children.push(one.child);
    rows.push(['redis-1 (Redis engine, same node)', await measure(one.url, one.url)]);
    const two = await startNode(redisEnv);
    children.push(two.child);
    rows.push(['redis-2 (publish on A, deliver on B)', await measure(one.url, two.url)]);
  } finally {
    cleanup();
    await deleteRedisKeys(`${prefix}:*`);
  }
  const base = rows[0][1];
  console.log(
    `\n${SUBSCRIBERS} long-poll subscribers on one channel, ${LATENCY_MESSAGES} sequential messages for latency, ${THROUGHPUT_MS / 1000} s for throughput\n`,
  );
  console.log('scenario                               p50 ms   p99 ms    msgs/s  deliveries/s   p99 vs single');
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(38)} ${r.p50.toFixed(2).padStart(6)} ${r.p99.toFixed(2).padStart(8)} ${r.msgsPerSec.toFixed(0).padStart(9)} ${r.deliveriesPerSec.toFixed(0).padStart(13)} ${(r.p99 / base.p99).toFixed(2).padStart(14)}x`,
    );
  }
  process.exit(0);
}

await main();
