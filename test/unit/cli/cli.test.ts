import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '../../../src/access/token/sign.ts';
import { createSqliteStores } from '../../../src/store/sqlite/index.ts';
import { startServer, tempDir } from '../../helpers/start-server.ts';
import { makeClient } from '../../helpers/clients.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.ts';

const KEYS = { PARLEY_PUBLISH_KEY: 'pub-cli', PARLEY_SUBSCRIBE_KEY: 'sub-cli', PARLEY_SECRET_KEY: 'sec-cli-0123456789abcdef0123456789ab' };

function parley(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/parley.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Signed as the Access Manager signs: never stamped before the deny list's epoch (access-manager.ts sign). */
const tokenAt = (epochMs: number) =>
  signToken(KEYS.PARLEY_SECRET_KEY, {
    version: 2,
    issuedAtSec: Math.max(Math.floor(Date.now() / 1000), Math.ceil(epochMs / 1000)),
    ttlMinutes: 30,
    resources: { channels: new Map([['lobby', 3]]), groups: new Map(), uuids: new Map([['alice', 32]]) },
    patterns: { channels: new Map([['^chat\\..*$', 1]]), groups: new Map(), uuids: new Map() },
    meta: new Map([['role', 'tester']]),
    authorizedUuid: 'alice',
  });
const token = tokenAt(0);

test('parley token inspect decodes and, with the secret, verifies', () => {
  const r = parley(['token', 'inspect', token, '--secret-key', KEYS.PARLEY_SECRET_KEY]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /authorized\s+alice/);
  assert.match(r.out, /resource channel "lobby": read\+write/);
  assert.match(r.out, /pattern\s+channel "\^chat\\\\\.\.\*\$": read/);
  assert.match(r.out, /signature\s+valid/);
  const bad = parley(['token', 'inspect', token, '--secret-key', 'other-secret']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /INVALID/);
  assert.equal(parley(['token', 'inspect', 'not-a-token!']).code, 1);
});

test('parley explain names the grant or pattern behind each decision', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const stores = createSqliteStores({ file: join(dataDir, 'parley.db') });
  await stores.grants.put([{ subscribeKey: 'sub-cli', level: 'channel', resource: 'news.*', authKey: 'k1', perms: 1, ttlMinutes: 0, expiresAtMs: null }]);
  // As a server would at its start: the deny list's epoch is recorded before any token is issued.
  const token = tokenAt(await stores.denyList.epoch(Date.now()));
  await stores.close();
  const env = { ...KEYS, PARLEY_DATA_DIR: dataDir };

  let r = parley(['explain', '--operation', 'subscribe', '--channel', 'news.eu', '--auth', 'k1'], env);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /ALLOW read on channel "news.eu": channel grant on "news\.\*" \(wildcard\) for this auth key/);
  r = parley(['explain', '--operation', 'publish', '--channel', 'news.eu', '--auth', 'k1'], env);
  assert.equal(r.code, 1);
  assert.match(r.out, /decision\s+DENY ACCESS_DENIED/);
  r = parley(['explain', '--operation', 'publish', '--channel', 'lobby', '--auth', token, '--uuid', 'alice'], env);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /token res\["lobby"\]/);
  r = parley(['explain', '--operation', 'subscribe', '--channel', 'chat.x', '--auth', token, '--uuid', 'bob'], env);
  assert.equal(r.code, 1);
  assert.match(r.out, /TOKEN_WRONG_UUID/);
  assert.equal(parley(['explain', '--operation', 'nope'], env).code, 2);
});

test('parley config print hides the Redis password', () => {
  const r = parley(['config', 'print'], { ...KEYS, PARLEY_REDIS_URL: 'redis://parley:s3cret-redis-pw@redis.internal:6379/0' });
  assert.equal(r.code, 0, r.err);
  assert.ok(!r.out.includes('s3cret-redis-pw'), r.out);
  assert.ok(!r.out.includes(KEYS.PARLEY_SECRET_KEY), r.out);
  assert.equal(JSON.parse(r.out).redis.url, 'redis://parley:[redacted]@redis.internal:6379/0');
});

test('parley explain reads the backend the server uses: a grant made through a server on Redis is seen', { timeout: 60_000 }, async (t) => {
  const prefix = uniqueRedisPrefix();
  const redis = adminClient();
  const keyset = { publishKey: KEYS.PARLEY_PUBLISH_KEY, subscribeKey: KEYS.PARLEY_SUBSCRIBE_KEY, secretKey: KEYS.PARLEY_SECRET_KEY };
  const server = await startServer({ keysets: [keyset], overrides: { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix } } });
  const admin = makeClient(server.origin, keyset, 'admin', { secretKey: keyset.secretKey });
  t.after(async () => {
    admin.destroy();
    await server.stop();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  await admin.grant({ channels: ['redis-room'], authKeys: ['k-redis'], read: true, ttl: 10 });
  const token = await admin.grantToken({ ttl: 10, authorized_uuid: 'ada', resources: { channels: { 'redis-room': { read: true } } } });

  const env = { ...KEYS, PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: prefix };
  let r = parley(['explain', '--operation', 'subscribe', '--channel', 'redis-room', '--auth', 'k-redis'], env);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /ALLOW read on channel "redis-room"/);
  r = parley(['explain', '--operation', 'subscribe', '--channel', 'redis-room', '--auth', token, '--uuid', 'ada'], env);
  assert.equal(r.code, 0, r.out + r.err);
  await admin.revokeToken(token);
  r = parley(['explain', '--operation', 'subscribe', '--channel', 'redis-room', '--auth', token, '--uuid', 'ada'], env);
  assert.equal(r.code, 1);
  assert.match(r.out, /TOKEN_REVOKED/);
});
