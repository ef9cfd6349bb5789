import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTokenSignature, tokenBytes } from '../../src/access/token/verify.ts';
import type { Keyset } from '../../src/keyset.ts';
import { record } from '../helpers/clients.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';
import { harness } from '../helpers/harness.ts';
import { signedFetch } from '../helpers/signed-fetch.ts';
import { OPEN_KEYSET, PAM_KEYSET, startServer, tempDir } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SUB = PAM_KEYSET.subscribeKey;
const PUB = PAM_KEYSET.publishKey;
const CONSOLE = { console: { enabled: true, sampleIntervalSec: 1 } };

/** A raw publish with a token, as a client would send it; resolves with status and body. */
async function publishWith(url: string, token: string, uuid: string, channel = 'room'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/publish/${PUB}/${SUB}/0/${channel}/0/%22hi%22?uuid=${uuid}&auth=${encodeURIComponent(token)}`);
  return { status: res.status, body: await res.json() };
}

test('kick: the SDK client is answered 403 and stops receiving, others see it leave, and it is refused until granted again', async (t) => {
  const { server, client, admin } = await harness(t, { store: 'memory', overrides: CONSOLE });
  const grant = (uuid: string) =>
    admin.grantToken({
      ttl: 10,
      authorized_uuid: uuid,
      resources: { channels: { 'room.k': { read: true, write: true }, 'room.k-pnpres': { read: true } } },
    } as any);
  const mallory = client('mallory');
  mallory.setToken(await grant('mallory'));
  const watcher = client('watcher');
  watcher.setToken(await grant('watcher'));
  const seenByMallory = record(mallory);
  const seenByWatcher = record(watcher);
  watcher.subscribe({ channels: ['room.k'], withPresence: true });
  await waitFor(() => seenByWatcher.statuses.some((s) => s.category === 'PNConnectedCategory'), 'the watcher connected');
  mallory.subscribe({ channels: ['room.k'] });
  await waitFor(() => seenByWatcher.presence.some((p) => p.action === 'join' && p.uuid === 'mallory'), 'mallory joins');
  await admin.publish({ channel: 'room.k', message: 'before' });
  await waitFor(() => seenByMallory.messages.some((m) => m.message === 'before'), 'mallory receives before the kick');
  await waitFor(() => server.parley.services.hub.waitersOf(SUB, 'mallory').size === 1, 'mallory parked');

  const kicked = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'mallory' } });
  assert.equal(kicked.status, 200, JSON.stringify(kicked.body));
  assert.equal(kicked.body.data.endedLongPolls, 1);
  assert.equal(kicked.body.data.stillParked, 0);
  assert.deepEqual(kicked.body.data.left, ['room.k']);
  assert.equal(kicked.body.data.withdrawnGrants, 0);
  await waitFor(
    () => seenByMallory.statuses.find((s) => s.error === 'PNAccessDeniedCategory' || s.category === 'PNAccessDeniedCategory'),
    `mallory is told 403 (${JSON.stringify(seenByMallory.statuses.map((s) => [s.category, s.error, s.statusCode]))})`,
  );
  await waitFor(() => seenByWatcher.presence.some((p) => p.action === 'leave' && p.uuid === 'mallory'), 'the watcher sees mallory leave');

  await admin.publish({ channel: 'room.k', message: 'after' });
  await waitFor(() => seenByWatcher.messages.some((m) => m.message === 'after'), 'the watcher receives after the kick');
  assert.deepEqual(
    seenByMallory.messages.map((m) => m.message),
    ['before'],
    'mallory receives nothing after the kick',
  );
  const refused = await mallory.publish({ channel: 'room.k', message: 'x' }).catch((e: any) => e);
  assert.equal(refused.status.statusCode, 403);
  assert.equal(refused.status.errorData.code, 'UUID_KICKED');
  const here = await admin.hereNow({ channels: ['room.k'] });
  assert.deepEqual(
    here.channels['room.k'].occupants.map((o: any) => o.uuid),
    ['watcher'],
  );

  // Granted again: a token issued after the kick works.
  mallory.setToken(await grant('mallory'));
  const back = await mallory.publish({ channel: 'room.k', message: 'back' });
  assert.ok(back.timetoken);
});

test("kick with auth keys: the v2 client's grants are withdrawn and its parked poll ends with 403", async (t) => {
  const { server, client, admin } = await harness(t, { store: 'memory', overrides: CONSOLE });
  await admin.grant({ channels: ['room.v2'], authKeys: ['k-bob'], read: true, write: true, ttl: 10 });
  const bob = client('bob', { authKey: 'k-bob' });
  const seen = record(bob);
  bob.subscribe({ channels: ['room.v2'] });
  await waitFor(() => server.parley.services.hub.waitersOf(SUB, 'bob').size === 1, 'bob parked');
  const kicked = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'bob', tokens: false, authKeys: ['k-bob'] } });
  assert.equal(kicked.status, 200);
  assert.equal(kicked.body.data.kickedAt, null);
  assert.equal(kicked.body.data.withdrawnGrants, 1);
  assert.equal(kicked.body.data.endedLongPolls, 1);
  await waitFor(() => seen.statuses.find((s) => s.error === 'PNAccessDeniedCategory' || s.category === 'PNAccessDeniedCategory'), 'bob is told 403');
  const refused = await bob.publish({ channel: 'room.v2', message: 'x' }).catch((e: any) => e);
  assert.equal(refused.status.errorData.code, 'ACCESS_DENIED');
  await admin.grant({ channels: ['room.v2'], authKeys: ['k-bob'], write: true, ttl: 10 });
  assert.ok((await bob.publish({ channel: 'room.v2', message: 'back' })).timetoken);

  const bad = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'bob', tokens: 'yes' } });
  assert.equal(bad.status, 400);
  const nothing = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'bob', tokens: false } });
  assert.equal(nothing.status, 400);
  assert.match(nothing.body.message, /nothing to cut off/);
});

test("secret rotation: both keys sign and both keys' tokens verify in the window; after it the old key and its tokens are refused, parked polls included", async (t) => {
  const clock = createFakeClock(Date.now());
  const server = await startServer({ store: 'memory', clock, overrides: CONSOLE });
  t.after(() => server.stop());
  clock.advance(1000);
  const at = () => clock.nowMs();
  const mint = async (keys: Pick<Keyset, 'publishKey' | 'secretKey'>) => {
    const res = await signedFetch(server.url, keys, 'POST', `/v3/pam/${SUB}/grant`, {
      body: { ttl: 60, permissions: { resources: { channels: { room: 3 } } } },
      nowMs: at(),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.token as string;
  };
  const audit = async (secretKey: string) =>
    (await signedFetch(server.url, PAM_KEYSET, 'GET', `/v2/auth/audit/sub-key/${SUB}`, { secretKey, nowMs: at() })).body;
  const oldToken = await mint(PAM_KEYSET);

  const rotated = await signedFetch(server.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/secret/rotate`, { body: { overlapMinutes: 10 }, nowMs: at() });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const newSecret: string = rotated.body.data.secretKey;
  assert.match(newSecret, /^sec-c-[A-Za-z0-9_-]{43}$/);
  assert.equal(rotated.body.data.previousSecretValidUntil, new Date(at() + 600_000).toISOString());
  const newKeys = { ...PAM_KEYSET, secretKey: newSecret };

  assert.equal((await audit(PAM_KEYSET.secretKey)).status, 200, 'the old key still signs');
  assert.equal((await audit(newSecret)).status, 200);
  const newToken = await mint(PAM_KEYSET);
  const bytes = tokenBytes(newToken) as Buffer;
  assert.equal(checkTokenSignature(bytes, newSecret), 'ok', 'new tokens are signed with the new key, whoever asks');
  assert.equal(checkTokenSignature(bytes, PAM_KEYSET.secretKey), 'bad');
  assert.equal((await publishWith(server.url, oldToken, 'erin')).status, 200, 'an old token still works');
  const stats = await signedFetch(server.url, newKeys, 'GET', `/v1/admin/${SUB}/stats`, { nowMs: at() });
  assert.equal(stats.body.data.keyset.previousSecretValidUntil, new Date(at() + 600_000).toISOString());

  // A long-poll parked with the old token.
  const handshake = await (await fetch(`${server.url}/v2/subscribe/${SUB}/room/0?uuid=erin&auth=${encodeURIComponent(oldToken)}`)).json();
  const parked = fetch(`${server.url}/v2/subscribe/${SUB}/room/0?uuid=erin&tt=${handshake.t.t}&auth=${encodeURIComponent(oldToken)}`);
  await waitFor(() => server.parley.services.hub.waitersOf(SUB, 'erin').size === 1, 'the old-token poll is parked');

  clock.advance(600_000);
  const oldRefused = await audit(PAM_KEYSET.secretKey);
  assert.equal(oldRefused.code, 'SIGNATURE_MISMATCH');
  assert.equal((await audit(newSecret)).status, 200);
  const refusedToken = await publishWith(server.url, oldToken, 'erin');
  assert.equal(refusedToken.status, 403);
  assert.equal(refusedToken.body.code, 'TOKEN_BAD_SIGNATURE');
  assert.equal((await publishWith(server.url, newToken, 'erin')).status, 200);
  const ended = await parked;
  assert.equal(ended.status, 403, 'the parked poll is answered once the window has ended');
  assert.equal((await ended.json()).code, 'TOKEN_BAD_SIGNATURE');
  const after = await signedFetch(server.url, newKeys, 'GET', `/v1/admin/${SUB}/stats`, { nowMs: at() });
  assert.equal(after.body.data.keyset.previousSecretValidUntil, null);
});

