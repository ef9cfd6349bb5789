import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageAction } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
/** Beyond 2^53: a backend that goes through a double loses the last digits. */
const T = 17_000_000_000_000_001n;

function action(message: number, at: number, extra: Partial<MessageAction> = {}): MessageAction {
  return {
    subscribeKey: SUB,
    channel: 'ch',
    messageTimetoken: T + BigInt(message),
    actionTimetoken: T + BigInt(at),
    type: 'reaction',
    value: `v${at}`,
    uuid: 'u-1',
    ...extra,
  };
}

/** "m1@5" = an action on message T+1 added at T+5: shows order and identity at a glance. */
function tags(actions: readonly MessageAction[]): string[] {
  return actions.map((a) => `m${a.messageTimetoken - T}@${a.actionTimetoken - T}`);
}

export function messageActionStoreContract(options: ContractOptions): void {
  describe(`${options.name}: MessageActionStore`, { skip: options.skip }, () => {
    test('round-trips every field exactly, unicode and 17+ digit timetokens included', async (t) => {
      const { messageActions } = await freshStores(t, options);
      const full = action(1, 2, { channel: 'ch 😀/x', type: 'edited', value: 'new text: "quoted" ☃', uuid: 'user é' });
      assert.equal(await messageActions.add(full), 'added');
      assert.deepEqual(await messageActions.list(SUB, full.channel, {}, 10), [full]);
      assert.deepEqual(await messageActions.forMessages(SUB, full.channel, [full.messageTimetoken]), [full]);
    });

    test('the same (type, value, uuid) twice on one message is refused; other uuids, values and messages are not', async (t) => {
      const { messageActions } = await freshStores(t, options);
      assert.equal(await messageActions.add(action(1, 1, { value: 'smiley' })), 'added');
      assert.equal(await messageActions.add(action(1, 2, { value: 'smiley' })), 'taken');
      assert.equal(await messageActions.add(action(1, 3, { value: 'smiley', uuid: 'u-2' })), 'added');
      assert.equal(await messageActions.add(action(1, 4, { value: 'frown' })), 'added');
      assert.equal(await messageActions.add(action(1, 5, { value: 'smiley', type: 'receipt' })), 'added');
      assert.equal(await messageActions.add(action(2, 6, { value: 'smiley' })), 'added');
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 100)), ['m1@1', 'm1@3', 'm1@4', 'm1@5', 'm2@6']);
    });

    test('an action timetoken already taken on the message is refused and changes nothing', async (t) => {
      const { messageActions } = await freshStores(t, options);
      assert.equal(await messageActions.add(action(1, 1, { value: 'a' })), 'added');
      assert.equal(await messageActions.add(action(1, 1, { value: 'b', uuid: 'u-2' })), 'taken');
      const [only] = await messageActions.list(SUB, 'ch', {}, 100);
      assert.equal(only.value, 'a');
      // The same action timetoken on another message is a different action.
      assert.equal(await messageActions.add(action(2, 1, { value: 'b' })), 'added');
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 100)), ['m1@1', 'm2@1']);
    });

    test('remove deletes exactly one action, reports whether it existed, and frees its (type, value, uuid)', async (t) => {
      const { messageActions } = await freshStores(t, options);
      await messageActions.add(action(1, 1, { value: 'x' }));
      await messageActions.add(action(1, 2, { value: 'y' }));
      assert.equal(await messageActions.remove(SUB, 'ch', T + 1n, T + 1n), true);
      assert.equal(await messageActions.remove(SUB, 'ch', T + 1n, T + 1n), false);
      assert.equal(await messageActions.remove(SUB, 'ch', T + 2n, T + 2n), false, 'wrong message timetoken');
      assert.equal(await messageActions.remove(SUB, 'nope', T + 1n, T + 2n), false);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 100)), ['m1@2']);
      assert.deepEqual(tags(await messageActions.forMessages(SUB, 'ch', [T + 1n])), ['m1@2']);
      assert.equal(await messageActions.add(action(1, 3, { value: 'x' })), 'added', 'the same reaction may be added again');
    });

    test('list filters by action timetoken, keeps the newest `limit`, and sorts ascending', async (t) => {
      const { messageActions } = await freshStores(t, options);
      // Added out of order, across messages: order is by action timetoken, then message.
      for (const [m, a] of [
        [3, 7],
        [1, 2],
        [2, 5],
        [1, 9],
        [4, 5],
        [2, 1],
      ])
        await messageActions.add(action(m, a));
      const all = ['m2@1', 'm1@2', 'm2@5', 'm4@5', 'm3@7', 'm1@9'];
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 100)), all);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 2)), ['m3@7', 'm1@9']);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', { lt: T + 7n }, 3)), ['m1@2', 'm2@5', 'm4@5']);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', { lt: T + 9n, gte: T + 5n }, 100)), ['m2@5', 'm4@5', 'm3@7']);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', { gt: T + 5n, lte: T + 9n }, 100)), ['m3@7', 'm1@9']);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', { lte: T + 5n }, 1)), ['m4@5']);
      assert.deepEqual(await messageActions.list(SUB, 'ch', {}, 0), []);
      assert.deepEqual(await messageActions.list(SUB, 'ch', { gt: T + 9n }, 10), []);
      assert.deepEqual(await messageActions.list(SUB, 'ch', { gt: T + 5n, lt: T + 5n }, 10), []);
      assert.deepEqual(await messageActions.list(SUB, 'unknown', {}, 10), []);
    });

    test('paging backwards with lt = the oldest returned visits every action once', async (t) => {
      const { messageActions } = await freshStores(t, options);
      for (let i = 0; i < 23; i++) await messageActions.add(action(i % 4, i * 3));
      const seen: string[] = [];
      let before: bigint | undefined;
      for (;;) {
        const page = await messageActions.list(SUB, 'ch', before === undefined ? {} : { lt: before }, 5);
        if (page.length === 0) break;
        seen.unshift(...tags(page));
        before = page[0].actionTimetoken;
      }
      assert.deepEqual(seen, tags(await messageActions.list(SUB, 'ch', {}, 100)));
      assert.equal(seen.length, 23);
    });

    test('forMessages returns the actions of the named messages only, in listing order', async (t) => {
      const { messageActions } = await freshStores(t, options);
      for (const [m, a] of [
        [1, 4],
        [2, 3],
        [1, 2],
        [3, 1],
        [2, 6],
      ])
        await messageActions.add(action(m, a));
      assert.deepEqual(tags(await messageActions.forMessages(SUB, 'ch', [T + 2n, T + 1n, T + 1n, T + 99n])), ['m1@2', 'm2@3', 'm1@4', 'm2@6']);
      assert.deepEqual(await messageActions.forMessages(SUB, 'ch', []), []);
      assert.deepEqual(await messageActions.forMessages(SUB, 'other', [T + 1n]), []);
    });

    test('channels and keysets are isolated', async (t) => {
      const { messageActions } = await freshStores(t, options);
      await messageActions.add(action(1, 1));
      assert.equal(await messageActions.add(action(1, 1, { channel: 'ch2' })), 'added');
      assert.equal(await messageActions.add(action(1, 1, { subscribeKey: OTHER_SUB })), 'added');
      assert.equal(await messageActions.remove(OTHER_SUB, 'ch', T + 1n, T + 1n), true);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch', {}, 10)), ['m1@1']);
      assert.deepEqual(tags(await messageActions.list(SUB, 'ch2', {}, 10)), ['m1@1']);
      assert.deepEqual(await messageActions.list(OTHER_SUB, 'ch', {}, 10), []);
      assert.deepEqual(await messageActions.forMessages(OTHER_SUB, 'ch', [T + 1n]), []);
    });

    test('with maxPerMessage, a full message takes no more actions, checked atomically; the same reaction twice is still taken', async (t) => {
      const { messageActions } = await freshStores(t, options);
      for (let a = 1; a <= 3; a++) assert.equal(await messageActions.add(action(1, a, { value: `v${a}` }), 3), 'added');
      assert.equal(await messageActions.add(action(1, 4, { value: 'v4' }), 3), 'full');
      assert.equal(await messageActions.add(action(1, 5, { value: 'v1' }), 3), 'taken', 'the same reaction on a full message is a conflict');
      assert.equal(await messageActions.add(action(2, 6, { value: 'v1' }), 3), 'added', 'another message has its own count');
      assert.equal((await messageActions.forMessages(SUB, 'ch', [T + 1n])).length, 3);
      // Eight at once on a message with one free place: exactly one is taken.
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => messageActions.add(action(2, 10 + i, { value: `w${i}` }), 2)));
      assert.equal(results.filter((r) => r === 'added').length, 1, JSON.stringify(results));
      assert.equal((await messageActions.forMessages(SUB, 'ch', [T + 2n])).length, 2);
    });

    test('concurrent adds of one reaction: exactly one wins', async (t) => {
      const { messageActions } = await freshStores(t, options);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => messageActions.add(action(1, i, { value: 'same' }))));
      assert.equal(results.filter((r) => r === 'added').length, 1);
      assert.equal((await messageActions.forMessages(SUB, 'ch', [T + 1n])).length, 1);
    });
  });
}
