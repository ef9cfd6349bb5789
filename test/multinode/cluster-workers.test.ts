import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { request, type IncomingMessage } from 'node:http';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { OPEN_KEYSET, spawnServer } from '../helpers/start-server.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * cluster.workers: one port, two worker processes on one Redis (a prefix of their own). Each long-poll
 * below is its own TCP connection; node:cluster hands connections to the workers in turn, and /proc shows
 * which worker holds each one, so the test knows a publish crossed from one worker to the other.
 */
const { publishKey: P, subscribeKey: S } = OPEN_KEYSET;
/** Caps on a hang, not speed assertions. */
const EXIT_BOUND_MS = 20_000;
const SUBSCRIBERS = 4;

let server: Awaited<ReturnType<typeof spawnServer>>;
let port = 0;
const prefix = uniqueRedisPrefix();
const redis = adminClient();

/** A GET on a connection of its own (no keep-alive pool), resolving with the status and body text. */
function getTextOwnConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET on a connection of its own (no keep-alive pool), resolving with the parsed JSON body. */
async function getOwnConnection(url: string): Promise<unknown> {
  return JSON.parse((await getTextOwnConnection(url)).body);
}

/** Child processes of pid (Linux /proc). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/** For each pid, how many established TCP connections on `localPort` it holds (server side). */
function connectionsByPid(localPort: number, pids: number[]): Map<number, number> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = Number.parseInt(f[1].split(':')[1], 16);
      if (local === localPort && f[3] === '01') inodes.add(f[9]);
    }
  }
  const out = new Map<number, number>();
  for (const pid of pids) {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) n++;
      } catch {
        // The fd closed while listing.
      }
    }
    out.set(pid, n);
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  server = await spawnServer({
    PARLEY_PUBLISH_KEY: P,
    PARLEY_SUBSCRIBE_KEY: S,
    PARLEY_SECRET_KEY: '',
    PARLEY_REDIS_URL: REDIS_URL,
    PARLEY_REDIS_PREFIX: prefix,
    PARLEY_CLUSTER_WORKERS: '2',
    // The primary's lifecycle lines (worker listening, worker exited) are what the restart test waits on.
    PARLEY_LOG_LEVEL: 'info',
  });
  port = Number(new URL(server.url).port);
});

