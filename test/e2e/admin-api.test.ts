import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signRequest } from '../../src/access/signature.ts';
import { harness } from '../helpers/harness.ts';
import { OPEN_KEYSET, PAM_KEYSET, startServer } from '../helpers/start-server.ts';
import { signedFetch } from '../helpers/signed-fetch.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';

const SUB = PAM_KEYSET.subscribeKey;
const ROUTES: Array<[string, string, unknown]> = [
  ['GET', `/v1/admin/${SUB}/stats`, undefined],
  ['POST', `/v1/admin/${SUB}/token/inspect`, { token: 'qEF2AkF0GmVl' }],
  ['POST', `/v1/admin/${SUB}/explain`, { operation: 'publish', channels: ['a'] }],
  ['POST', `/v1/admin/${SUB}/kick`, { uuid: 'mallory' }],
  ['POST', `/v1/admin/${SUB}/secret/rotate`, { overlapMinutes: 5 }],
];
const CONSOLE = { console: { enabled: true, sampleIntervalSec: 1 } };

test('the admin API refuses what is not signed with the secret key, like grant and audit, and acts on nothing', async (t) => {
  const server = await startServer({ store: 'memory', overrides: CONSOLE });
  t.after(() => server.stop());
  for (const [method, path, body] of ROUTES) {
    const unsigned = await signedFetch(server.url, PAM_KEYSET, method, path, { body, unsigned: true });
    assert.equal(unsigned.status, 403, `${method} ${path}`);
    assert.equal(unsigned.body.code, 'SIGNATURE_MISSING');
    const wrong = await signedFetch(server.url, PAM_KEYSET, method, path, { body, secretKey: 'not-the-secret-0123456789abcdef0123' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, 'SIGNATURE_MISMATCH');
    // A token or auth key opens none of it: admin operations take no grants.
    const withAuth = await signedFetch(server.url, PAM_KEYSET, method, path, { body, unsigned: true, query: { auth: 'any-auth-key' } });
    assert.equal(withAuth.body.code, 'SIGNATURE_MISSING');
  }
  // The signature covers the body: a captured kick replayed for another uuid is refused.
  const path = `/v1/admin/${SUB}/kick`;
  const good = await signedFetch(server.url, PAM_KEYSET, 'POST', path, { body: { uuid: 'eve' } });
  assert.equal(good.status, 200);
  const params = new URLSearchParams({ uuid: 'ops', timestamp: String(Math.floor(Date.now() / 1000)) });
  params.set(
    'signature',
    signRequest(PAM_KEYSET, { method: 'POST', path, params: { uuid: 'ops', timestamp: params.get('timestamp') as string }, body: '{"uuid":"eve"}' }),
  );
  const replayed = await fetch(`${server.url}${path}?${params}`, { method: 'POST', body: '{"uuid":"alice"}' });
  assert.equal(replayed.status, 403);
  assert.equal((await replayed.json()).code, 'SIGNATURE_MISMATCH');
});

test('a keyset without a secret key has no admin API (its requests are never checked, so it acts on nothing)', async (t) => {
  const server = await startServer({ store: 'memory', overrides: CONSOLE });
  t.after(() => server.stop());
  for (const [method, path, body] of ROUTES) {
    const open = await signedFetch(server.url, OPEN_KEYSET, method, path.replace(SUB, OPEN_KEYSET.subscribeKey), { body, unsigned: true });
    assert.equal(open.status, 400, `${method} ${path}`);
    assert.match(open.body.message, /needs a keyset with a secret key/);
  }
});

test("stats: this node's samples of the last 15 minutes, with publish rates and denials by reason", async (t) => {
  const { server, client, admin } = await harness(t, { store: 'memory', overrides: CONSOLE });
  const stranger = client('stranger');
  await admin.publish({ channel: 'room', message: { n: 1 } });
  const denied = await stranger.publish({ channel: 'room', message: 'x' }).catch((e: any) => e);
  assert.equal(denied.status.statusCode, 403);
  const stats = await waitFor(
    async () => {
      const { body } = await signedFetch(server.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`);
      const samples = body.data.nodes[0].samples as any[];
      return samples.some((s) => (s.denials.ACCESS_DENIED ?? 0) >= 1) && samples.some((s) => s.publishesPerSec > 0) ? body.data : undefined;
    },
    'a sample with the publish and the denial',
    10_000,
  );
  assert.equal(stats.nodes.length, 1);
  assert.equal(stats.nodes[0].self, true);
  assert.equal(stats.intervalMs, 1000);
  assert.equal(stats.windowMs, 900_000);
  const last = stats.nodes[0].samples.at(-1);
  assert.equal(last.ok, true);
  assert.ok(last.connections >= 1);
  assert.deepEqual(stats.keyset, { subscribeKey: SUB, publishKey: PAM_KEYSET.publishKey, previousSecretValidUntil: null });
});

test("token inspect: state and decoded grants, verified under the keyset's secret", async (t) => {
  const clock = createFakeClock(Date.now());
  const { server, admin } = await harness(t, { store: 'memory', clock, overrides: CONSOLE });
  // Out of the deny list epoch's second (tokens are never stamped in it: access-manager.ts untilAfterEpochSecond).
  clock.advance(1000);
  const token = await admin.grantToken({
    ttl: 5,
    authorized_uuid: 'carol',
    resources: { channels: { 'chat.lobby': { read: true, write: true } } },
    patterns: { channels: { '^team\\..*$': { read: true } } },
    meta: { role: 'mod' },
  });
  const inspect = async (t2: string) =>
    (await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/token/inspect`, { body: { token: t2 }, nowMs: clock.nowMs() })).body.data;
  const valid = await inspect(token);
  assert.equal(valid.state, 'valid');
  assert.equal(valid.verified, true);
  assert.equal(valid.signedWith, 'current');
  assert.equal(valid.token.authorizedUuid, 'carol');
  assert.equal(valid.token.ttlMinutes, 5);
  assert.deepEqual(valid.token.resources.channels['chat.lobby'], { bits: 3, permissions: ['read', 'write'] });
  assert.deepEqual(valid.token.patterns.channels['^team\\..*$'], { bits: 1, permissions: ['read'] });
  assert.deepEqual(valid.token.meta, { role: 'mod' });
  assert.match(valid.tokenId, /^[0-9a-f]{64}$/);

  // Signed by another secret: decoded, but marked unverified.
  const otherServer = await startServer({ store: 'memory', keysets: [{ ...PAM_KEYSET, secretKey: 'another-secret-0123456789abcdef0123' }] });
  t.after(() => otherServer.stop());
  const forged = (
    await signedFetch(otherServer.url, { ...PAM_KEYSET, secretKey: 'another-secret-0123456789abcdef0123' }, 'POST', `/v3/pam/${SUB}/grant`, {
      body: { ttl: 5, permissions: { resources: { channels: { x: 1 } } } },
    })
  ).body.data.token;
  const bad = await inspect(forged);
  assert.equal(bad.state, 'bad_signature');
  assert.equal(bad.verified, false);
  assert.deepEqual(bad.token.resources.channels.x.permissions, ['read']);
  assert.equal((await inspect('not a token at all')).state, 'malformed');

  await admin.revokeToken(token);
  assert.equal((await inspect(token)).state, 'revoked');
  const other = await admin.grantToken({ ttl: 1, resources: { channels: { a: { read: true } } } });
  clock.advance(60_000);
  assert.equal((await inspect(other)).state, 'expired');
  const missing = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/token/inspect`, { body: {}, nowMs: clock.nowMs() });
  assert.equal(missing.status, 400);
});

test('explain: the decision and which grant or token entry made it; bad input is a 400 naming it', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory', overrides: CONSOLE });
  const token = await admin.grantToken({ ttl: 5, authorized_uuid: 'carol', resources: { channels: { 'chat.lobby': { read: true, write: true } } } });
  await admin.grant({ channels: ['legacy'], authKeys: ['k1'], read: true, ttl: 5 });
  const explain = (body: unknown) => signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/explain`, { body });
  const allowed = (await explain({ operation: 'publish', channels: ['chat.lobby'], auth: token, uuid: 'carol' })).body.data;
  assert.deepEqual(allowed.decision, { allowed: true });
  assert.equal(allowed.credential, 'token');
  assert.deepEqual(allowed.checks, [
    { kind: 'channels', name: 'chat.lobby', permissions: ['write'], allowed: true, detail: 'token res["chat.lobby"] = read+write' },
  ]);
  const wrongUuid = (await explain({ operation: 'publish', channels: ['chat.lobby'], auth: token, uuid: 'dave' })).body.data;
  assert.equal(wrongUuid.decision.code, 'TOKEN_WRONG_UUID');
  const v2 = (await explain({ operation: 'subscribe', channels: ['legacy', 'legacy-pnpres'], auth: 'k1', uuid: 'x' })).body.data;
  assert.equal(v2.decision.code, 'ACCESS_DENIED');
  assert.deepEqual(
    v2.checks.map((c: any) => [c.name, c.allowed]),
    [
      ['legacy', true],
      ['legacy-pnpres', false],
    ],
  );
  const keysetLevel = (await explain({ operation: 'here_now_global', auth: 'k1' })).body.data;
  assert.equal(keysetLevel.checks[0].name, null);
  const adminOp = (await explain({ operation: 'grant' })).body.data;
  assert.equal(adminOp.decision.code, 'SIGNATURE_MISSING');

  for (const [body, message] of [
    [{ operation: 'nope' }, /unknown operation/],
    [{ operation: 'publish', groups: ['g'] }, /takes no groups/],
    [{ operation: 'publish', channels: 'a' }, /list of strings/],
    [{ operation: 'publish', channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }, /at most 100/],
    ['[1,2]', /JSON object/],
    ['{', /JSON object/],
  ] as const) {
    const res = await explain(body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 40));
    assert.match(res.body.message, message);
  }
});
