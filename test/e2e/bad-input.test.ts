import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';

const P = OPEN_KEYSET.publishKey;
const S = OPEN_KEYSET.subscribeKey;

async function get(url: string, init?: RequestInit): Promise<{ status: number; type: string; body: any }> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
}

test('bad input gets the protocol error shapes, never a crash', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const u = server.url;

  // Invalid JSON payload.
  let r = await get(`${u}/publish/${P}/${S}/0/ch/0/%7Bnot-json?uuid=u`);
  assert.equal(r.status, 400);
  assert.match(r.type, /javascript|json/);
  assert.deepEqual(r.body, [0, 'Invalid JSON in message', '0']);

  // Over-long channel.
  r = await get(`${u}/publish/${P}/${S}/0/${'c'.repeat(93)}/0/1?uuid=u`);
  assert.equal(r.status, 400);
  assert.equal(r.body[0], 0);
  assert.match(r.body[1], /longer than 92/);

  // Missing channel on subscribe (`,` alone and no groups).
  r = await get(`${u}/v2/subscribe/${S}/,/0?uuid=u`);
  assert.equal(r.status, 400);
  assert.equal(r.body.error, true);
  assert.equal(r.body.status, 400);

  // A publish over 32 KiB, GET and POST.
  const big = encodeURIComponent(JSON.stringify('x'.repeat(33_000)));
  r = await get(`${u}/publish/${P}/${S}/0/ch/0/${big}?uuid=u`);
  assert.equal(r.status, 413);
  assert.deepEqual(r.body, [0, 'Message Too Large', '0']);
  r = await get(`${u}/publish/${P}/${S}/0/ch/0?uuid=u`, {
    method: 'POST',
    body: JSON.stringify('y'.repeat(40_000)),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 413);
  // Far over every limit: still a JSON answer.
  r = await get(`${u}/publish/${P}/${S}/0/ch/0/${'%22' + 'z'.repeat(120_000) + '%22'}?uuid=u`);
  assert.ok(r.status === 413 || r.status === 414);
  assert.ok(r.body);

  // Unknown keyset.
  r = await get(`${u}/publish/nope/nope/0/ch/0/1?uuid=u`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, [0, 'Invalid Subscribe Key', '0']);
  r = await get(`${u}/v2/subscribe/nope/ch/0?uuid=u`);
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'Invalid Subscribe Key');

  // Bad timetoken.
  r = await get(`${u}/v2/subscribe/${S}/ch/0?tt=12ab&uuid=u`);
  assert.equal(r.status, 400);
  assert.match(r.body.message, /timetoken/);
  r = await get(`${u}/v3/history/sub-key/${S}/channel/ch?start=-1&uuid=u`);
  assert.equal(r.status, 400);
  assert.equal(r.body.error, true);
  assert.deepEqual(r.body.channels, {});

  // Bad percent-encoding, unknown route, presence-channel publish, bad filter.
  r = await get(`${u}/publish/${P}/${S}/0/ch/0/%E0%A4%A?uuid=u`);
  assert.equal(r.status, 400);
  r = await get(`${u}/v9/nothing`);
  assert.equal(r.status, 404);
  r = await get(`${u}/publish/${P}/${S}/0/ch-pnpres/0/1?uuid=u`);
  assert.equal(r.status, 400);
  r = await get(`${u}/v2/subscribe/${S}/ch/0?tt=0&filter-expr=${encodeURIComponent('uuid == ')}&uuid=u`);
  assert.equal(r.status, 400);

  // Still alive and well.
  r = await get(`${u}/time/0`);
  assert.equal(r.status, 200);
  assert.match(String(r.body[0]), /^\d{17}$/);
});

test('the SDK reports bad input as errors of the right category', async (t) => {
  const server = await startServer({ store: 'memory' });
  const c = makeClient(server.origin, { ...OPEN_KEYSET, subscribeKey: 'unknown-sub' }, 'u');
  t.after(async () => {
    c.destroy();
    await server.stop();
  });
  await assert.rejects(c.publish({ channel: 'ch', message: 'x' }), (err: any) => {
    assert.equal(err.status.category, 'PNBadRequestCategory');
    assert.equal(err.status.statusCode, 400);
    return true;
  });
});
