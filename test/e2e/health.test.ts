import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { createParley } from '../../src/app.ts';
import { OPEN_KEYSET, PAM_KEYSET, tempDir } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';
import { signToken } from '../../src/access/token/sign.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** An in-process server whose error log lines are kept (to check what reaches the log). */
async function serve(t: TestContext, overrides: Record<string, unknown>, level = 'error') {
  const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, keysets: [OPEN_KEYSET, PAM_KEYSET], demo: { enabled: false }, ...overrides } });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const parley = createParley({ config, log: createLogger({ level, destination: sink }) });
  const { url, port } = await parley.start();
  t.after(() => parley.stop());
  return { url, origin: `127.0.0.1:${port}`, lines };
}

async function health(url: string, path = '/health'): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

test('/health answers 503 with the reason once the SQLite files are gone; /health/live stays 200', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { url } = await serve(t, { store: { kind: 'sqlite' }, dataDir });
  const ok = await health(url);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'ok');

  rmSync(dataDir, { recursive: true, force: true });
  const gone = await health(url);
  assert.equal(gone.status, 503);
  assert.equal(gone.body.status, 'unavailable');
  assert.match(gone.body.reason!, /sqlite database file is gone/);
  assert.ok(!gone.body.reason!.includes(dataDir), 'the public answer does not name server paths');
  assert.deepEqual(await health(url, '/health/live'), { status: 200, body: { status: 'ok' } });
});

test('/health answers 503 while Redis is down and 200 again once it is back', { timeout: 60_000 }, async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const { url } = await serve(t, { store: { kind: 'redis' }, redis: { url: redis.url, prefix: 'health-test' } });
  assert.equal((await health(url)).status, 200);

  await redis.stop();
  const down = await waitFor(
    async () => {
      const h = await health(url);
      return h.status === 503 ? h : undefined;
    },
    '/health turns 503',
    10_000,
  );
  assert.equal(down.body.status, 'unavailable');
  assert.match(down.body.reason!, /redis/);
  assert.equal((await health(url, '/health/live')).status, 200);

  await redis.start();
  await waitFor(async () => (await health(url)).status === 200, '/health back to 200', 20_000);
});

test('a token in a request path never reaches the log (DELETE /v3/pam/{sub}/grant/{token})', async (t) => {
  const { origin, lines } = await serve(t, { store: { kind: 'memory' }, logLevel: 'debug' }, 'debug');
  const admin = makeClient(origin, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  t.after(() => admin.destroy());
  // A token of another keyset: the revoke is refused inside the route, which logs the request's path.
  const foreign = signToken('sec-of-another-keyset-0123456789abcdef', {
    version: 2,
    issuedAtSec: Math.floor(Date.now() / 1000),
    ttlMinutes: 10,
    resources: { channels: new Map([['lobby', 1]]), groups: new Map(), uuids: new Map() },
    patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
    meta: new Map(),
  });
  await assert.rejects(admin.revokeToken(foreign), (e: any) => e.status?.statusCode === 400);
  const logged = await waitFor(() => lines.find((l) => l.includes('/v3/pam/')), 'the refused revoke is logged');
  assert.ok(!lines.join('').includes(foreign), `the token reached the log: ${logged}`);
  assert.match(JSON.parse(logged).path, /^\/v3\/pam\/sub-pam\/grant\/\[redacted\]$/);
});

test('/health is 503 while the node is stopping', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  writeFileSync(join(dataDir, 'marker'), '');
  const config = loadConfig({
    env: {},
    overrides: { host: '127.0.0.1', port: 0, dataDir, store: { kind: 'memory' }, keysets: [OPEN_KEYSET], demo: { enabled: false }, logLevel: 'silent' },
  });
  const parley = createParley({ config, log: createLogger({ level: 'silent' }) });
  await parley.start();
  assert.deepEqual(await parley.services.ready(), { ok: true });
  const stopped = parley.stop();
  const during = await parley.services.ready();
  await stopped;
  assert.equal(during.ok, false);
  assert.match(during.reason!, /not serving/);
});
