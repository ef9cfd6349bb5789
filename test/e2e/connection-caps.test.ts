import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startServer, OPEN_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { rawConnect, within } from '../helpers/raw-http.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * docs/security.md "Limits", connections and long-polls: per client address and in total, each
 * refusal a 429 naming its limits.* setting and counted in parley_cap_refusals_total. Clients come
 * from different loopback addresses (127.0.0.x), so per-address and total caps are told apart.
 */

const SUB = OPEN_KEYSET.subscribeKey;

async function server(t: TestContext, limits: Record<string, unknown>): Promise<TestServer> {
  const s = await startServer({ store: 'memory', overrides: { limits } });
  t.after(() => s.stop());
  return s;
}

const refusals = (s: TestServer, cap: string) => s.parley.services.metrics.value('parley_cap_refusals_total', { cap });

/** A subscribe long-poll over its own connection from `localAddress`; aborted by the test's end at the latest. */
function longPoll(t: TestContext, s: TestServer, options: { localAddress?: string; forwardedFor?: string; handshake?: boolean } = {}) {
  let abort!: () => void;
  const answer = new Promise<{ status: number; body: { code?: string; message?: string } }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        agent: false,
        localAddress: options.localAddress,
        path: `/v2/subscribe/${SUB}/ch/0?uuid=u&heartbeat=0${options.handshake ? '' : '&tt=1'}`,
        headers: options.forwardedFor === undefined ? {} : { 'X-Forwarded-For': options.forwardedFor },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end();
    abort = () => req.destroy();
  });
  answer.catch(() => {});
  t.after(() => abort());
  return { answer, abort };
}

test('connections past limits.maxConnectionsPerAddress or limits.maxConnections get one 429 at accept time and are closed', async (t) => {
  const s = await server(t, { maxConnections: 4, maxConnectionsPerAddress: 2 });
  const limits = s.parley.services.clientLimits;
  const a = await rawConnect(s.port);
  await rawConnect(s.port);
  await waitFor(() => limits.openConnections === 2, 'two connections from 127.0.0.1');

  const third = await rawConnect(s.port);
  const res = await within(third.response, 5000, '429 for the third connection from one address');
  assert.equal(res.status, 429);
  assert.equal(res.headers.connection, 'close');
  assert.equal(JSON.parse(res.body).code, 'TOO_MANY_REQUESTS');
  assert.match(JSON.parse(res.body).message, /limits\.maxConnectionsPerAddress/);
  await within(third.closed, 5000, 'refused connection closed');
  assert.equal(refusals(s, 'maxConnectionsPerAddress'), 1);
  // A real HTTP client over the cap reads that 429 as an answer.
  assert.equal((await fetch(`${s.url}/time/0`)).status, 429);

  await rawConnect(s.port, { localAddress: '127.0.0.2' });
  await rawConnect(s.port, { localAddress: '127.0.0.2' });
  await waitFor(() => limits.openConnections === 4, 'four connections in all');
  const fifth = await rawConnect(s.port, { localAddress: '127.0.0.3' });
  const full = await within(fifth.response, 5000, '429 when the node is full');
  assert.equal(full.status, 429);
  assert.match(JSON.parse(full.body).message, /limits\.maxConnections\b/);
  assert.equal(refusals(s, 'maxConnections'), 1);

  a.socket.destroy();
  await waitFor(() => limits.openConnections === 3, 'a connection closed');
  const again = await rawConnect(s.port);
  await again.write('GET /time/0 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await within(again.response, 5000, 'time over a new connection')).status, 200);
});

test('long-polls past limits.maxLongPollsPerAddress or limits.maxLongPolls are answered 429; a handshake holds none', async (t) => {
  const s = await server(t, { maxLongPolls: 3, maxLongPollsPerAddress: 2 });
  const limits = s.parley.services.clientLimits;
  const p1 = longPoll(t, s);
  longPoll(t, s);
  await waitFor(() => limits.openLongPolls === 2, 'two long-polls from 127.0.0.1');

  const p3 = await within(longPoll(t, s).answer, 5000, 'third long-poll from one address');
  assert.equal(p3.status, 429);
  assert.equal(p3.body.code, 'TOO_MANY_REQUESTS');
  assert.match(p3.body.message!, /limits\.maxLongPollsPerAddress/);
  assert.equal(refusals(s, 'maxLongPollsPerAddress'), 1);
  assert.equal((await longPoll(t, s, { handshake: true }).answer).status, 200, 'the handshake answers at once and holds no slot');

  longPoll(t, s, { localAddress: '127.0.0.2' });
  await waitFor(() => limits.openLongPolls === 3, 'a third long-poll, from 127.0.0.2');
  const p5 = await within(longPoll(t, s, { localAddress: '127.0.0.3' }).answer, 5000, 'a long-poll on a full node');
  assert.equal(p5.status, 429);
  assert.match(p5.body.message!, /limits\.maxLongPolls\b/);
  assert.equal(refusals(s, 'maxLongPolls'), 1);

  p1.abort();
  await waitFor(() => limits.openLongPolls === 2, 'the aborted long-poll gave its slot back');
  longPoll(t, s);
  await waitFor(() => limits.openLongPolls === 3, 'a new long-poll from 127.0.0.1 fits again');
});

test('with limits.trustProxy the last X-Forwarded-For hop is the client; without it the header is ignored', async (t) => {
  const proxied = await server(t, { trustProxy: true, maxLongPollsPerAddress: 1 });
  longPoll(t, proxied, { forwardedFor: '203.0.113.9, 10.0.0.1' });
  await waitFor(() => proxied.parley.services.clientLimits.openLongPolls === 1, 'first client parked');
  // Forging earlier hops does not help: the proxy appended 10.0.0.1 last.
  assert.equal((await longPoll(t, proxied, { forwardedFor: '10.0.0.7, 10.0.0.1' }).answer).status, 429);
  longPoll(t, proxied, { forwardedFor: '10.0.0.1, 10.0.0.2' });
  await waitFor(() => proxied.parley.services.clientLimits.openLongPolls === 2, 'another client (10.0.0.2) parked');

  const direct = await server(t, { maxLongPollsPerAddress: 1 });
  longPoll(t, direct, { forwardedFor: '10.0.0.1' });
  await waitFor(() => direct.parley.services.clientLimits.openLongPolls === 1, 'first long-poll parked');
  assert.equal((await longPoll(t, direct, { forwardedFor: '10.0.0.2' }).answer).status, 429, 'X-Forwarded-For is not trusted by default');
});
