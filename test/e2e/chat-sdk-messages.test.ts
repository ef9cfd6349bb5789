import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../helpers/harness.ts';
import { chatFor, chatUserToken } from '../helpers/chat.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * PubNub's Chat SDK (on its own pubnub 11), unchanged and with the Access Manager on, over the flows
 * built on message actions and files: reactions, edits, soft deletes and messages with attachments.
 */
test('Chat SDK: files, reactions, edits and soft deletes with a token', async (t) => {
  const { server, admin } = await harness(t, { store: 'sqlite' });
  const chat = await chatFor(server.origin, 'alice', await chatUserToken(admin, 'alice'));
  t.after(() => chat.sdk.destroy());

  const channel = await chat.createPublicConversation({ channelId: 'general', channelData: { name: 'General' } });
  const received: any[] = [];
  const stop = channel.connect((m) => received.push(m));
  t.after(() => stop());

  const attachment = { data: Buffer.from('minutes of the meeting'), name: 'minutes.txt', mimeType: 'text/plain' };
  await channel.sendTextLegacy('see attached', { files: [attachment] });
  const live = await waitFor(() => received.find((m) => m.text === 'see attached'), 'the message with a file');
  assert.equal(live.files.length, 1);
  assert.equal(live.files[0].name, 'minutes.txt');
  const download = await fetch(live.files[0].url);
  assert.equal(download.status, 200, 'the Chat SDK file URL carries the token');
  assert.equal(await download.text(), 'minutes of the meeting');
  assert.equal((await chat.sdk.listFiles({ channel: 'general' })).count, 1);

  const { messages } = await channel.getHistory();
  const message = messages.find((m) => m.text === 'see attached');
  assert.ok(message);
  const updates: any[] = [];
  const stopUpdates = message.onUpdated((m) => updates.push(m));
  t.after(() => stopUpdates());

  const reacted = await message.toggleReaction('👍');
  assert.ok(reacted.hasUserReaction('👍'));
  await waitFor(() => updates.some((m) => m.hasUserReaction('👍')), 'reaction reaches the message listener');
  const unreacted = await reacted.toggleReaction('👍');
  assert.equal(unreacted.hasUserReaction('👍'), false);
  await waitFor(() => updates.length >= 2 && !updates[updates.length - 1].hasUserReaction('👍'), 'un-reaction reaches the listener');
  await unreacted.toggleReaction('🎉');

  const edited = await unreacted.editText('see the attached minutes');
  assert.equal(edited.text, 'see the attached minutes');
  const deleted = await edited.delete({ soft: true });
  assert.ok(typeof deleted !== 'boolean' && deleted.deleted);

  // A fresh read from history-with-actions shows every change.
  const again = (await channel.getHistory()).messages.find((m) => m.timetoken === message.timetoken);
  assert.ok(again);
  assert.equal(again.text, 'see the attached minutes');
  assert.equal(again.deleted, true);
  assert.deepEqual(
    again.reactions.map((r) => r.value),
    ['🎉'],
  );
  assert.equal(again.files[0].name, 'minutes.txt');

  const restored = await again.restore();
  assert.equal(restored.deleted, false);
});
