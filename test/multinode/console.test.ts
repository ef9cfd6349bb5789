import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { signedFetch, signedUrl } from '../helpers/signed-fetch.ts';
import { PAM_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SUB = PAM_KEYSET.subscribeKey;

/** Two nodes of one deployment, in this process, on the test Redis under a prefix of their own. */
async function twoNodes(t: import('node:test').TestContext): Promise<[TestServer, TestServer]> {
  const prefix = uniqueRedisPrefix();
  const overrides = { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix }, console: { enabled: true, sampleIntervalSec: 1 } };
  const a = await startServer({ overrides });
  const b = await startServer({ overrides });
  t.after(async () => {
    await a.stop();
    await b.stop();
    const redis = adminClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  return [a, b];
}

test('the overview of one node shows every node of the deployment, each with its own figures', async (t) => {
  const [a, b] = await twoNodes(t);
  // A long-poll parked on node B only (signed, heartbeat=0: as the console's tail).
  const path = `/v2/subscribe/${SUB}/room/0`;
  const handshake = await (await fetch(signedUrl(b.url, PAM_KEYSET, 'GET', path, { heartbeat: '0' }))).json();
  const controller = new AbortController();
  const parked = fetch(signedUrl(b.url, PAM_KEYSET, 'GET', path, { tt: handshake.t.t, heartbeat: '0' }), { signal: controller.signal }).catch(() => null);
  t.after(async () => {
    controller.abort();
    await parked;
  });
  const nodes = await waitFor(
    async () => {
      const { body } = await signedFetch(a.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`);
      const list = body.data.nodes as any[];
      const other = list.find((n) => !n.self);
      return list.length === 2 && other?.samples.at(-1)?.parkedLongPolls === 1 ? list : undefined;
    },
    'node A shows node B with its parked long-poll',
    10_000,
  );
  assert.equal(nodes[0].self, true);
  assert.equal(nodes[0].samples.at(-1).parkedLongPolls, 0);
  assert.equal(nodes[1].stale, false);
  assert.notEqual(nodes[0].nodeId, nodes[1].nodeId);
});

test("a kick on one node ends the uuid's parked poll on another and is refused there", async (t) => {
  const [a, b] = await twoNodes(t);
  const minted = await signedFetch(a.url, PAM_KEYSET, 'POST', `/v3/pam/${SUB}/grant`, {
    body: { ttl: 10, permissions: { uuid: 'mallory', resources: { channels: { room: 3 } } } },
  });
  const token = encodeURIComponent(minted.body.data.token);
  const handshake = await (await fetch(`${b.url}/v2/subscribe/${SUB}/room/0?uuid=mallory&auth=${token}`)).json();
  const parked = fetch(`${b.url}/v2/subscribe/${SUB}/room/0?uuid=mallory&tt=${handshake.t.t}&auth=${token}`);
  await waitFor(() => b.parley.services.hub.waitersOf(SUB, 'mallory').size === 1, 'mallory parked on B');
  const kicked = await signedFetch(a.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'mallory' } });
  assert.equal(kicked.status, 200);
  assert.equal(kicked.body.data.endedLongPolls, 0, 'none on A');
  const ended = await parked;
  assert.equal(ended.status, 403);
  assert.equal((await ended.json()).code, 'UUID_KICKED');
  const again = await fetch(`${b.url}/v2/subscribe/${SUB}/room/0?uuid=mallory&auth=${token}`);
  assert.equal(again.status, 403);
});

test('a secret rotated on one node is applied by the others', async (t) => {
  const [a, b] = await twoNodes(t);
  const rotated = await signedFetch(a.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/secret/rotate`, { body: { overlapMinutes: 0 } });
  assert.equal(rotated.status, 200);
  const secretKey = rotated.body.data.secretKey as string;
  await waitFor(async () => (await signedFetch(b.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`, { secretKey })).status === 200, 'B accepts the new secret');
  const old = await signedFetch(b.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`);
  assert.equal(old.status, 403, 'no overlap: the old secret stopped at once on B too');
});
