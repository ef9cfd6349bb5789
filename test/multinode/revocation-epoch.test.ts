import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET, PAM_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

const S = PAM_KEYSET.subscribeKey;

/** An in-process node on a Redis prefix. */
async function node(t: TestContext, url: string, prefix: string): Promise<TestServer> {
  const server = await startServer({ overrides: { store: { kind: 'redis' }, redis: { url, prefix } }, keysets: [OPEN_KEYSET, PAM_KEYSET] });
  t.after(() => server.stop());
  return server;
}

/** A subscribe handshake (tt=0) with the token: 200 when the token reads `room`, else the 403's code. */
async function use(server: TestServer, token: string): Promise<string> {
  const r = await fetch(`${server.url}/v2/subscribe/${S}/room/0?tt=0&uuid=u&auth=${token}`);
  if (r.status === 200) return 'allowed';
  return `${r.status} ${((await r.json()) as { code: string }).code}`;
}

async function grant(server: TestServer, t: TestContext): Promise<(ttl?: number) => Promise<string>> {
  const admin = makeClient(server.origin, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  t.after(() => admin.destroy());
  return (ttl = 30) => admin.grantToken({ ttl, resources: { channels: { room: { read: true } } } });
}

test('Redis lost its data: a node started later refuses a token revoked before the loss, and every token issued before it', async (t) => {
  const prefix = uniqueRedisPrefix();
  const redis = adminClient();
  const nodes: TestServer[] = [];
  t.after(async () => {
    // The nodes first (stop is idempotent): a running node still writes under the prefix.
    for (const n of nodes) await n.stop();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  const a = await node(t, REDIS_URL, prefix);
  nodes.push(a);
  const grantOnA = await grant(a, t);
  const revoked = await grantOnA(30);
  const kept = await grantOnA(31);
  const admin = makeClient(a.origin, PAM_KEYSET, 'admin-revoke', { secretKey: PAM_KEYSET.secretKey });
  t.after(() => admin.destroy());
  await admin.revokeToken(revoked);
  assert.equal(await use(a, revoked), '403 TOKEN_REVOKED');
  assert.equal(await use(a, kept), 'allowed');

  // Redis restarted without its data. The shared test Redis is not ours: only this prefix's keys go.
  assert.ok((await deleteKeysWithPrefix(redis, prefix)) > 0);

  const b = await node(t, REDIS_URL, prefix);
  nodes.push(b);
  assert.equal(await use(b, revoked), '403 TOKEN_ISSUED_BEFORE_EPOCH', 'the revoked token must not become valid again');
  assert.equal(await use(b, kept), '403 TOKEN_ISSUED_BEFORE_EPOCH', 'it may have been revoked in the lost list');
  const fresh = await (await grant(b, t))();
  assert.equal(await use(b, fresh), 'allowed');
  // A still holds its own mirror of the revocation.
  assert.equal(await use(a, revoked), '403 TOKEN_REVOKED');
});

test('a running node adopts the new epoch when it resyncs after Redis came back empty', { timeout: 60_000 }, async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const a = await node(t, redis.url, 'epoch-resync');
  const grantOnA = await grant(a, t);
  const before = await grantOnA();
  assert.equal(await use(a, before), 'allowed');

  await redis.stop();
  await waitFor(async () => (await use(a, before)) === '503 STORE_UNAVAILABLE', 'A fails closed while Redis is down', 10_000);
  await redis.start();
  // After the gap A reloads its mirrors and reads the deny list's epoch, which the restart reset.
  const after = await waitFor(
    async () => {
      const answer = await use(a, before);
      return answer === '503 STORE_UNAVAILABLE' ? undefined : answer;
    },
    'A serves the secured keyset again',
    20_000,
  );
  assert.equal(after, '403 TOKEN_ISSUED_BEFORE_EPOCH');
  const fresh = await waitFor(() => grantOnA().catch(() => undefined), 'grant works again', 10_000);
  assert.equal(await use(a, fresh), 'allowed');
});
