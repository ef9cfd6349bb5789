import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/free-port.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnServer, PAM_KEYSET, OPEN_KEYSET } from '../helpers/start-server.ts';
import { makeClient, record, type Client } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A Redis of this test's own (AOF, fsync always), so it can be stopped and restarted mid-test. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
    { stdio: 'ignore' },
  );
  await waitFor(async () => {
    const r = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    r.stdout!.on('data', (d) => (out += d));
    await new Promise((res) => r.once('exit', res));
    return out.includes('PONG');
  }, 'redis up');
  return child;
}

test('Redis restarted mid-test: clear 5xx while down (never an allow), recovery by itself, nothing acknowledged lost', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-'));
  const port = await freePort();
  let redis = await startRedis(port, dir);
  const file = join(dir, 'parley.json');
  writeFileSync(file, JSON.stringify({ keysets: [OPEN_KEYSET, PAM_KEYSET] }));
  const env = { PARLEY_CONFIG: file, PARLEY_REDIS_URL: `redis://127.0.0.1:${port}`, PARLEY_REDIS_PREFIX: 'restart-test' };
  const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  const clients: Client[] = [];
  const client = (origin: string, keyset: typeof OPEN_KEYSET, id: string, extra: Record<string, unknown> = {}) => {
    const c = makeClient(origin, keyset, id, extra);
    clients.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of clients) c.destroy();
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const pub = client(a.origin, OPEN_KEYSET, 'pub');
  const sub = client(b.origin, OPEN_KEYSET, 'sub', { enableEventEngine: false });
  const seen = record(sub);
  sub.subscribe({ channels: ['rr'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  const acked: string[] = [];
  for (let i = 0; i < 10; i++) acked.push((await pub.publish({ channel: 'rr', message: { i } })).timetoken as string);
  await waitFor(() => seen.messages.length === 10, 'delivered before the outage');

  const admin = client(a.origin, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  const token = await admin.grantToken({ ttl: 5, resources: { channels: { rr: { write: true } } } });
  const holder = client(a.origin, PAM_KEYSET, 'holder');
  holder.setToken(token);
  await holder.publish({ channel: 'rr', message: { secured: true } });

  redis.kill('SIGTERM');
  await new Promise((r) => redis.once('exit', r));
  await assert.rejects(pub.publish({ channel: 'rr', message: { down: true } }), (e: any) => {
    assert.ok(e.status.statusCode >= 500, `status ${e.status.statusCode}`);
    return true;
  });
  // A secured keyset answers 503 while this node may be missing revocations: never an allow.
  await waitFor(
    async () =>
      holder.publish({ channel: 'rr', message: 'x' }).then(
        () => false,
        (e: any) => e.status.statusCode === 503,
      ),
    'secured keyset fails closed',
    10_000,
  );

  redis = await startRedis(port, dir);
  await waitFor(
    async () =>
      pub.publish({ channel: 'rr', message: { i: 10 } }).then(
        () => true,
        () => false,
      ),
    'publish works again',
    20_000,
  );
  await waitFor(
    async () =>
      holder.publish({ channel: 'rr', message: { back: true } }).then(
        () => true,
        () => false,
      ),
    'secured keyset back',
    20_000,
  );
  await waitFor(
    () => seen.messages.some((m) => m.message?.i === 10),
    'cross-node delivery resumed: ' + JSON.stringify({ messages: seen.messages.map((m) => m.message), statuses: seen.statuses.map((s) => s.category) }),
    20_000,
  );

  const history = await client(b.origin, OPEN_KEYSET, 'reader').fetchMessages({ channels: ['rr'], count: 100 });
  const stored = history.channels.rr.map((m: any) => m.timetoken);
  for (const tt of acked.slice(0, 10)) assert.ok(stored.includes(tt), `acknowledged ${tt} is in history after the restart`);
  // B stays closed for secured keysets until its mirrors are reloaded, then answers again.
  const adminB = client(b.origin, PAM_KEYSET, 'admin-b', { secretKey: PAM_KEYSET.secretKey });
  const secured = await waitFor(() => adminB.fetchMessages({ channels: ['rr'] }).catch(() => undefined), 'B serves the secured keyset again', 20_000);
  assert.ok(
    secured.channels.rr.some((m: any) => m.message?.secured),
    'the secured publish survived too',
  );
});
