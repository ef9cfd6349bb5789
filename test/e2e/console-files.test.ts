import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consolePaths, consolePolicy } from '../../src/console/serve.ts';
import { startServer } from '../helpers/start-server.ts';

test('console.enabled: auto serves the console only on the demo keyset; true and false as said', () => {
  assert.deepEqual(consolePolicy({ console: { enabled: 'auto', sampleIntervalSec: 5 }, keysets: [] }), { enabled: true });
  const keysets = [{ publishKey: 'p', subscribeKey: 's', secretKey: 'x' }];
  assert.deepEqual(consolePolicy({ console: { enabled: 'auto', sampleIntervalSec: 5 }, keysets }), { enabled: false });
  assert.deepEqual(consolePolicy({ console: { enabled: true, sampleIntervalSec: 5 }, keysets }), { enabled: true });
  assert.deepEqual(consolePolicy({ console: { enabled: false, sampleIntervalSec: 5 }, keysets: [] }), { enabled: false });
});

test('with configured keysets and the default, there is no console; the demo keyset has one', async (t) => {
  const configured = await startServer({ store: 'memory' });
  t.after(() => configured.stop());
  assert.equal((await fetch(`${configured.url}/console/`)).status, 404);
  const demo = await startServer({ store: 'memory', keysets: [], overrides: { keysets: [] } });
  t.after(() => demo.stop());
  assert.equal((await fetch(`${demo.url}/console/`)).status, 200);
});

test('only the listed files are served, with a policy that keeps the page to its own scripts and its own origin', async (t) => {
  const server = await startServer({ store: 'memory', overrides: { console: { enabled: true } } });
  t.after(() => server.stop());
  for (const path of consolePaths()) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.ok((await res.arrayBuffer()).byteLength > 0, path);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  }
  const page = await fetch(`${server.url}/console/`);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/console/');
  const head = await fetch(`${server.url}/console/app.js`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  for (const path of [
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/sign.d.ts',
    '/console/public/app.js',
    '/console/vendor/uPlot.cjs.js',
    '/console/serve.ts',
    '/console/nope.js',
  ]) {
    assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
  }
  assert.equal((await fetch(`${server.url}/console/`, { method: 'POST' })).status, 404);
});
