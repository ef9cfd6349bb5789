import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, OPEN_KEYSET, PAM_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { makeClient, record, type Client } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { harness } from '../helpers/harness.ts';
import type { Keyset } from '../../src/keyset.ts';

/** A server plus SDK clients (keyset before options, open keyset by default), all torn down after the test. */
async function setup(t: TestContext, store: 'memory' | 'sqlite' = 'sqlite') {
  const { server, client } = await harness(t, { store }, OPEN_KEYSET);
  return { server, client: (userId: string, keyset: Keyset = OPEN_KEYSET, extra: Record<string, unknown> = {}) => client(userId, extra, keyset) };
}

async function connected(c: Client, channels: string[]) {
  const seen = record(c);
  c.subscribe({ channels });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'subscriber connected');
  return seen;
}

const rejectsWith = (statusCode: number, category?: string) => (err: any) => {
  assert.equal(err.status?.statusCode, statusCode, JSON.stringify(err.status));
  if (category) assert.equal(err.status?.category, category);
  return true;
};

test('add, get and remove message actions; subscribers see e:3 events; a duplicate is 409', async (t) => {
  const { client } = await setup(t);
  const alice = client('alice');
  const bob = client('bob');
  const seen = await connected(client('watcher'), ['room']);
  const { timetoken: messageTimetoken } = await alice.publish({ channel: 'room', message: { text: 'hello' } });

  const added = await bob.addMessageAction({ channel: 'room', messageTimetoken: String(messageTimetoken), action: { type: 'reaction', value: 'smiley' } });
  assert.equal(added.data.type, 'reaction');
  assert.equal(added.data.value, 'smiley');
  assert.equal(added.data.uuid, 'bob');
  assert.equal(added.data.messageTimetoken, messageTimetoken);
  assert.match(added.data.actionTimetoken, /^\d{17}$/);

  const event = await waitFor(() => seen.messageActions[0], 'added event');
  assert.equal(event.channel, 'room');
  assert.equal(event.event, 'added');
  assert.equal(event.publisher, 'bob');
  assert.deepEqual(event.data, { ...added.data });
  await waitFor(() => seen.messages.length === 1, 'the message itself');

  await assert.rejects(
    bob.addMessageAction({ channel: 'room', messageTimetoken: String(messageTimetoken), action: { type: 'reaction', value: 'smiley' } }),
    (err: any) => {
      assert.equal(err.status.statusCode, 409);
      assert.equal(err.status.errorData.code, 'CONFLICT');
      return true;
    },
  );
  const second = await alice.addMessageAction({ channel: 'room', messageTimetoken: String(messageTimetoken), action: { type: 'reaction', value: 'smiley' } });
  const edit = await alice.addMessageAction({
    channel: 'room',
    messageTimetoken: String(messageTimetoken),
    action: { type: 'edited', value: 'hello, edited' },
  });

  const all = await alice.getMessageActions({ channel: 'room' });
  assert.deepEqual(
    all.data.map((a: any) => `${a.uuid}:${a.type}:${a.value}`),
    ['bob:reaction:smiley', 'alice:reaction:smiley', 'alice:edited:hello, edited'],
  );
  assert.equal(all.more, undefined);
  assert.equal(all.start, added.data.actionTimetoken);
  assert.equal(all.end, edit.data.actionTimetoken);

  await bob.removeMessageAction({ channel: 'room', messageTimetoken: String(messageTimetoken), actionTimetoken: added.data.actionTimetoken });
  const removed = await waitFor(() => seen.messageActions.find((e) => e.event === 'removed'), 'removed event');
  assert.deepEqual(removed.data, { ...added.data });
  // Removing again is not an error, and announces nothing more.
  await bob.removeMessageAction({ channel: 'room', messageTimetoken: String(messageTimetoken), actionTimetoken: added.data.actionTimetoken });
  const left = await alice.getMessageActions({ channel: 'room' });
  assert.deepEqual(
    left.data.map((a: any) => a.actionTimetoken),
    [second.data.actionTimetoken, edit.data.actionTimetoken],
  );
  await waitFor(() => seen.messageActions.length === 4, 'three added and one removed event');
  assert.deepEqual(
    seen.messageActions.map((e) => e.event),
    ['added', 'added', 'added', 'removed'],
  );
  assert.equal(seen.messages.length, 1, 'actions are not delivered as messages');
});