after(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

test('the banner names two workers; the primary has two worker processes', async () => {
  assert.match(server.stdout(), /Parley is listening on http:\/\/127\.0\.0\.1:\d+ \(2 worker processes\)/);
  assert.equal(server.stdout().match(/Parley is listening/g)?.length, 1, 'one banner, from the primary');
  assert.equal(childrenOf(server.child.pid!).length, 2);
});

/**
 * Parks SUBSCRIBERS long-polls, each on a connection of its own, checks through /proc that every worker
 * holds at least one, then publishes through a further connection: every long-poll must get the message.
 */
async function publishReachesEveryWorker(channel: string, workers: number[]): Promise<void> {
  const hello = (await getOwnConnection(`${server.url}/v2/subscribe/${S}/${channel}/0?tt=0&uuid=probe`)) as { t: { t: string; r: number } };
  const polls = Array.from(
    { length: SUBSCRIBERS },
    (_, i) =>
      getOwnConnection(`${server.url}/v2/subscribe/${S}/${channel}/0?tt=${hello.t.t}&tr=${hello.t.r}&uuid=sub-${i}`) as Promise<{ m: Array<{ d: unknown }> }>,
  );
  const held = await waitFor(
    () => {
      const byPid = connectionsByPid(port, workers);
      const total = [...byPid.values()].reduce((a, b) => a + b, 0);
      return total >= SUBSCRIBERS && byPid;
    },
    `${SUBSCRIBERS} parked long-polls`,
    10_000,
  );
  for (const pid of workers) assert.ok((held.get(pid) ?? 0) >= 1, `worker ${pid} holds a long-poll: ${JSON.stringify([...held])}`);

  const sent = (await getOwnConnection(`${server.url}/publish/${P}/${S}/0/${channel}/0/${encodeURIComponent('"across"')}?uuid=pub`)) as [
    number,
    string,
    string,
  ];
  assert.deepEqual(sent.slice(0, 2), [1, 'Sent']);
  const answers = await Promise.all(polls);
  for (const a of answers)
    assert.deepEqual(
      a.m.map((m) => m.d),
      ['across'],
    );
}

test('long-polls spread over both workers all receive a publish made through the same port', async () => {
  await publishReachesEveryWorker('cluster.room', childrenOf(server.child.pid!));
});

test("/metrics through any worker is the node: every worker's series, aggregated by the primary", async () => {
  const scrape = async (): Promise<{ publishes: number; text: string }> => {
    const { status, body } = await getTextOwnConnection(`${server.url}/metrics`);
    assert.equal(status, 200, body.slice(0, 200));
    const m = /^parley_publishes_total\{kind="publish"\} (\d+)$/m.exec(body);
    return { publishes: m ? Number(m[1]) : 0, text: body };
  };
  const before = (await scrape()).publishes;
  // Each publish on a connection of its own: node:cluster hands them to the workers in turn.
  for (let i = 0; i < 6; i++) {
    const sent = (await getOwnConnection(`${server.url}/publish/${P}/${S}/0/cluster.metrics/0/${i}?uuid=pub`)) as unknown[];
    assert.equal(sent[0], 1);
  }
  const scrapes = await Promise.all(Array.from({ length: 4 }, () => scrape()));
  assert.deepEqual(
    scrapes.map((s) => s.publishes),
    [before + 6, before + 6, before + 6, before + 6],
    "every scrape, whichever worker served it, counts every worker's publishes",
  );
  for (const { text } of scrapes) {
    assert.match(text, /^process_cpu_seconds_total \d/m, "the processes' series are there too");
    assert.match(text, /^parley_long_polls_parked \d+$/m);
    assert.equal(text.match(/^# TYPE parley_publishes_total counter$/gm)?.length, 1, 'one series, not one per worker');
    const count = /^parley_request_duration_seconds_count\{endpoint="GET \/publish\/[^"]*"\} (\d+)$/m.exec(text);
    assert.ok(count && Number(count[1]) >= 6, 'histograms are summed too');
  }
});

test('a worker that dies is replaced, and the replacement serves on the same port', async () => {
  const before = childrenOf(server.child.pid!);
  process.kill(before[0], 'SIGKILL');
  const after = await waitFor(
    () => {
      const now = childrenOf(server.child.pid!);
      return now.length === 2 && !now.includes(before[0]) && now;
    },
    'a replacement worker',
    10_000,
  );
  assert.ok(after.includes(before[1]), 'the other worker kept running');
  // While the replacement starts, a scrape aggregates the workers that listen (it does not wait on one that cannot answer yet).
  const during = await getTextOwnConnection(`${server.url}/metrics`);
  assert.equal(during.status, 200, during.body.slice(0, 200));
  const replacement = after.find((pid) => pid !== before[1])!;
  await waitFor(() => server.stdout().includes(`"pid":${replacement},"slot":0,"msg":"worker listening"`), 'the replacement listening', 10_000);
  assert.match(server.stdout(), new RegExp(`"pid":${before[0]},"code":null,"signal":"SIGKILL",.*"restartInMs":100,"msg":"worker exited: restarting"`));
  await publishReachesEveryWorker('cluster.after-restart', after);
});

test('SIGTERM to the primary stops every worker, and the primary exits 0', async () => {
  const workers = childrenOf(server.child.pid!);
  assert.equal(workers.length, 2);
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), EXIT_BOUND_MS);
  const code = await server.exited;
  clearTimeout(timer);
  assert.equal(code, 0);
  for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} is gone`);
});

test('cluster.workers on the sqlite engine is refused with exit code 78', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PARLEY_HOST: '127.0.0.1',
      PORT: '0',
      PARLEY_STORE: 'sqlite',
      PARLEY_CLUSTER_WORKERS: 'auto',
      PARLEY_PUBLISH_KEY: P,
      PARLEY_SUBSCRIBE_KEY: S,
    },
    encoding: 'utf8',
    timeout: EXIT_BOUND_MS,
  });
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, /cluster\.workers: cluster\.workers is "auto" but store\.kind is "sqlite": worker processes share .* only through the redis engine/);
});

test('a worker that cannot listen (port in use) fails the start: the others stop, the primary exits 1 with each reason', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const busyPort = (holder.address() as { port: number }).port;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PARLEY_HOST: '127.0.0.1',
      PORT: String(busyPort),
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_DEMO_ENABLED: 'false',
      PARLEY_PUBLISH_KEY: P,
      PARLEY_SUBSCRIBE_KEY: S,
      PARLEY_REDIS_URL: REDIS_URL,
      PARLEY_REDIS_PREFIX: prefix,
      PARLEY_CLUSTER_WORKERS: '2',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /parley: failed to start: .*EADDRINUSE/);
  assert.match(stderr, /parley: failed to start: a worker exited with 1 before listening\n$/);
});
