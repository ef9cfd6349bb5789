import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { rawConnect } from '../helpers/raw-http.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { MAX_RELATIONS_PER_PATCH, MAX_SORT_KEYS } from '../../src/protocol/routes/objects.ts';
import { MAX_ACTIONS_PER_MESSAGE } from '../../src/realtime/message-actions.ts';
import { MAX_STATE_COPY_BYTES } from '../../src/protocol/routes/presence.ts';

/** docs/security.md "Limits": what one request can make a node do, beyond channels and bodies. */

const SUB = OPEN_KEYSET.subscribeKey;

async function server(t: TestContext, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startServer({ store: 'memory', overrides });
  t.after(() => s.stop());
  return s;
}

async function call(s: TestServer, path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, text };
}

test('App Context: a memberships PATCH over MAX_RELATIONS_PER_PATCH entries and a list sorted by too many keys are 400s', async (t) => {
  const s = await server(t);
  const patch = (n: number) =>
    call(s, `/v2/objects/${SUB}/uuids/u1/channels?uuid=u1`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ set: Array.from({ length: n }, (_, i) => ({ channel: { id: `c${i}` } })) }),
    });
  assert.equal((await patch(MAX_RELATIONS_PER_PATCH)).status, 200);
  const over = await patch(MAX_RELATIONS_PER_PATCH + 1);
  assert.equal(over.status, 400);
  assert.match(over.text, /at most 100 set and delete entries/);
  const sort = Array.from({ length: MAX_SORT_KEYS + 1 }, () => 'name').join(',');
  const sorted = await call(s, `/v2/objects/${SUB}/uuids?uuid=u1&sort=${sort}`);
  assert.equal(sorted.status, 400);
  assert.match(sorted.text, /sort: at most 10 keys/);
});

test('message actions: a message carries at most MAX_ACTIONS_PER_MESSAGE actions', async (t) => {
  const s = await server(t);
  const published = await call(s, `/publish/${OPEN_KEYSET.publishKey}/${SUB}/0/ch/0/%22hi%22?uuid=u`);
  const tt = BigInt(JSON.parse(published.text)[2]);
  const actions = s.parley.services.messageActions;
  for (let i = 0; i < MAX_ACTIONS_PER_MESSAGE; i++) {
    await actions.add({ subscribeKey: SUB, channel: 'ch', messageTimetoken: tt, type: 'reaction', value: `v${i}`, uuid: 'u' });
  }
  const add = await call(s, `/v1/message-actions/${SUB}/channel/ch/message/${tt}?uuid=u`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'reaction', value: 'one-more' }),
  });
  assert.equal(add.status, 400);
  assert.match(add.text, /already has 1000 actions/);
});

test('here-now lists occupants a page at a time, and global here-now reaches at most limits.maxChannelsPerSubscription channels', async (t) => {
  const s = await server(t, { limits: { maxChannelsPerSubscription: 2 } });
  for (const uuid of ['a', 'b', 'c']) {
    assert.equal((await call(s, `/v2/presence/sub-key/${SUB}/channel/x/heartbeat?uuid=${uuid}&state=${encodeURIComponent('{"x":{"n":1}}')}`)).status, 200);
  }
  const paged = JSON.parse((await call(s, `/v2/presence/sub-key/${SUB}/channel/x?uuid=q&state=1&limit=2&offset=1`)).text);
  assert.equal(paged.occupancy, 3);
  assert.equal(paged.uuids.length, 2);
  assert.deepEqual(
    paged.uuids.map((u: { state: unknown }) => u.state),
    [{ n: 1 }, { n: 1 }],
  );

  await call(s, `/v2/presence/sub-key/${SUB}/channel/y,z/heartbeat?uuid=a`);
  const global = await call(s, `/v2/presence/sub-key/${SUB}?uuid=q`);
  assert.equal(global.status, 400);
  assert.match(global.text, /limits\.maxChannelsPerSubscription/);
});

