import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET } from '../helpers/start-server.ts';
import { makeClient, record, type Client } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';

for (const eventEngine of [true, false]) {
  describe(`publish → subscribe (${eventEngine ? 'event engine' : 'legacy loop'})`, () => {
    test('messages arrive in order with publisher, meta and custom type; signals as signals', async (t) => {
      const server = await startServer();
      const clients: Client[] = [];
      t.after(async () => {
        for (const c of clients) c.destroy();
        await server.stop();
      });
      const sub = makeClient(server.origin, OPEN_KEYSET, 'sub-user', { enableEventEngine: eventEngine });
      const pub = makeClient(server.origin, OPEN_KEYSET, 'pub-user');
      clients.push(sub, pub);
      const seen = record(sub);
      sub.subscribe({ channels: ['room.1', 'room.2'] });
      await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');

      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const channel = i % 2 ? 'room.2' : 'room.1';
        const r = await pub.publish({ channel, message: { n: i }, meta: { k: 'v' }, customMessageType: 'chat-msg' });
        sent.push(r.timetoken as string);
      }
      await pub.signal({ channel: 'room.1', message: { typing: true } });
      await waitFor(() => seen.messages.length === 20 && seen.signals.length === 1, '20 messages and a signal');

      assert.deepEqual(
        seen.messages.map((m) => m.message.n),
        [...Array(20).keys()],
      );
      assert.deepEqual(
        seen.messages.map((m) => m.timetoken),
        sent,
      );
      const first = seen.messages[0];
      assert.equal(first.channel, 'room.1');
      assert.equal(first.publisher, 'pub-user');
      assert.deepEqual(first.userMetadata, { k: 'v' });
      assert.equal(first.customMessageType, 'chat-msg');
      assert.match(first.timetoken, /^\d{17}$/);
      assert.deepEqual(seen.signals[0].message, { typing: true });
      assert.equal(seen.signals[0].publisher, 'pub-user');
      // Timetokens strictly increase.
      for (let i = 1; i < sent.length; i++) assert.ok(BigInt(sent[i]) > BigInt(sent[i - 1]));
    });

    test('channel groups and wildcards carry the subscription name', async (t) => {
      const server = await startServer({ store: 'memory' });
      const clients: Client[] = [];
      t.after(async () => {
        for (const c of clients) c.destroy();
        await server.stop();
      });
      const admin = makeClient(server.origin, OPEN_KEYSET, 'admin');
      const sub = makeClient(server.origin, OPEN_KEYSET, 'sub-user', { enableEventEngine: eventEngine });
      clients.push(admin, sub);
      await admin.channelGroups.addChannels({ channelGroup: 'cg1', channels: ['ch-a', 'ch-b'] });
      const seen = record(sub);
      sub.subscribe({ channelGroups: ['cg1'], channels: ['news.*'] });
      await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
      await admin.publish({ channel: 'ch-b', message: 'via group' });
      await admin.publish({ channel: 'news.sport', message: 'via wildcard' });
      await admin.publish({ channel: 'other', message: 'not subscribed' });
      await waitFor(() => seen.messages.length >= 2, 'two messages');
      assert.deepEqual(
        seen.messages.map((m) => [m.channel, m.subscription, m.message]),
        [
          ['ch-b', 'cg1', 'via group'],
          ['news.sport', 'news.*', 'via wildcard'],
        ],
      );

      // A membership change reaches the parked poll: the new member's messages arrive.
      await admin.channelGroups.addChannels({ channelGroup: 'cg1', channels: ['ch-c'] });
      await admin.publish({ channel: 'ch-c', message: 'new member' });
      await waitFor(() => seen.messages.length === 3, 'message of the new member');
      assert.equal(seen.messages[2].subscription, 'cg1');
    });
  });
}

test('POST publish (deflated body) and fire', async (t) => {
  const server = await startServer({ store: 'memory' });
  const sub = makeClient(server.origin, OPEN_KEYSET, 'sub');
  const pub = makeClient(server.origin, OPEN_KEYSET, 'pub');
  t.after(async () => {
    sub.destroy();
    pub.destroy();
    await server.stop();
  });
  const seen = record(sub);
  sub.subscribe({ channels: ['posted'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await pub.publish({ channel: 'posted', message: { big: 'x'.repeat(5000) }, sendByPost: true });
  await pub.fire({ channel: 'posted', message: { fired: 1 } });
  await waitFor(() => seen.messages.length === 2, 'two messages');
  assert.equal(seen.messages[0].message.big.length, 5000);
  assert.deepEqual(seen.messages[1].message, { fired: 1 });
  // fire is store=0: it is not in history.
  const h = await pub.fetchMessages({ channels: ['posted'] });
  assert.equal(h.channels.posted.length, 1);
});

test('a subscriber far behind catches up on every stored message, in order, past 100', async (t) => {
  // A small memory buffer forces the catch-up through the store.
  const server = await startServer({ overrides: { subscribe: { bufferPerChannel: 20 } } });
  const pub = makeClient(server.origin, OPEN_KEYSET, 'pub');
  const sub = makeClient(server.origin, OPEN_KEYSET, 'sub', { enableEventEngine: false });
  t.after(async () => {
    pub.destroy();
    sub.destroy();
    await server.stop();
  });
  const { timetoken: before } = await pub.time();
  const total = 250;
  for (let i = 0; i < total; i++) await pub.publish({ channel: i % 3 ? 'far' : 'far2', message: { i } });
  const seen = record(sub);
  sub.subscribe({ channels: ['far', 'far2'], timetoken: String(before) });
  await waitFor(() => seen.messages.length >= total, `${total} messages`, 15_000);
  assert.deepEqual(
    seen.messages.map((m) => m.message.i),
    [...Array(total).keys()],
  );
});