test('a runtime rotation and a kick are kept in the store: a node restarted with the old config honours both', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServer({ dataDir, overrides: CONSOLE });
  const minted = await signedFetch(first.url, PAM_KEYSET, 'POST', `/v3/pam/${SUB}/grant`, {
    body: { ttl: 60, permissions: { uuid: 'mallory', resources: { channels: { room: 3 } } } },
  });
  const malloryToken = minted.body.data.token as string;
  const rotated = await signedFetch(first.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/secret/rotate`, { body: { overlapMinutes: 30 } });
  const newSecret = rotated.body.data.secretKey as string;
  assert.equal((await signedFetch(first.url, PAM_KEYSET, 'POST', `/v1/admin/${SUB}/kick`, { body: { uuid: 'mallory' }, secretKey: newSecret })).status, 200);
  await first.stop();

  const second = await startServer({ dataDir, overrides: CONSOLE });
  t.after(() => second.stop());
  assert.equal((await signedFetch(second.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`, { secretKey: newSecret })).status, 200);
  assert.equal((await signedFetch(second.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`)).status, 200, 'the old key, within its window');
  const token = (
    await signedFetch(second.url, PAM_KEYSET, 'POST', `/v3/pam/${SUB}/grant`, { body: { ttl: 5, permissions: { resources: { channels: { x: 1 } } } } })
  ).body.data.token;
  assert.equal(checkTokenSignature(tokenBytes(token) as Buffer, newSecret), 'ok');
  const kicked = await publishWith(second.url, malloryToken, 'mallory');
  assert.equal(kicked.body.code, 'UUID_KICKED');
});

test('config rotation: keysets[].previousSecretKey is accepted until previousSecretValidUntil, then refused', async (t) => {
  const clock = createFakeClock(Date.now());
  const OLD = 'old-config-secret-0123456789abcdef01';
  const keyset = { ...PAM_KEYSET, previousSecretKey: OLD, previousSecretValidUntil: new Date(clock.nowMs() + 60_000).toISOString() };
  const server = await startServer({ store: 'memory', clock, keysets: [OPEN_KEYSET, keyset as Keyset] });
  t.after(() => server.stop());
  const audit = async (secretKey: string) =>
    (await signedFetch(server.url, PAM_KEYSET, 'GET', `/v2/auth/audit/sub-key/${SUB}`, { secretKey, nowMs: clock.nowMs() })).status;
  assert.equal(await audit(OLD), 200);
  assert.equal(await audit(PAM_KEYSET.secretKey), 200);
  clock.advance(60_000);
  assert.equal(await audit(OLD), 403);
  assert.equal(await audit(PAM_KEYSET.secretKey), 200);
});

test('parley secret rotate: the CLI makes the same signed call and prints the new secret once', async (t) => {
  const server = await startServer({ store: 'memory', overrides: CONSOLE });
  t.after(() => server.stop());
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'parley.json');
  writeFileSync(config, JSON.stringify({ keysets: [PAM_KEYSET] }));
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/parley.js', ...args], { env: { ...process.env, PARLEY_CONFIG: config }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.once('exit', (code) => resolve({ code, out, err }));
    });
  const r = await run(['secret', 'rotate', '--url', server.url, '--subscribe-key', SUB, '--overlap-minutes', '5']);
  assert.equal(r.code, 0, r.err);
  const secret = /new secret\s+(\S+)/.exec(r.out)?.[1] as string;
  assert.match(secret, /^sec-c-/);
  assert.match(r.out, /old secret\s+accepted until \d{4}-/);
  assert.equal((await signedFetch(server.url, PAM_KEYSET, 'GET', `/v1/admin/${SUB}/stats`, { secretKey: secret })).status, 200);
  // Signed with a secret the server does not accept: refused, exit 1, and the secret chosen is not installed.
  const refused = await run(['secret', 'rotate', '--url', server.url, '--current-secret-key', 'wrong-secret-0123456789abcdef0123456']);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /rotation refused: 403 SIGNATURE_MISMATCH/);
  const unreachable = await run(['secret', 'rotate', '--url', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 69);

  // `config print` hides the previous secret as it hides the current one.
  const OLD = 'old-config-secret-0123456789abcdef01';
  writeFileSync(config, JSON.stringify({ keysets: [{ ...PAM_KEYSET, previousSecretKey: OLD, previousSecretValidUntil: '2030-01-01T00:00:00Z' }] }));
  const printed = await run(['config', 'print']);
  assert.equal(printed.code, 0, printed.err);
  assert.match(printed.out, /"previousSecretKey": "\[redacted\]"/);
  assert.ok(!printed.out.includes(OLD) && !printed.out.includes(PAM_KEYSET.secretKey));
});
