import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { OPEN_KEYSET, PAM_KEYSET, spawnServer, tempDir } from '../helpers/start-server.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';

/**
 * The compiled build (npm run build → dist/, run by plain node as `npm start` does), and the same build in
 * a production install: a tree whose node_modules holds only what `npm ci --omit=dev` installs (the
 * top-level packages package-lock.json does not mark dev), so a runtime import of tsx, the demo's SDK
 * or any other dev package fails here as it would in production.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const keysEnv = (k = OPEN_KEYSET): Record<string, string> => ({
  PARLEY_PUBLISH_KEY: k.publishKey,
  PARLEY_SUBSCRIBE_KEY: k.subscribeKey,
  PARLEY_SECRET_KEY: k.secretKey,
});
/** A cap on a hang, not a speed assertion. */
const EXIT_BOUND_MS = 15_000;

let prod = '';

/** The production-install tree as a deployment ships it: package.json, dist/, bin/ and production packages only (no src/, no scripts/). */
function productionTree(): string {
  const dir = tempDir('parley-prod-');
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) || entry.dev) continue;
    const target = join(ROOT, key);
    if (!existsSync(target)) continue; // an optional package not installed on this platform
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    symlinkSync(target, join(dir, key), 'dir');
  }
  return dir;
}

async function stopChild(server: Awaited<ReturnType<typeof spawnServer>>): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), EXIT_BOUND_MS);
  const code = await server.exited;
  clearTimeout(timer);
  return code;
}

/** A publish reaches a long-poll parked at the timetoken before it, and history holds it: the whole path. */
async function publishReachesLongPoll(url: string, channel: string): Promise<void> {
  const { publishKey: P, subscribeKey: S } = OPEN_KEYSET;
  const time = await fetch(`${url}/time/0`);
  assert.equal(time.status, 200);
  const [now] = (await time.json()) as [number];
  assert.match(String(now), /^\d{17}$/);
  const hello = (await (await fetch(`${url}/v2/subscribe/${S}/${channel}/0?tt=0&uuid=sub`)).json()) as { t: { t: string; r: number } };
  const poll = fetch(`${url}/v2/subscribe/${S}/${channel}/0?tt=${hello.t.t}&tr=${hello.t.r}&uuid=sub`).then(
    (r) => r.json() as Promise<{ m: Array<{ d: unknown }> }>,
  );
  const sent = (await (await fetch(`${url}/publish/${P}/${S}/0/${channel}/0/${encodeURIComponent(JSON.stringify({ text: 'hi' }))}?uuid=pub`)).json()) as [
    number,
    string,
    string,
  ];
  assert.deepEqual(sent.slice(0, 2), [1, 'Sent']);
  const answer = await poll;
  assert.deepEqual(
    answer.m.map((m) => m.d),
    [{ text: 'hi' }],
  );
  const history = (await (await fetch(`${url}/v2/history/sub-key/${S}/channel/${channel}`)).json()) as [unknown[]];
  assert.deepEqual(history[0], [{ text: 'hi' }]);
}

before(() => {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, `build failed: ${built.stderr}`);
  prod = productionTree();
});

after(() => prod && rmSync(prod, { recursive: true, force: true }));

test('node dist/main.js (the compiled server, no tsx) answers /time/0 and delivers a publish; SQLite migrations load from dist/', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await spawnServer({ ...keysEnv(), PARLEY_STORE: 'sqlite', PARLEY_DATA_DIR: dataDir }, { entry: join(ROOT, 'dist/main.js') });
  t.after(() => stopChild(server));
  assert.deepEqual(server.child.spawnargs.slice(1), [join(ROOT, 'dist/main.js')], 'plain node, no loader');
  await publishReachesLongPoll(server.url, 'compiled.sqlite');
  assert.equal(await stopChild(server), 0);
});

test('a production install (no dev dependencies) runs the compiled server on Redis (Lua scripts load from dist/), without the demo SDK', async (t) => {
  assert.throws(() => createRequire(join(prod, 'dist/main.js')).resolve('pubnub'), /Cannot find module/, 'the tree has no demo SDK');
  assert.throws(() => createRequire(join(prod, 'dist/main.js')).resolve('tsx'), /Cannot find module/, 'the tree has no tsx');
  const prefix = uniqueRedisPrefix();
  const redis = adminClient();
  t.after(async () => {
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  const server = await spawnServer({ ...keysEnv(), PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: prefix }, { entry: join(prod, 'dist/main.js') });
  t.after(() => stopChild(server));
  await publishReachesLongPoll(server.url, 'compiled.redis');
  assert.equal(await stopChild(server), 0);
});

test('without the demo SDK, "auto" on the demo keyset runs the server alone and says so in one line', async (t) => {
  const server = await spawnServer({ PARLEY_STORE: 'memory', PARLEY_DEMO_ENABLED: 'auto' }, { entry: join(prod, 'dist/main.js') });
  t.after(() => stopChild(server));
  assert.equal((await fetch(`${server.url}/time/0`)).status, 200);
  assert.equal((await fetch(`${server.url}/demo/`)).status, 404);
  const lines = server
    .stdout()
    .split('\n')
    .filter((l) => l.includes('demo not started'));
  assert.equal(lines.length, 1, server.stdout());
  assert.match(lines[0], /"level":40.*its SDK \(the pubnub package, a dev dependency\) is not installed/);
});

test('without the demo SDK, demo.enabled=true stops start-up with one line and exit code 78', () => {
  const r = spawnSync(process.execPath, [join(prod, 'dist/main.js')], {
    env: { ...process.env, PARLEY_HOST: '127.0.0.1', PORT: '0', PARLEY_STORE: 'memory', PARLEY_DEMO_ENABLED: 'true' },
    encoding: 'utf8',
    timeout: EXIT_BOUND_MS,
  });
  assert.equal(r.status, 78, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^parley: demo\.enabled is true but the demo's SDK \(the pubnub package, a dev dependency\) is not installed/);
  assert.doesNotMatch(r.stdout, /listening/);
});

test('bin/parley.js runs the compiled CLI in a production install', () => {
  const r = spawnSync(process.execPath, [join(prod, 'bin/parley.js'), 'config', 'check'], {
    env: { ...process.env, ...keysEnv(PAM_KEYSET), PARLEY_STORE: 'memory' },
    encoding: 'utf8',
    timeout: EXIT_BOUND_MS,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'configuration is valid\n');
  assert.equal(r.stderr, '');
  const bad = spawnSync(process.execPath, [join(prod, 'bin/parley.js'), 'config', 'check'], {
    env: { ...process.env, PORT: 'x' },
    encoding: 'utf8',
    timeout: EXIT_BOUND_MS,
  });
  assert.equal(bad.status, 78, bad.stderr);
});