test('getMessageActions pages backwards with limit and more.start', async (t) => {
  const { client } = await setup(t, 'memory');
  const c = client('pager');
  const { timetoken } = await c.publish({ channel: 'pages', message: 'm' });
  const added: string[] = [];
  for (let i = 0; i < 7; i++) {
    added.push(
      (await c.addMessageAction({ channel: 'pages', messageTimetoken: String(timetoken), action: { type: 'receipt', value: `r${i}` } })).data.actionTimetoken,
    );
  }
  const seen: string[] = [];
  let start: string | undefined;
  let pages = 0;
  for (;;) {
    const page: any = await c.getMessageActions({ channel: 'pages', limit: 3, ...(start ? { start } : {}) });
    seen.unshift(...page.data.map((a: any) => a.actionTimetoken));
    pages++;
    if (!page.more) break;
    assert.equal(page.more.limit, 3);
    assert.equal(page.more.start, page.data[0].actionTimetoken);
    assert.match(page.more.url, /^\/v1\/message-actions\/sub-open\/channel\/pages\?start=\d+&limit=3$/);
    start = page.more.start;
  }
  assert.deepEqual(seen, added);
  assert.equal(pages, 3);
  const window = await c.getMessageActions({ channel: 'pages', start: added[5], end: added[2] });
  assert.deepEqual(
    window.data.map((a: any) => a.value),
    ['r2', 'r3', 'r4'],
  );
});

test('fetchMessages with includeMessageActions returns the actions map, and more when truncated', async (t) => {
  const { client } = await setup(t);
  const c = client('reader');
  const tts: string[] = [];
  for (let i = 0; i < 30; i++) tts.push(String((await c.publish({ channel: 'hist', message: { i } })).timetoken));
  const a1 = await c.addMessageAction({ channel: 'hist', messageTimetoken: tts[29], action: { type: 'reaction', value: '👍' } });
  const a2 = await client('other').addMessageAction({ channel: 'hist', messageTimetoken: tts[29], action: { type: 'reaction', value: '👍' } });
  const a3 = await c.addMessageAction({ channel: 'hist', messageTimetoken: tts[29], action: { type: 'deleted', value: 'deleted' } });
  const a4 = await c.addMessageAction({ channel: 'hist', messageTimetoken: tts[10], action: { type: '__proto__', value: 'constructor' } });

  const page: any = await c.fetchMessages({ channels: ['hist'], includeMessageActions: true });
  const entries = page.channels.hist;
  assert.equal(entries.length, 25);
  assert.deepEqual(
    entries.map((m: any) => m.timetoken),
    tts.slice(5),
  );
  const last = entries[24];
  assert.deepEqual(last.actions, {
    reaction: {
      '👍': [
        { uuid: 'reader', actionTimetoken: a1.data.actionTimetoken },
        { uuid: 'other', actionTimetoken: a2.data.actionTimetoken },
      ],
    },
    deleted: { deleted: [{ uuid: 'reader', actionTimetoken: a3.data.actionTimetoken }] },
  });
  assert.deepEqual(last.data, last.actions);
  const odd = entries.find((m: any) => m.timetoken === tts[10]);
  assert.deepEqual(Object.entries(odd.actions), [['__proto__', { constructor: [{ uuid: 'reader', actionTimetoken: a4.data.actionTimetoken }] }]]);
  assert.deepEqual(entries[0].actions, {});
  assert.equal(page.more.start, tts[5]);
  assert.equal(page.more.max, 25);
  assert.match(page.more.url, /^\/v3\/history-with-actions\/sub-key\/sub-open\/channel\/hist\?start=\d+&max=25$/);

  const rest: any = await c.fetchMessages({ channels: ['hist'], includeMessageActions: true, start: page.more.start });
  assert.deepEqual(
    rest.channels.hist.map((m: any) => m.timetoken),
    tts.slice(0, 5),
  );
  assert.equal(rest.more, undefined);
  // Plain fetchMessages carries no actions.
  const plain: any = await c.fetchMessages({ channels: ['hist'], count: 1 });
  assert.equal(plain.channels.hist[0].actions, undefined);
});

