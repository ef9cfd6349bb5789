/**
 * Latencies the test suite used to assert against the wall clock, measured here instead: `npm test`
 * checks what happens, never how fast (style.md §6).
 *   npx tsx bench/latency.ts [--trials 200]
 * Each figure has a baseline from the same run:
 *   link        a control event, and a one-message commit, from RedisBroker A to B's handler;
 *               baseline: bare ioredis PUBLISH → SUBSCRIBE (one hop, no Parley code)
 *   revocation  revokeToken → a parked long-poll answered 403 TOKEN_REVOKED, the poll on the same node
 *               and on another node (two Parley processes on Redis); baseline: a publish → the same kind
 *               of parked poll answered 200
 *   unreachable Redis down: how long the first store calls take to fail with STORE_UNAVAILABLE;
 *               baseline: a bare TCP connect to the same closed port
 * Redis at 127.0.0.1:6379 under a prefix of its own, deleted at the end. Bounded in count and time;
 * figures are printed, nothing is asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import PubNub from 'pubnub';
import { deleteRedisKeys, REDIS_URL } from './lib/redis.ts';
import { spawnParleyNode } from './lib/servers.ts';
import { RedisBroker } from '../src/store/redis/broker.ts';
import { createRedisStores } from '../src/store/redis/index.ts';
import type { OutgoingMessage } from '../src/store/types.ts';

const KEYS = { publishKey: 'pub-latency', subscribeKey: 'sub-latency', secretKey: `sec-latency-${'0'.repeat(32)}` };
const WARMUP = 20;
const UNREACHABLE_TRIALS = 10;
/** Longest any one awaited step may take before the run gives up. */
const STEP_TIMEOUT_MS = 10_000;

const { values } = parseArgs({ options: { trials: { type: 'string', default: '200' } } });
const TRIALS = Number(values.trials);
if (!Number.isInteger(TRIALS) || TRIALS < 1 || TRIALS > 10_000) throw new Error('--trials must be 1-10000');
const PREFIX = `parley-bench-${randomBytes(6).toString('hex')}-${Date.now()}`;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS)),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `once` WARMUP times unrecorded, then `trials` times; returns the sorted durations (ms). */
async function measure(trials: number, once: () => Promise<number>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = -WARMUP; i < trials; i++) {
    const d = await once();
    if (i >= 0) ms.push(d);
  }
  return ms.sort((x, y) => x - y);
}

function report(what: string, ms: readonly number[], baseline?: readonly number[]): void {
  const ratio = baseline ? `  (${(percentile(ms, 50) / percentile(baseline, 50)).toFixed(1)}× baseline p50)` : '';
  console.log(
    `${what.padEnd(58)} p50 ${percentile(ms, 50).toFixed(3)} ms  p99 ${percentile(ms, 99).toFixed(3)} ms  max ${ms[ms.length - 1].toFixed(3)} ms  n=${ms.length}${ratio}`,
  );
}

/** RedisBroker A → B, beside bare ioredis; what test/unit/store/redis-broker.test.ts used to print. */
async function link(): Promise<void> {
  const prefix = `${PREFIX}-link`;
  const a = new RedisBroker({ url: REDIS_URL, prefix, nodeId: `a-${prefix}` });
  const b = new RedisBroker({ url: REDIS_URL, prefix, nodeId: `b-${prefix}` });
  const pub = new Redis(REDIS_URL);
  const sub = new Redis(REDIS_URL);
  let arrived: () => void = () => {};
  b.onControl(() => arrived());
  b.onMessages(() => arrived());
  a.onMessages(() => {});
  try {
    await Promise.all([a.ready(), b.ready()]);
    await sub.subscribe(`${prefix}:baseline`);
    sub.on('message', () => arrived());
    const hop = (send: () => Promise<unknown>) => async (): Promise<number> => {
      // Armed before sending: the event may arrive before the send call itself resolves.
      const seen = new Promise<number>((resolve) => (arrived = () => resolve(performance.now())));
      const started = performance.now();
      await send();
      return (await within(seen, 'delivery')) - started;
    };
    const message: OutgoingMessage = {
      subscribeKey: 'sub-a',
      channel: 'lat',
      publisher: 'alice',
      payload: '{"n":0}',
      meta: null,
      customMessageType: null,
      type: 0,
      store: true,
      expiresAtMs: null,
    };
    const baseline = await measure(
      TRIALS,
      hop(() => pub.publish(`${prefix}:baseline`, 'x')),
    );
    report('baseline: ioredis PUBLISH → SUBSCRIBE', baseline);
    report(
      'control event, broker A → handler on B',
      await measure(
        TRIALS,
        hop(() => a.broadcast({ kind: 'grants-changed', subscribeKey: 'sub-a' })),
      ),
      baseline,
    );
    report(
      'one-message commit on A → onMessages on B',
      await measure(
        TRIALS,
        hop(() => a.commit([message])),
      ),
      baseline,
    );
  } finally {
    await Promise.all([a.close(), b.close(), pub.quit(), sub.quit()]);
  }
}

