import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatFor, chatUserToken } from '../helpers/chat.ts';
import { harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * PubNub's Chat SDK, unchanged and with the Access Manager on, over its App Context flows: users,
 * channels, joining (memberships), member lists, filters, and live updates through `e:2` events.
 */
test('Chat SDK: users, channels, join, members and live updates with a token', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  await admin.objects.setUUIDMetadata({ uuid: 'bob', data: { name: 'Bob' } });
  const chat = await chatFor(server.origin, 'alice', await chatUserToken(admin, 'alice'));
  t.after(() => chat.sdk.destroy());

  assert.equal(chat.currentUser.id, 'alice', 'init created the current user');
  const renamed = await chat.currentUser.update({ name: 'Alice' });
  assert.equal(renamed.name, 'Alice');
  const channel = await chat.createPublicConversation({ channelId: 'general', channelData: { name: 'General' } });
  assert.equal(channel.name, 'General');
  const joined = await channel.join({ status: 'active' });
  assert.equal(joined.channel.id, 'general');
  assert.deepEqual(
    (await channel.getMembers()).members.map((m) => m.user.id),
    ['alice'],
  );
  assert.deepEqual(
    (await chat.getChannels({ filter: "name LIKE 'gen*'" })).channels.map((c) => c.id),
    ['general'],
  );
  assert.deepEqual(
    (await chat.getUsers({ sort: { name: 'asc' } })).users.map((u) => u.id),
    ['alice', 'bob'],
  );
  const [membership] = (await chat.currentUser.getMemberships()).memberships;
  assert.equal(membership.channel.id, 'general');

  // Live updates arrive as App Context events and are merged by the Chat SDK.
  const channelUpdates: any[] = [];
  const membershipUpdates: any[] = [];
  const userUpdates: any[] = [];
  const stops = [
    channel.streamUpdates((c) => channelUpdates.push(c)),
    membership.streamUpdates((m) => membershipUpdates.push(m)),
    chat.currentUser.streamUpdates((u) => userUpdates.push(u)),
  ];
  t.after(() => {
    for (const stop of stops) stop();
  });
  await channel.update({ description: 'for everyone' });
  await waitFor(() => channelUpdates.length > 0, 'channel update');
  assert.equal(channelUpdates[0].description, 'for everyone');
  assert.equal(channelUpdates[0].name, 'General');
  await membership.update({ custom: { pinned: true } });
  await waitFor(() => membershipUpdates.length > 0, 'membership update');
  assert.deepEqual(membershipUpdates[0].custom, { pinned: true });
  await chat.currentUser.update({ name: 'Alice B.' });
  await waitFor(() => userUpdates.length > 0, 'user update');
  assert.equal(userUpdates[0].name, 'Alice B.');

  // The token allows reading bob, not changing him.
  await assert.rejects(chat.updateUser('bob', { name: 'not yours' }));
  assert.equal((await chat.getUser('bob'))?.name, 'Bob');
});