test('bad input: long type, non-JSON body, bad timetoken, presence channel', async (t) => {
  const { server, client } = await setup(t, 'memory');
  const c = client('x');
  await assert.rejects(
    c.addMessageAction({ channel: 'v', messageTimetoken: '17000000000000000', action: { type: 'a'.repeat(16), value: 'x' } }),
    /Validation failed/,
  );
  const base = `${server.url}/v1/message-actions/${OPEN_KEYSET.subscribeKey}/channel`;
  const post = (path: string, body: string) => fetch(`${base}/${path}?uuid=x`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  assert.equal((await post('v/message/17000000000000000', '{oops')).status, 400);
  assert.equal((await post('v/message/17000000000000000', '{"type":"t","value":""}')).status, 400);
  assert.equal((await post('v/message/1.5', '{"type":"t","value":"v"}')).status, 400);
  assert.equal((await post('v-pnpres/message/17000000000000000', '{"type":"t","value":"v"}')).status, 400);
  const bad = await fetch(`${base}/v?uuid=x&limit=0`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).code, 'INVALID_PARAM');
});

test('Access Manager: write adds, delete removes, read gets; each missing one is a 403', async (t) => {
  const { client } = await setup(t, 'memory');
  const admin = client('admin', PAM_KEYSET, { secretKey: PAM_KEYSET.secretKey });
  const grant = (uuid: string, perms: Record<string, boolean>) =>
    admin.grantToken({ ttl: 15, authorized_uuid: uuid, resources: { channels: { lobby: perms } } });
  const writer = client('writer', PAM_KEYSET);
  writer.setToken(await grant('writer', { write: true }));
  const reader = client('reader', PAM_KEYSET);
  reader.setToken(await grant('reader', { read: true }));
  const deleter = client('deleter', PAM_KEYSET);
  deleter.setToken(await grant('deleter', { delete: true }));
  const nobody = client('nobody', PAM_KEYSET);

  const { timetoken } = await writer.publish({ channel: 'lobby', message: 'hi' });
  const messageTimetoken = String(timetoken);
  const denied = rejectsWith(403, 'PNAccessDeniedCategory');
  const added = await writer.addMessageAction({ channel: 'lobby', messageTimetoken, action: { type: 'reaction', value: 'x' } });
  await assert.rejects(reader.addMessageAction({ channel: 'lobby', messageTimetoken, action: { type: 'reaction', value: 'y' } }), denied);
  await assert.rejects(nobody.addMessageAction({ channel: 'lobby', messageTimetoken, action: { type: 'reaction', value: 'y' } }), denied);

  assert.equal((await reader.getMessageActions({ channel: 'lobby' })).data.length, 1);
  await assert.rejects(writer.getMessageActions({ channel: 'lobby' }), denied);
  assert.equal((await reader.fetchMessages({ channels: ['lobby'], includeMessageActions: true })).channels.lobby.length, 1);
  await assert.rejects(writer.fetchMessages({ channels: ['lobby'], includeMessageActions: true }), denied);

  const target = { channel: 'lobby', messageTimetoken, actionTimetoken: added.data.actionTimetoken };
  await assert.rejects(writer.removeMessageAction(target), denied);
  await assert.rejects(reader.removeMessageAction(target), denied);
  await deleter.removeMessageAction(target);
  assert.deepEqual((await reader.getMessageActions({ channel: 'lobby' })).data, []);
});

test('message actions persist across a restart (sqlite)', async (t) => {
  const first: TestServer = await startServer({ keepDataDir: true });
  const c1 = makeClient(first.origin, OPEN_KEYSET, 'u');
  const { timetoken } = await c1.publish({ channel: 'keep', message: 'm' });
  const added = await c1.addMessageAction({ channel: 'keep', messageTimetoken: String(timetoken), action: { type: 'reaction', value: 'v' } });
  c1.destroy();
  await first.stop();
  const second = await startServer({ dataDir: first.dataDir });
  const c2 = makeClient(second.origin, OPEN_KEYSET, 'u');
  t.after(async () => {
    c2.destroy();
    await second.stop();
    rmSync(first.dataDir, { recursive: true, force: true });
  });
  const got = await c2.getMessageActions({ channel: 'keep' });
  assert.deepEqual(got.data, [added.data]);
});
