import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { encodeString } from '../../src/access/signature.ts';
import { makeClient, record, type Client } from '../helpers/clients.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';
import { signedFetch } from '../helpers/signed-fetch.ts';
import { PAM_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The operator console in headless Chromium against a real server, driven as an operator would, with
 * real SDK clients on the other side. Screenshots of each page go to test-artifacts/console/.
 */
const ARTIFACTS = 'test-artifacts/console';
const SUB = PAM_KEYSET.subscribeKey;
const CONSOLE = { console: { enabled: true, sampleIntervalSec: 1 } };

let browser: Browser;
let server: TestServer;
const clients: Client[] = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  server = await startServer({ store: 'memory', overrides: CONSOLE });
});

after(async () => {
  for (const c of clients) c.destroy();
  await browser?.close();
  await server?.stop();
});

function client(userId: string, extra: Record<string, unknown> = {}, on = server): Client {
  const c = makeClient(on.origin, PAM_KEYSET, userId, extra);
  clients.push(c);
  return c;
}

interface Console {
  page: Page;
  requests: Array<{ url: string; body: string }>;
  problems: string[];
}

async function openConsole(on = server): Promise<Console> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const requests: Console['requests'] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 4xx the console asked for shows up as a failed resource; CSP violations and script errors must not.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  await page.goto(`${on.url}/console/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, requests, problems };
}

async function signIn(page: Page, secretKey = PAM_KEYSET.secretKey): Promise<void> {
  await page.getByTestId('subscribe-key').fill(SUB);
  await page.getByTestId('publish-key').fill(PAM_KEYSET.publishKey);
  await page.getByTestId('secret-key').fill(secretKey);
  await page.getByTestId('sign-in').click();
}

async function signedIn(page: Page, secretKey = PAM_KEYSET.secretKey): Promise<void> {
  await signIn(page, secretKey);
  await page.waitForSelector('body[data-signed-in="true"]');
}

const text = (page: Page, testid: string): Promise<string> => page.getByTestId(testid).first().innerText();
const apiRequests = (c: Console) => c.requests.filter((r) => /\/(v1|v2|v3|publish)\//.test(new URL(r.url).pathname));

async function close(c: Console): Promise<void> {
  assert.deepEqual(c.problems, [], 'no script error or CSP violation in the page');
  await c.page.context().close();
}

test('a wrong secret gets a clear sign-in error and no data; the right one signs every request and is never sent or stored', async () => {
  const c = await openConsole();
  await signIn(c.page, 'not-the-secret-0123456789abcdef012345');
  await c.page.waitForFunction(() => /refused/i.test(document.querySelector('[data-testid=signin-error]')?.textContent ?? ''));
  const error = await text(c.page, 'signin-error');
  assert.match(error, /secret key \(or the publish key\) does not match this keyset/);
  assert.match(error, /403 SIGNATURE_MISMATCH/);
  assert.equal(await c.page.locator('#app').isHidden(), true, 'no console without a signature Parley accepts');
  assert.deepEqual(
    apiRequests(c).map((r) => new URL(r.url).pathname),
    [`/v1/admin/${SUB}/stats`],
    'one signed call, refused, and nothing else',
  );
  await c.page.screenshot({ path: `${ARTIFACTS}/signin-error.png` });

  // The console has no back door: its own calls without a signature are refused like anyone's.
  const unsigned = await c.page.evaluate(`fetch('/v1/admin/${SUB}/stats?uuid=parley-console').then((r) => r.json())`);
  assert.equal((unsigned as { code: string }).code, 'SIGNATURE_MISSING');
  const grant = await c.page.evaluate(
    `fetch('/v3/pam/${SUB}/grant?uuid=parley-console', { method: 'POST', body: '{"ttl":5,"permissions":{"resources":{"channels":{"x":1}}}}' }).then((r) => r.status)`,
  );
  assert.equal(grant, 403);

  c.requests.length = 0;
  await signedIn(c.page);
  await c.page.waitForSelector('[data-testid=node-card]');
  assert.equal(await c.page.getByTestId('secret-key').inputValue(), '', 'the field is cleared');
  const api = apiRequests(c);
  assert.ok(api.length >= 1);
  for (const r of api) assert.match(new URL(r.url).searchParams.get('signature') ?? '', /^v2\.[A-Za-z0-9_-]{43}$/, r.url);
  const secretForms = [PAM_KEYSET.secretKey, encodeURIComponent(PAM_KEYSET.secretKey), encodeString(PAM_KEYSET.secretKey)];
  for (const r of c.requests) for (const s of secretForms) assert.ok(!r.url.includes(s) && !r.body.includes(s), `the secret left the page: ${r.url}`);
  const storage = await c.page.evaluate('JSON.stringify([localStorage.length, sessionStorage.length, document.cookie])');
  assert.equal(storage, '[0,0,""]');
  await close(c);
});

test('overview: per-node health and live charts, with denials by reason', async () => {
  const stranger = client('stranger');
  await assert.rejects(stranger.publish({ channel: 'secret-room', message: 'x' }));
  const c = await openConsole();
  await signedIn(c.page);
  await c.page.waitForFunction(() => document.querySelectorAll('[data-testid=node-card] canvas').length >= 3);
  assert.equal(await text(c.page, 'node-health'), 'healthy');
  await waitFor(async () => Number(await text(c.page, 'fig-connections')) >= 1, 'connections counted');
  await c.page.waitForFunction(() => document.querySelector('[data-testid=node-card]')?.textContent?.includes('ACCESS_DENIED'), undefined, { timeout: 10_000 });
  assert.ok(Number(await text(c.page, 'fig-denials')) >= 1);
  await c.page.screenshot({ path: `${ARTIFACTS}/overview.png`, fullPage: true });
  await close(c);
});

test('channels: a live subscriber appears with its state; the tail shows what a client publishes; the console publishes as any uuid', async () => {
  const admin = client('admin', { secretKey: PAM_KEYSET.secretKey });
  const token = await admin.grantToken({
    ttl: 10,
    authorized_uuid: 'alice',
    resources: { channels: { 'room.1': { read: true, write: true }, 'room.1-pnpres': { read: true } } },
  } as any);
  const alice = client('alice');
  alice.setToken(token);
  const seen = record(alice);
  alice.subscribe({ channels: ['room.1'] });
  await waitFor(() => seen.statuses.some((s) => s.category === 'PNConnectedCategory'), 'alice connected');
  await alice.setState({ channels: ['room.1'], state: { mood: 'happy' } });

  const c = await openConsole();
  await signedIn(c.page);
  await c.page.getByTestId('tab-channels').click();
  const row = c.page.locator('[data-testid=channel-row][data-channel="room.1"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('channel-occupancy').innerText(), '1');
  await row.getByRole('button', { name: 'room.1' }).click();
  const present = c.page.locator('[data-testid=presence-uuid][data-uuid="alice"]');
  await present.waitFor();
  assert.match(await present.innerText(), /"mood":"happy"/);

  await c.page.getByTestId('tail-toggle').click();
  await c.page.waitForFunction(() => /Tailing/.test(document.querySelector('[data-testid=tail-status]')?.textContent ?? ''));
  await alice.publish({ channel: 'room.1', message: { text: 'hi from alice' } });
  const item = c.page.locator('[data-testid=tail-item]', { hasText: 'hi from alice' });
  await item.waitFor();
  assert.match(await item.innerText(), /alice/);

  await c.page.getByTestId('publish-uuid').fill('bot-7');
  await c.page.getByTestId('publish-message').fill('{"text":"from the console"}');
  await c.page.getByTestId('publish-send').click();
  await c.page.waitForFunction(() => /Published as bot-7/.test(document.querySelector('[data-testid=publish-status]')?.textContent ?? ''));
  const got = await waitFor(() => seen.messages.find((m) => m.message?.text === 'from the console'), "alice receives the console's message");
  assert.equal(got.publisher, 'bot-7');
  await c.page.locator('[data-testid=tail-item]', { hasText: 'from the console' }).waitFor();
  await c.page.locator('[data-testid=history-list] li', { hasText: 'from the console' }).waitFor();
  await c.page.screenshot({ path: `${ARTIFACTS}/channels.png`, fullPage: true });
  await c.page.getByTestId('tail-toggle').click();
  await close(c);
  alice.unsubscribeAll();
});

test('access: mint a token and see it decoded, inspect it, explain a decision, withdraw a v2 grant, revoke the token', async () => {
  const admin = client('admin', { secretKey: PAM_KEYSET.secretKey });
  await admin.grant({ channels: ['legacy'], authKeys: ['k1'], read: true, ttl: 30 });
  const c = await openConsole();
  await signedIn(c.page);
  await c.page.getByTestId('tab-access').click();

  await c.page.getByTestId('mint-uuid').fill('carol');
  await c.page.getByTestId('mint-meta').fill('{"role":"moderator"}');
  await c.page.getByTestId('mint-submit').click();
  await c.page.getByTestId('mint-decoded-state').waitFor();
  assert.equal(await text(c.page, 'mint-decoded-state'), 'valid');
  assert.equal(await text(c.page, 'mint-decoded-uuid'), 'carol');
  assert.equal(await c.page.locator('[data-testid=mint-decoded] [data-testid=grant-row]').count(), 2);
  const token = await c.page.getByTestId('mint-token').inputValue();
  const carol = client('carol');
  carol.setToken(token);
  assert.ok((await carol.publish({ channel: 'chat.lobby', message: 'minted in the console' })).timetoken);

  await c.page.getByTestId('inspect-submit').click();
  await c.page.getByTestId('inspect-result-state').waitFor();
  assert.equal(await text(c.page, 'inspect-result-state'), 'valid');

  await c.page.getByTestId('explain-channels').fill('chat.lobby');
  await c.page.getByTestId('explain-auth').fill(token);
  await c.page.getByTestId('explain-uuid').fill('carol');
  await c.page.getByTestId('explain-submit').click();
  await c.page.waitForFunction(() => document.querySelector('[data-testid=explain-decision]')?.textContent === 'ALLOW');
  await c.page.getByTestId('explain-uuid').fill('dave');
  await c.page.getByTestId('explain-submit').click();
  await c.page.waitForFunction(() => document.querySelector('[data-testid=explain-decision]')?.textContent === 'DENY TOKEN_WRONG_UUID');

  const legacy = c.page.locator('[data-testid=audit-row][data-resource="legacy"][data-auth="k1"]');
  await legacy.waitFor();
  await c.page.screenshot({ path: `${ARTIFACTS}/access.png`, fullPage: true });
  await legacy.getByTestId('withdraw').click();
  await legacy.waitFor({ state: 'detached' });
  const v2 = client('v2-user', { authKey: 'k1' });
  await assert.rejects(v2.fetchMessages({ channels: ['legacy'] }), (e: any) => e.status.statusCode === 403);

  await c.page.getByTestId('revoke-token').click();
  await c.page.waitForFunction(() => document.querySelector('[data-testid=inspect-result-state]')?.textContent === 'revoked');
  await assert.rejects(carol.publish({ channel: 'chat.lobby', message: 'after revoke' }), (e: any) => e.status.errorData.code === 'TOKEN_REVOKED');
  await close(c);
});

test("kick: the user's SDK client gets 403 and stops receiving, others see it leave, it is refused until granted again", async () => {
  const admin = client('admin', { secretKey: PAM_KEYSET.secretKey });
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
  const malloryGot = record(mallory);
  const watcherGot = record(watcher);
  watcher.subscribe({ channels: ['room.k'], withPresence: true });
  await waitFor(() => watcherGot.statuses.some((s) => s.category === 'PNConnectedCategory'), 'watcher connected');
  mallory.subscribe({ channels: ['room.k'] });
  await waitFor(() => watcherGot.presence.some((p) => p.action === 'join' && p.uuid === 'mallory'), 'mallory present');
  await waitFor(() => server.parley.services.hub.waitersOf(SUB, 'mallory').size === 1, 'mallory parked');

  const c = await openConsole();
  await signedIn(c.page);
  await c.page.getByTestId('tab-kick').click();
  await c.page.getByTestId('kick-uuid').fill('mallory');
  await c.page.getByTestId('kick-submit').click();
  await c.page.getByTestId('kick-ended').waitFor();
  assert.match(await text(c.page, 'kick-ended'), /^1 on this node/);
  assert.equal(await text(c.page, 'kick-left'), 'room.k');
  await c.page.screenshot({ path: `${ARTIFACTS}/kick.png`, fullPage: true });

  await waitFor(
    () => malloryGot.statuses.find((s) => s.error === 'PNAccessDeniedCategory' || s.category === 'PNAccessDeniedCategory'),
    "mallory's client gets 403",
  );
  await waitFor(() => watcherGot.presence.some((p) => p.action === 'leave' && p.uuid === 'mallory'), 'the watcher sees the leave');
  await admin.publish({ channel: 'room.k', message: 'after the kick' });
  await waitFor(() => watcherGot.messages.some((m) => m.message === 'after the kick'), 'the watcher still receives');
  assert.ok(!malloryGot.messages.some((m) => m.message === 'after the kick'), 'mallory stopped receiving');
  await assert.rejects(mallory.publish({ channel: 'room.k', message: 'x' }), (e: any) => e.status.errorData.code === 'UUID_KICKED');
  mallory.setToken(await grant('mallory'));
  assert.ok((await mallory.publish({ channel: 'room.k', message: 'granted again' })).timetoken);
  await close(c);
  watcher.unsubscribeAll();
});

test('secret rotation from the console: both keys work in the window, the old one is refused after it (fake clock)', async (t) => {
  const clock = createFakeClock(Date.now());
  const node = await startServer({ store: 'memory', clock, overrides: CONSOLE });
  t.after(() => node.stop());
  clock.advance(1000);
  const minted = await signedFetch(node.url, PAM_KEYSET, 'POST', `/v3/pam/${SUB}/grant`, {
    body: { ttl: 60, permissions: { resources: { channels: { room: 3 } } } },
    nowMs: clock.nowMs(),
  });
  const oldToken = minted.body.data.token as string;
  const erin = client('erin', {}, node);
  erin.setToken(oldToken);
  const audit = async (secretKey: string) =>
    (await signedFetch(node.url, PAM_KEYSET, 'GET', `/v2/auth/audit/sub-key/${SUB}`, { secretKey, nowMs: clock.nowMs() })).status;

  const c = await openConsole(node);
  await signedIn(c.page);
  await c.page.getByTestId('tab-keyset').click();
  assert.equal(await text(c.page, 'keyset-previous'), 'none in force');
  await c.page.getByTestId('rotate-generate').click();
  const newSecret = await c.page.getByTestId('rotate-secret').inputValue();
  assert.match(newSecret, /^sec-c-[A-Za-z0-9_-]{43}$/);
  await c.page.getByTestId('rotate-overlap').fill('10');
  await c.page.getByTestId('rotate-confirm').check();
  await c.page.getByTestId('rotate-submit').click();
  await c.page.waitForFunction(() => /^Rotated/.test(document.querySelector('[data-testid=rotate-status]')?.textContent ?? ''));
  await c.page.waitForFunction(() => /^accepted until/.test(document.querySelector('[data-testid=keyset-previous]')?.textContent ?? ''));
  await c.page.screenshot({ path: `${ARTIFACTS}/keyset.png`, fullPage: true });

  // In the window: both keys sign, old tokens still work, the console signs with the new key.
  assert.equal(await audit(PAM_KEYSET.secretKey), 200);
  assert.equal(await audit(newSecret), 200);
  assert.ok((await erin.publish({ channel: 'room', message: 'old token, in the window' })).timetoken);
  const consoleCalls = apiRequests(c).filter((r) => r.url.includes('/stats')).length;
  await c.page.getByTestId('tab-access').click();
  await c.page.getByTestId('inspect-token').fill(oldToken);
  await c.page.getByTestId('inspect-submit').click();
  await c.page.getByTestId('inspect-result-state').waitFor();
  assert.equal(await text(c.page, 'inspect-result-state'), 'valid');
  assert.match(await c.page.getByTestId('inspect-result').innerText(), /signed with the previous secret/);
  assert.ok(consoleCalls >= 2);

  // After the window: the old key and what it signed are refused; the console carries on with the new one.
  clock.advance(10 * 60_000);
  assert.equal(await audit(PAM_KEYSET.secretKey), 403);
  assert.equal(await audit(newSecret), 200);
  await assert.rejects(erin.publish({ channel: 'room', message: 'old token, after' }), (e: any) => e.status.errorData.code === 'TOKEN_BAD_SIGNATURE');
  await c.page.getByTestId('inspect-submit').click();
  await c.page.waitForFunction(() => document.querySelector('[data-testid=inspect-result-state]')?.textContent === 'bad signature');
  await c.page.getByTestId('tab-keyset').click();
  await c.page.waitForFunction(() => document.querySelector('[data-testid=keyset-previous]')?.textContent === 'none in force');
  await close(c);

  const late = await openConsole(node);
  await signIn(late.page);
  await late.page.waitForFunction(() => /SIGNATURE_MISMATCH/.test(document.querySelector('[data-testid=signin-error]')?.textContent ?? ''));
  await close(late);
  const fresh = await openConsole(node);
  await signedIn(fresh.page, newSecret);
  await close(fresh);
});
