import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { createParley } from '../../src/app.ts';
import { attachDemo } from '../../src/demo/attach.ts';
import { ACK_PREFIX, LOGIN_CHANNEL } from '../../src/demo/app-server.ts';
import { createMemoryStores } from '../../src/store/memory/index.ts';
import { demoHost, PAM_KEYSET, spawnMain } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** `src/main.ts` as `npm start` runs it; the URL and everything it printed so far. */
async function startMain(t: TestContext, env: Record<string, string>): Promise<{ url: string; output: () => string }> {
  const { url, stdout, stderr } = await spawnMain(t, env);
  return { url, output: () => stdout() + stderr() };
}

const KEYS = { PARLEY_PUBLISH_KEY: PAM_KEYSET.publishKey, PARLEY_SUBSCRIBE_KEY: PAM_KEYSET.subscribeKey, PARLEY_SECRET_KEY: PAM_KEYSET.secretKey };

test('with a configured keyset the demo is off by default: nobody gets a token from /demo/api/token', { timeout: 60_000 }, async (t) => {
  const { url, output } = await startMain(t, KEYS);
  const r = await fetch(`${url}/demo/api/token`, { method: 'POST', body: JSON.stringify({ userId: 'mallory' }) });
  assert.equal(r.status, 404, 'the demo app server must not hand out tokens on a real keyset');
  assert.equal((await fetch(`${url}/demo/`)).status, 404);
  assert.doesNotMatch(output(), /secure chat demo/);
});

test('without keysets (the demo keyset) the demo runs by default', { timeout: 60_000 }, async (t) => {
  const { url } = await startMain(t, {});
  await waitFor(async () => (await fetch(`${url}/demo/api/config`)).status === 200, 'demo config served');
  const r = await fetch(`${url}/demo/api/token`, { method: 'POST', body: JSON.stringify({ userId: 'ada' }) });
  assert.equal(r.status, 200);
});

test('demo.enabled=true on a configured keyset runs it and warns the operator', { timeout: 60_000 }, async (t) => {
  const { url, output } = await startMain(t, { ...KEYS, PARLEY_DEMO_ENABLED: 'true' });
  await waitFor(async () => (await fetch(`${url}/demo/api/config`)).status === 200, 'demo config served');
  await waitFor(() => /"level":40[^\n]*demo is enabled on a configured keyset/.test(output()), `the warning in: ${output()}`);
});

test('every grant the demo makes has a TTL (rendezvous and logins), and stopping it withdraws the rendezvous', { timeout: 60_000 }, async (t) => {
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      store: { kind: 'memory' },
      keysets: [PAM_KEYSET],
      logLevel: 'silent',
      demo: { enabled: true, grantTtlMinutes: 2 },
    },
  });
  const stores = createMemoryStores();
  const log = createLogger({ level: 'silent' });
  const parley = createParley({ config, log, stores });
  const demo = attachDemo(demoHost(parley, log));
  const { url, port } = await parley.start();
  t.after(() => parley.stop());
  await demo.start(url);
  let demoStopped = false;
  t.after(async () => {
    if (!demoStopped) await demo.stop();
  });

  // A v2 login, as the page makes it: a request on the login channel, acknowledged on the page's ack channel.
  const authKey = 'demo-auth-key-0123456789';
  const page = makeClient(`127.0.0.1:${port}`, PAM_KEYSET, 'page', { authKey });
  t.after(() => page.destroy());
  await page.publish({ channel: LOGIN_CHANNEL, message: { action: 'login', authKey, ackChannel: `${ACK_PREFIX}page` } });
  const now = () => Date.now();
  await waitFor(async () => (await stores.grants.list(PAM_KEYSET.subscribeKey, now())).some((g) => g.authKey === authKey), 'the login grant');
  await page.publish({ channel: config.demo.channel, message: 'hello' });

  const grants = await stores.grants.list(PAM_KEYSET.subscribeKey, now());
  assert.ok(
    grants.some((g) => g.resource === LOGIN_CHANNEL),
    'the rendezvous grant exists',
  );
  for (const g of grants) {
    assert.ok(g.ttlMinutes > 0 && g.expiresAtMs !== null, `a permanent demo grant: ${JSON.stringify(g)}`);
  }
  assert.equal(grants.find((g) => g.authKey === authKey)?.ttlMinutes, 2);

  await demo.stop();
  demoStopped = true;
  const left = await stores.grants.list(PAM_KEYSET.subscribeKey, now());
  assert.deepEqual(
    left.filter((g) => g.resource === LOGIN_CHANNEL || g.resource.startsWith(ACK_PREFIX)),
    [],
    'the rendezvous is withdrawn',
  );
});