test('set-state stores at most MAX_STATE_COPY_BYTES per request: its state times the channels its groups reach', async (t) => {
  const s = await server(t);
  for (const g of ['g1', 'g2']) {
    const channels = Array.from({ length: 2000 }, (_, i) => `${g}-m${i}`);
    assert.equal((await call(s, `/v1/channel-registration/sub-key/${SUB}/channel-group/${g}?uuid=admin&add=${channels.join(',')}`)).status, 200);
  }
  const setState = (bytes: number) =>
    call(
      s,
      `/v2/presence/sub-key/${SUB}/channel/,/uuid/u1/data?uuid=u1&channel-group=g1,g2&state=${encodeURIComponent(JSON.stringify({ pad: 'x'.repeat(bytes) }))}`,
    );
  // 4,000 channels: 250 bytes of state are 1,000,000 bytes in all, 300 are 1,200,000.
  const fits = await setState(240);
  assert.equal(fits.status, 200, fits.text);
  const over = await setState(300);
  assert.equal(over.status, 400);
  assert.match(over.text, new RegExp(`state on 4000 channels; at most ${MAX_STATE_COPY_BYTES} bytes in all per request`));
  const state = JSON.parse((await call(s, `/v2/presence/sub-key/${SUB}/channel/g2-m7/uuid/u1?uuid=u1`)).text).payload;
  assert.equal(state.pad.length, 240, 'the refused request changed nothing');
});

test('a download whose reader stops reading is dropped after limits.bodyIdleTimeoutMs', async (t) => {
  const size = 32 * 1024 * 1024;
  const s = await server(t, { files: { maxFileBytes: size }, limits: { bodyIdleTimeoutMs: 200 } });
  const ticket = JSON.parse((await call(s, `/v1/files/${SUB}/channels/dl/generate-upload-url?uuid=u`, { method: 'POST', body: '{"name":"big.bin"}' })).text);
  const form = new FormData();
  for (const f of ticket.file_upload_request.form_fields) form.append(f.key, f.value);
  form.append('file', new Blob([new Uint8Array(size)]), 'big.bin');
  assert.equal((await fetch(ticket.file_upload_request.url, { method: 'POST', body: form })).status, 204);

  // The download answers 307 to the storage URL; the stalled reader is the one of that URL.
  const redirect = await fetch(`${s.url}/v1/files/${SUB}/channels/dl/files/${ticket.data.id}/big.bin?uuid=u`, { redirect: 'manual' });
  assert.equal(redirect.status, 307);
  const storage = new URL(redirect.headers.get('location') ?? '');
  const limits = s.parley.services.clientLimits;
  const conn = await rawConnect(s.port, { localAddress: '127.0.0.9' });
  conn.socket.pause();
  await conn.write(`GET ${storage.pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await waitFor(() => limits.openConnectionsOf('127.0.0.9') === 1, 'the download connection counted');
  // The reader never reads: once the socket buffers are full nothing goes out, and the server drops it.
  await waitFor(() => limits.openConnectionsOf('127.0.0.9') === 0, 'the stalled download dropped', 10_000);
  conn.socket.destroy();
});

for (const engine of ['memory', 'redis'] as const) {
  test(`limits.maxChannelsPerGroup holds against concurrent adds (${engine}): the cap is checked in the same step as the add`, async (t) => {
    const prefix = uniqueRedisPrefix();
    const s = await server(t, {
      limits: { maxChannelsPerGroup: 40 },
      ...(engine === 'redis' ? { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix } } : {}),
    });
    if (engine === 'redis') {
      const admin = adminClient();
      t.after(async () => {
        await s.stop(); // first: a running node may still write under the prefix
        await deleteKeysWithPrefix(admin, prefix);
        await admin.quit();
      });
    }
    // Ten adds, each alone within the cap, on ten connections, their requests written together so the
    // server reads them in one turn and they overlap: exactly one fits.
    const connections = await Promise.all(Array.from({ length: 10 }, () => rawConnect(s.port)));
    t.after(() => {
      for (const c of connections) c.socket.destroy();
    });
    const request = (from: number) =>
      `GET /v1/channel-registration/sub-key/${SUB}/channel-group/g?uuid=admin&add=${Array.from({ length: 30 }, (_, i) => `c${from + i}`).join(',')} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    await Promise.all(connections.map((c, i) => c.write(request(100 * i))));
    const answers = await Promise.all(connections.map((c) => c.response));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(9).fill(400)]);
    for (const a of answers.filter((a) => a.status === 400)) assert.match(a.body, /a channel group holds at most 40 channels/);
    const listed = JSON.parse((await call(s, `/v1/channel-registration/sub-key/${SUB}/channel-group/g?uuid=admin`)).text);
    assert.equal(listed.payload.channels.length, 30);
  });
}
