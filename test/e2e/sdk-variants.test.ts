import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { startServer, OPEN_KEYSET, PAM_KEYSET } from '../helpers/start-server.ts';

/** Issue 10: what PubNub's other SDKs send (sdk-differences.md §2, §3) works against Parley. */

const { publishKey: PUB, subscribeKey: SUB } = OPEN_KEYSET;

async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function lastMessage(base: string, channel: string): Promise<any> {
  const { body } = await send(`${base}/v3/history/sub-key/${SUB}/channel/${channel}?max=1&include_meta=true`);
  return body.channels[channel]?.[0];
}

test('meta=null means no meta (Python send_file), on publish and publish-file', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const res = await send(`${server.url}/publish/${PUB}/${SUB}/0/py/0/%22hi%22?meta=null&store=1&uuid=py`);
  assert.equal(res.status, 200);
  assert.equal(res.body[1], 'Sent');
  const file = encodeURIComponent(JSON.stringify({ message: null, file: { id: 'f1', name: 'a.txt' } }));
  const res2 = await send(`${server.url}/v1/files/publish-file/${PUB}/${SUB}/0/py/0/${file}?meta=null&store=1&ttl=0&uuid=py`);
  assert.equal(res2.status, 200, JSON.stringify(res2.body));
  assert.equal((await lastMessage(server.url, 'py')).meta, '');
});

test('POST /v2/publish (Kotlin, C#) and POST /signal (Go) deliver like their GET forms', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const v2 = await send(`${server.url}/v2/publish/${PUB}/${SUB}/0/kt/0?uuid=kt`, {
    method: 'POST',
    body: '{"text":"large"}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(v2.status, 200);
  assert.equal((await lastMessage(server.url, 'kt')).message.text, 'large');
  const signal = await send(`${server.url}/signal/${PUB}/${SUB}/0/go/0?uuid=go`, { method: 'POST', body: '"typing"' });
  assert.equal(signal.status, 200);
  assert.equal(signal.body[1], 'Sent');
});

test('Content-Encoding is sniffed: zlib labelled gzip (Python), gzip labelled deflate (React Native), plain labelled deflate (web)', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const cases: Array<[string, Buffer]> = [
    ['gzip', deflateSync(Buffer.from('{"n":1}'))],
    ['deflate', gzipSync(Buffer.from('{"n":2}'))],
    ['deflate', Buffer.from('{"n":3}')],
    ['gzip', gzipSync(Buffer.from('{"n":4}'))],
  ];
  for (const [encoding, body] of cases) {
    const res = await send(`${server.url}/publish/${PUB}/${SUB}/0/enc/0?uuid=x`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-encoding': encoding },
    });
    assert.equal(res.status, 200, `${encoding}: ${JSON.stringify(res.body)}`);
  }
  const bad = await send(`${server.url}/publish/${PUB}/${SUB}/0/enc/0?uuid=x`, { method: 'POST', body: '{}', headers: { 'content-encoding': 'br' } });
  assert.equal(bad.status, 400);
});

test('a server publishing with its secret key in the v1 form (Python POST publish) is accepted', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const path = `/publish/${PAM_KEYSET.publishKey}/${PAM_KEYSET.subscribeKey}/0/secure/0`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const query = `pnsdk=PubNub-Python%2F10.0.0&timestamp=${timestamp}&uuid=py-server`;
  const sig = createHmac('sha256', PAM_KEYSET.secretKey)
    .update(`${PAM_KEYSET.subscribeKey}\n${PAM_KEYSET.publishKey}\n${path}\n${query}`)
    .digest('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
  const ok = await send(`${server.url}${path}?${query}&signature=${sig}`, { method: 'POST', body: '"from python"' });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const wrong = await send(`${server.url}${path}?${query}&signature=${sig.slice(1)}`, { method: 'POST', body: '"x"' });
  assert.equal(wrong.status, 403);
});
