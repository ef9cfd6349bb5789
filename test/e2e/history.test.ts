import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, spawnServer, tempDir, OPEN_KEYSET } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';

test('fetchMessages, history v2, message counts and delete', async (t) => {
  const server = await startServer();
  const c = makeClient(server.origin, OPEN_KEYSET, 'writer');
  t.after(async () => {
    c.destroy();
    await server.stop();
  });
  const tts: string[] = [];
  for (let i = 0; i < 5; i++) {
    tts.push((await c.publish({ channel: 'h1', message: { i }, meta: { n: i }, customMessageType: 'note-type' })).timetoken as string);
  }
  await c.publish({ channel: 'h2', message: 'other' });
  await c.publish({ channel: 'h1', message: 'not stored', storeInHistory: false });

  const f = await c.fetchMessages({ channels: ['h1'], count: 10, includeMeta: true, includeCustomMessageType: true });
  assert.deepEqual(
    f.channels.h1.map((m: any) => m.message),
    [0, 1, 2, 3, 4].map((i) => ({ i })),
  );
  assert.deepEqual(
    f.channels.h1.map((m: any) => m.timetoken),
    tts,
  );
  assert.equal(f.channels.h1[0].uuid, 'writer');
  assert.deepEqual(f.channels.h1[0].meta, { n: 0 });
  assert.equal(f.channels.h1[0].customMessageType, 'note-type');
  assert.equal(f.channels.h1[0].messageType, -1);

  // Paging backwards: start is exclusive.
  const page = await c.fetchMessages({ channels: ['h1'], count: 2, start: tts[3] });
  assert.deepEqual(
    page.channels.h1.map((m: any) => m.message.i),
    [1, 2],
  );
  const multi = await c.fetchMessages({ channels: ['h1', 'h2'] });
  assert.equal(multi.channels.h1.length, 5);
  assert.deepEqual(
    multi.channels.h2.map((m: any) => m.message),
    ['other'],
  );

  const h = await c.history({ channel: 'h1', count: 3, includeMeta: true, stringifiedTimeToken: true });
  assert.deepEqual(
    h.messages.map((m: any) => m.entry.i),
    [2, 3, 4],
  );
  assert.equal(h.messages[0].timetoken, tts[2]);
  assert.deepEqual(h.messages[2].meta, { n: 4 });
  const oldest = await c.history({ channel: 'h1', count: 2, reverse: true });
  assert.deepEqual(
    oldest.messages.map((m: any) => m.entry.i),
    [0, 1],
  );

  const counts = await c.messageCounts({ channels: ['h1', 'h2'], channelTimetokens: [tts[1]] });
  assert.deepEqual(counts.channels, { h1: 3, h2: 1 });

  await c.deleteMessages({ channel: 'h1', start: tts[0], end: tts[2] }); // (start, end]
  const after = await c.fetchMessages({ channels: ['h1'] });
  assert.deepEqual(
    after.channels.h1.map((m: any) => m.message.i),
    [0, 3, 4],
  );
  await c.deleteMessages({ channel: 'h1' });
  const none = await c.fetchMessages({ channels: ['h1'] });
  assert.equal(none.channels.h1, undefined);
});

test('acknowledged publishes survive a restart and kill -9', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PARLEY_DATA_DIR: dataDir, PARLEY_PUBLISH_KEY: OPEN_KEYSET.publishKey, PARLEY_SUBSCRIBE_KEY: OPEN_KEYSET.subscribeKey };

  // Graceful stop (SIGTERM).
  let node = await spawnServer(env);
  let c = makeClient(node.origin, OPEN_KEYSET, 'w');
  for (let i = 0; i < 10; i++) await c.publish({ channel: 'durable', message: { i } });
  c.destroy();
  node.child.kill('SIGTERM');
  assert.equal(await node.exited, 0);

  // kill -9 right after the last acknowledgement.
  node = await spawnServer(env);
  c = makeClient(node.origin, OPEN_KEYSET, 'w');
  const acked = await Promise.all(Array.from({ length: 50 }, (_, i) => c.publish({ channel: 'durable', message: { i: 10 + i } })));
  node.child.kill('SIGKILL');
  await node.exited;
  c.destroy();
  assert.equal(acked.length, 50);

  node = await spawnServer(env);
  c = makeClient(node.origin, OPEN_KEYSET, 'r');
  t.after(() => {
    c.destroy();
    node.child.kill('SIGKILL');
  });
  const got: number[] = [];
  let start: string | undefined;
  // Page backwards through everything (100 per page at most).
  for (;;) {
    const r = await c.fetchMessages({ channels: ['durable'], count: 25, start });
    const page = r.channels.durable ?? [];
    if (page.length === 0) break;
    got.unshift(...page.map((m: any) => m.message.i));
    start = page[0].timetoken as string;
  }
  assert.deepEqual(got, [...Array(60).keys()]);
});
