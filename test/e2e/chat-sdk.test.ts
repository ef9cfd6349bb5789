import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../helpers/harness.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { chatFor, chatUserToken } from '../helpers/chat.ts';

/**
 * PubNub's Chat SDK, unchanged, on Parley with the Access Manager on: every user holds a token from a
 * server-side grant, and one without the permissions is refused each action with the access-denied error.
 */
const chatOptions = { typingTimeout: 2000, emitReadReceiptEvents: { public: true, group: true, direct: true } };

/** The Chat SDK wraps the PubNub error (sometimes twice): find the SDK's status along the cause chain. */
const accessDenied = (err: any): boolean => {
  let e = err;
  for (let i = 0; e && !e.status && i < 5; i++) e = e.cause;
  assert.equal(e?.status?.category, 'PNAccessDeniedCategory', `expected access denied, got ${err?.message}`);
  assert.equal(e.status.statusCode, 403);
  return true;
};

test('Chat SDK on Parley: users, a public conversation, messages, edits, reactions, typing, receipts, files', async (t) => {
  const { server, admin } = await harness(t, { store: 'sqlite' });
  const alice = await chatFor(server.origin, 'alice', await chatUserToken(admin, 'alice'), chatOptions);
  const bob = await chatFor(server.origin, 'bob', await chatUserToken(admin, 'bob'), chatOptions);
  t.after(() => {
    alice.sdk.destroy();
    bob.sdk.destroy();
  });

  await alice.currentUser.update({ name: 'Alice' });
  await bob.currentUser.update({ name: 'Bob' });
  const general = await alice.createPublicConversation({ channelId: 'general', channelData: { name: 'General' } });
  await general.join();
  const bobsView = (await bob.getChannel('general'))!;
  const bobMembership = await bobsView.join();

  // Send text; bob receives it in his connect callback.
  const received: any[] = [];
  const stopReceiving = bobsView.onMessageReceived((m) => received.push(m));
  t.after(() => stopReceiving());
  await waitFor(
    async () => {
      await general.sendText('warm-up');
      return received.length > 0;
    },
    'bob connected',
    5000,
  );
  await general.sendText('hello bob');
  const msg = await waitFor(() => received.find((m) => m.text === 'hello bob'), 'bob receives the text');
  assert.equal(msg.userId, 'alice');

  // History, edit, soft delete, reaction.
  const history = await general.getHistory({ count: 10 });
  const mine = history.messages.find((m) => m.text === 'hello bob')!;
  assert.ok(mine, 'the message is in history');
  const edited = await mine.editText('hello Bob!');
  assert.equal(edited.text, 'hello Bob!');
  const reacted = await edited.toggleReaction('👍');
  assert.ok(reacted.hasUserReaction('👍'));
  const unreacted = await reacted.toggleReaction('👍');
  assert.ok(!unreacted.hasUserReaction('👍'));
  const again = await general.getHistory({ count: 10 });
  const fromHistory = again.messages.find((m) => m.timetoken === mine.timetoken)!;
  assert.equal(fromHistory.text, 'hello Bob!', 'the edit is read back from history (message actions)');
  const deleted = (await fromHistory.delete({ soft: true })) as any;
  assert.equal(deleted.deleted, true);

  // Typing indicator (signals; the Chat SDK offers it in group and direct conversations).
  const { channel: team } = await alice.createGroupConversation({ users: [(await alice.getUser('bob'))!], channelId: 'team', channelData: { name: 'Team' } });
  const bobsTeam = (await bob.getChannel('team'))!;
  const typing: string[][] = [];
  const stopTyping = team.onTypingChanged((ids) => typing.push(ids));
  t.after(() => stopTyping());
  await waitFor(
    async () => {
      await bobsTeam.startTyping();
      return typing.some((ids) => ids.includes('bob'));
    },
    'alice sees bob typing',
    8000,
  );

  // Read receipts: bob marks alice's message as read.
  const receipts: any[] = [];
  const stopReceipts = general.onReadReceiptReceived((r) => receipts.push(r));
  t.after(() => stopReceipts());
  await bobMembership.setLastReadMessage(msg);
  await waitFor(() => receipts.find((r) => r.userId === 'bob' && r.lastReadTimetoken === msg.timetoken), "alice gets bob's read receipt", 8000);
  const fetched = await general.fetchReadReceipts();
  assert.ok(JSON.stringify(fetched).includes(msg.timetoken));

  // A file travels with a message.
  // sendText takes no files in this Chat SDK version; sendTextLegacy (and message drafts) do.
  await general.sendTextLegacy('see attached', { files: [{ name: 'notes.txt', mimeType: 'text/plain', data: Buffer.from('parley file') }] } as any);
  const withFile = await waitFor(
    () => received.find((m) => m.text === 'see attached' && m.files?.length),
    'bob receives the file message: ' + JSON.stringify(received.map((m) => [m.text, m.files, m.content])),
    8000,
  );
  assert.equal(withFile.files[0].name, 'notes.txt');
  const download = await fetch(withFile.files[0].url);
  assert.equal(download.status, 200);
  assert.equal(await download.text(), 'parley file');
});

test('Chat SDK: a user without the permissions is refused each action with the access-denied error', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  const aliceToken = await chatUserToken(admin, 'alice');
  // Carol may read the channel and look users up, nothing else.
  const carolToken = await admin.grantToken({
    ttl: 60,
    authorized_uuid: 'carol',
    resources: { uuids: { carol: { get: true } }, channels: { general: { read: true, get: true }, team: { read: true, get: true } } },
    patterns: { uuids: { '.*': { get: true } } },
  });
  await admin.objects.setUUIDMetadata({ uuid: 'carol', data: { name: 'Carol' } });
  const alice = await chatFor(server.origin, 'alice', aliceToken, chatOptions);
  const general = await alice.createPublicConversation({ channelId: 'general', channelData: { name: 'General' } });
  await general.sendText('from alice');
  const carol = await chatFor(server.origin, 'carol', carolToken, chatOptions);
  t.after(() => {
    alice.sdk.destroy();
    carol.sdk.destroy();
  });
  const carolsView = (await carol.getChannel('general'))!;
  const [message] = (await carolsView.getHistory({ count: 1 })).messages;
  assert.equal(message.text, 'from alice', 'carol may read');

  await assert.rejects(carolsView.sendText('carol writes'), accessDenied);
  await assert.rejects(carolsView.join(), accessDenied);
  await assert.rejects(message.toggleReaction('👍'), accessDenied);
  await assert.rejects(message.editText('carol edits'), accessDenied);
  await assert.rejects(message.delete({ soft: true }), accessDenied);
  const { channel: team } = await alice.createGroupConversation({ users: [(await alice.getUser('carol'))!], channelId: 'team' });
  const carolsTeam = (await carol.getChannel(team.id))!;
  await assert.rejects(carolsTeam.startTyping(), accessDenied);
  await assert.rejects(carol.currentUser.update({ name: 'Carol II' }), accessDenied);
  await assert.rejects(carol.createUser('mallory', { name: 'Mallory' }), accessDenied);
  await assert.rejects(carolsView.update({ name: 'renamed' }), accessDenied);
  await assert.rejects(carolsView.sendTextLegacy('file', { files: [{ name: 'x.txt', mimeType: 'text/plain', data: Buffer.from('x') }] } as any), accessDenied);
});