interface Node {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

function startNode(): Promise<Node> {
  return within(
    spawnParleyNode({
      PARLEY_PUBLISH_KEY: KEYS.publishKey,
      PARLEY_SUBSCRIBE_KEY: KEYS.subscribeKey,
      PARLEY_SECRET_KEY: KEYS.secretKey,
      PARLEY_REDIS_URL: REDIS_URL,
      PARLEY_REDIS_PREFIX: `${PREFIX}-nodes`,
    }),
    'node start',
  );
}

/** Resolves once `node` has a long-poll parked (its gauge on /metrics), polling every few ms. */
async function parked(node: Node): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    if ((/parley_long_polls_parked (\d+)/.exec(text)?.[1] ?? '0') !== '0') return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no long-poll parked');
}

/** revokeToken → parked poll answered 403, same node and across nodes; what test/multinode/cluster.test.ts used to assert (p99 < 250 ms). */
async function revocation(): Promise<void> {
  const [a, b] = await Promise.all([startNode(), startNode()]);
  const admin = new PubNub({ ...KEYS, userId: 'admin', origin: new URL(a.url).host, ssl: false, logVerbosity: false } as ConstructorParameters<
    typeof PubNub
  >[0]);
  try {
    /** A raw long-poll with the token, parked on `node` (wrapped: an async function would await the answer it returns). */
    const poll = async (node: Node, channel: string, auth: string): Promise<{ answer: Promise<Response> }> => {
      const tt = (await (await fetch(`${node.url}/time/0`)).text()).slice(1, -1);
      const answer = fetch(`${node.url}/v2/subscribe/${KEYS.subscribeKey}/${channel}/0?tt=${tt}&uuid=watcher&auth=${encodeURIComponent(auth)}`);
      await parked(node);
      return { answer };
    };
    const token = () => admin.grantToken({ ttl: 5, authorized_uuid: 'watcher', resources: { channels: { 'lat.watch': { read: true } } } });
    const revokedOn = (node: Node) => async (): Promise<number> => {
      const minted = await token();
      const { answer } = await poll(node, 'lat.watch', minted);
      // Includes the revoke call itself, as a client of the admin API sees it.
      const started = performance.now();
      await admin.revokeToken(minted);
      const r = await within(answer, 'the 403');
      if (r.status !== 403) throw new Error(`expected 403, got ${r.status}`);
      await r.body?.cancel();
      return performance.now() - started;
    };
    // Only the secured keyset runs here: the baseline poll and publish use a token that stays valid.
    const reader = await admin.grantToken({ ttl: 60, authorized_uuid: 'watcher', resources: { channels: { 'lat.base': { read: true, write: true } } } });
    const delivered = (node: Node) => async (): Promise<number> => {
      const { answer } = await poll(node, 'lat.base', reader);
      const started = performance.now();
      const p = await fetch(`${a.url}/publish/${KEYS.publishKey}/${KEYS.subscribeKey}/0/lat.base/0/%22x%22?uuid=watcher&auth=${encodeURIComponent(reader)}`);
      if (p.status !== 200) throw new Error(`publish answered ${p.status}`);
      const r = await within(answer, 'the delivery');
      if (r.status !== 200) throw new Error(`expected 200, got ${r.status}`);
      await r.body?.cancel();
      return performance.now() - started;
    };
    const trials = Math.min(TRIALS, 100);
    const baseline = await measure(trials, delivered(b));
    report('baseline: publish on A → parked poll on B answered 200', baseline);
    report('revokeToken on A → parked poll on A answered 403', await measure(trials, revokedOn(a)), baseline);
    report('revokeToken on A → parked poll on B answered 403', await measure(trials, revokedOn(b)), baseline);
  } finally {
    admin.destroy();
    for (const n of [a, b]) n.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Redis down: the first calls fail fast; what test/contract/redis.test.ts asserted (< 1000 ms). */
async function unreachable(): Promise<void> {
  const port = await closedPort();
  const refused = await measure(UNREACHABLE_TRIALS, async () => {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', () => resolve());
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
    });
    return performance.now() - started;
  });
  report('baseline: TCP connect to a closed port refused', refused);
  const failed = await measure(UNREACHABLE_TRIALS, async () => {
    const stores = createRedisStores({ url: `redis://127.0.0.1:${port}`, prefix: `${PREFIX}-down` });
    const started = performance.now();
    const codes = await Promise.all([
      stores.grants.list('sub-a', 0).then(
        () => 'ok',
        (err: { code?: string }) => err.code,
      ),
      stores.presence.expire(0).then(
        () => 'ok',
        (err: { code?: string }) => err.code,
      ),
    ]);
    const elapsed = performance.now() - started;
    await stores.close();
    if (codes.some((c) => c !== 'STORE_UNAVAILABLE')) throw new Error(`expected STORE_UNAVAILABLE, got ${codes.join(', ')}`);
    return elapsed;
  });
  report('Redis unreachable: first store calls → STORE_UNAVAILABLE', failed, refused);
}

try {
  await link();
  await revocation();
  await unreachable();
} finally {
  await deleteRedisKeys(`${PREFIX}*`);
}
