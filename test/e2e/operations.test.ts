import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { harness } from '../helpers/harness.ts';
import { OPEN_KEYSET, PAM_KEYSET, spawnServer } from '../helpers/start-server.ts';
import { makeClient, record } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

const metric = (text: string, name: string, labels = ''): number => {
  const line = text.split('\n').find((l) => l.startsWith(name + (labels ? `{${labels}}` : ' ')) || (labels && l.startsWith(`${name}{`) && l.includes(labels)));
  return line ? Number(line.split(' ').pop()) : 0;
};

test('/health and /metrics: connections, parked long-polls, publishes, deliveries, denials', async (t) => {
  const { server, client } = await harness(t, { store: 'memory' });
  const health = await (await fetch(`${server.url}/health`)).json();
  assert.equal(health.status, 'ok');

  const sub = client('watcher', { enableEventEngine: false }, OPEN_KEYSET);
  const seen = record(sub);
  sub.subscribe({ channels: ['m'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await waitFor(async () => metric(await (await fetch(`${server.url}/metrics`)).text(), 'parley_long_polls_parked') === 1, 'one parked poll');
  await client('pub', {}, OPEN_KEYSET).publish({ channel: 'm', message: { n: 1 } });
  await waitFor(() => seen.messages.length === 1, 'delivered');
  await assert.rejects(client('nobody').publish({ channel: 'secret', message: 'x' }));

  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /# TYPE parley_publishes_total counter/);
  assert.equal(metric(text, 'parley_publishes_total', 'kind="publish"'), 1);
  assert.ok(metric(text, 'parley_deliveries_total') >= 1);
  assert.equal(metric(text, 'parley_access_denials_total', 'code="ACCESS_DENIED"'), 1);
  assert.ok(metric(text, 'parley_connections') >= 1);
  assert.doesNotMatch(text, new RegExp(PAM_KEYSET.secretKey));
});

test("subscribe filter expressions (filter-expr) keep a client's own messages out", async (t) => {
  const { client } = await harness(t, { store: 'memory' }, OPEN_KEYSET);
  const me = client('me', { filterExpression: "uuid != 'me' && meta.priority >= 2" });
  const other = client('other');
  const seen = record(me);
  me.subscribe({ channels: ['f'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await me.publish({ channel: 'f', message: 'mine', meta: { priority: 5 } });
  await other.publish({ channel: 'f', message: 'low', meta: { priority: 1 } });
  await other.publish({ channel: 'f', message: 'high', meta: { priority: 3 } });
  await waitFor(() => seen.messages.length >= 1, 'the matching message');
  await other.publish({ channel: 'f', message: 'high again', meta: { priority: 2 } });
  await waitFor(() => seen.messages.length >= 2, 'the second matching message');
  assert.deepEqual(
    seen.messages.map((m) => m.message),
    ['high', 'high again'],
  );
});

test('the demo app server runs on its own (`npm run demo -- --parley URL`) and grants through the SDK', { timeout: 60_000 }, async (t) => {
  const keys = { PARLEY_PUBLISH_KEY: PAM_KEYSET.publishKey, PARLEY_SUBSCRIBE_KEY: PAM_KEYSET.subscribeKey, PARLEY_SECRET_KEY: PAM_KEYSET.secretKey };
  const parley = await spawnServer({ ...keys, PARLEY_STORE: 'memory' });
  // What `npm run demo` runs, started directly so SIGTERM reaches the process itself (npm may not forward it).
  const demo = spawn(process.execPath, ['--import', 'tsx', 'src/demo/standalone.ts', '--parley', parley.url, '--port', '0'], {
    env: { ...process.env, ...keys, PARLEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    demo.kill('SIGTERM');
    parley.child.kill('SIGTERM');
  });
  const demoUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    demo.stdout!.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/[\d.]+:\d+)\/demo\//.exec(out);
      if (m) resolve(m[1]);
    });
    demo.once('exit', (code) => reject(new Error(`demo exited with ${code}`)));
  });
  const page = await fetch(`${demoUrl}/demo/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /data-testid="login"/);
  const cfg = await (await fetch(`${demoUrl}/demo/api/config`)).json();
  assert.equal(cfg.parleyOrigin, parley.origin);
  assert.equal(cfg.secretKey, undefined);
  const { token } = await (await fetch(`${demoUrl}/demo/api/token`, { method: 'POST', body: JSON.stringify({ userId: 'ada' }) })).json();
  const ada = makeClient(parley.origin, PAM_KEYSET, 'ada');
  t.after(() => ada.destroy());
  await assert.rejects(ada.publish({ channel: cfg.channel, message: 'before' }));
  ada.setToken(token);
  await ada.publish({ channel: cfg.channel, message: 'with the demo token' });
  assert.equal((await fetch(`${demoUrl}/demo/api/token`, { method: 'POST', body: JSON.stringify({ userId: 'bad id!' }) })).status, 400);
});
