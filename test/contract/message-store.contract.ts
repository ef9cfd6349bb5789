import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageQuery, MessageStore, StoredMessage } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';
import { BASE_TIMETOKEN, storedAt } from '../helpers/stored-messages.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const T = BASE_TIMETOKEN;
const NOW = 1_700_000_000_000;

const msg = (channel: string, offset: number, extra: Partial<StoredMessage> = {}): StoredMessage => storedAt(SUB, channel, offset, extra);

function query(store: MessageStore, q: Partial<MessageQuery> & Pick<MessageQuery, 'channels'>): Promise<StoredMessage[]> {
  return store.query({ subscribeKey: SUB, range: {}, limit: 100, keep: 'newest', nowMs: NOW, ...q });
}

/** "a3" for channel a at T+3: compact expectations that show both order and origin. */
function tags(rows: readonly StoredMessage[]): string[] {
  return rows.map((m) => `${m.channel}${m.timetoken - T}`);
}

export function messageStoreContract(options: ContractOptions): void {
  describe(`${options.name}: MessageStore`, { skip: options.skip }, () => {
    test('round-trips every field exactly, timetokens beyond double precision included', async (t) => {
      const { messages } = await freshStores(t, options);
      const full: StoredMessage = {
        subscribeKey: SUB,
        channel: 'chat.lobby',
        timetoken: 17_000_000_000_000_001n,
        publisher: 'alice',
        payload: '{ "text" : "héllo 👋",  "n": 1.50 }',
        meta: '{"k":"v"}',
        customMessageType: 'chat-msg',
        type: 4,
        expiresAtMs: NOW + 60_000,
      };
      const max = msg('chat.lobby', 0, { timetoken: 2n ** 63n - 1n, payload: '"last"' });
      await messages.append([full, max]);
      assert.deepEqual(await query(messages, { channels: ['chat.lobby'] }), [full, max]);
    });

    test('returns ascending timetoken order whatever the append order', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 5), msg('a', 1), msg('a', 3)]);
      await messages.append([msg('a', 4), msg('a', 2), msg('a', 6)]);
      assert.deepEqual(tags(await query(messages, { channels: ['a'] })), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    });

    test('appending an existing timetoken replaces the message, across and within batches', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1, { payload: '"first"' }), msg('a', 2)]);
      await messages.append([msg('a', 1, { payload: '"second"', publisher: 'bob', type: 1 })]);
      await messages.append([msg('a', 3, { payload: '"x"' }), msg('a', 3, { payload: '"y"' })]);
      const rows = await query(messages, { channels: ['a'] });
      assert.deepEqual(tags(rows), ['a1', 'a2', 'a3']);
      assert.equal(rows[0].payload, '"second"');
      assert.equal(rows[0].publisher, 'bob');
      assert.equal(rows[0].type, 1);
      assert.equal(rows[2].payload, '"y"');
    });

    test('a large batch keeps every row and the last of a repeated timetoken, whatever its size', async (t) => {
      const { messages } = await freshStores(t, options);
      // Sizes around an engine's statement chunking (sqlite: 32 rows per INSERT), a repeat across chunks.
      for (const [channel, size] of [
        ['a', 1],
        ['b', 31],
        ['c', 32],
        ['d', 33],
        ['e', 75],
      ] as const) {
        const batch = Array.from({ length: size }, (_, i) => msg(channel, i, { payload: `"${i}"` }));
        if (size > 40) batch.push(msg(channel, 0, { payload: '"again"' }));
        await messages.append(batch);
        const rows = await query(messages, { channels: [channel] });
        assert.equal(rows.length, size, `${channel}: ${size} rows`);
        assert.deepEqual(
          rows.map((m) => m.payload),
          Array.from({ length: size }, (_, i) => (i === 0 && size > 40 ? '"again"' : `"${i}"`)),
        );
      }
    });

    test('range bounds gt, gte, lt, lte and their combinations', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([1, 2, 3, 4, 5].map((i) => msg('a', i)));
      const inRange = async (range: MessageQuery['range']) => tags(await query(messages, { channels: ['a'], range }));
      assert.deepEqual(await inRange({ gt: T + 2n }), ['a3', 'a4', 'a5']);
      assert.deepEqual(await inRange({ gte: T + 2n }), ['a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(await inRange({ lt: T + 4n }), ['a1', 'a2', 'a3']);
      assert.deepEqual(await inRange({ lte: T + 4n }), ['a1', 'a2', 'a3', 'a4']);
      // The wire's "start exclusive, end inclusive" in both directions.
      assert.deepEqual(await inRange({ gt: T + 1n, lte: T + 4n }), ['a2', 'a3', 'a4']);
      assert.deepEqual(await inRange({ gte: T + 2n, lt: T + 4n }), ['a2', 'a3']);
      assert.deepEqual(await inRange({ gte: T + 3n, lte: T + 3n }), ['a3']);
      assert.deepEqual(await inRange({ gt: T + 2n, lt: T + 3n }), []);
      assert.deepEqual(await inRange({ gt: T + 4n, lt: T + 2n }), []);
      // When both forms of a bound are given, the tighter one wins.
      assert.deepEqual(await inRange({ gt: T + 2n, gte: T + 1n, lt: T + 5n, lte: T + 3n }), ['a3']);
    });

    test('keep oldest / newest with limit on one channel', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([1, 2, 3, 4, 5].map((i) => msg('a', i)));
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'newest', limit: 2 })), ['a4', 'a5']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'oldest', limit: 2 })), ['a1', 'a2']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'newest', limit: 2, range: { lt: T + 5n } })), ['a3', 'a4']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'oldest', limit: 2, range: { gt: T + 1n } })), ['a2', 'a3']);
      assert.equal((await query(messages, { channels: ['a'], limit: 50 })).length, 5);
      assert.deepEqual(await query(messages, { channels: ['a'], limit: 0 }), []);
    });

    test('keep oldest / newest with limit merges several channels by timetoken', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1), msg('a', 4), msg('a', 7), msg('b', 2), msg('b', 5), msg('b', 8)]);
      await messages.append([msg('c', 3), msg('c', 6), msg('c', 9), msg('d', 10)]);
      const channels = ['c', 'a', 'b', 'empty'];
      assert.deepEqual(tags(await query(messages, { channels, keep: 'newest', limit: 4 })), ['c6', 'a7', 'b8', 'c9']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 4 })), ['a1', 'b2', 'c3', 'a4']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'newest', limit: 3, range: { gt: T + 2n, lte: T + 8n } })), ['c6', 'a7', 'b8']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 3, range: { gt: T + 2n, lte: T + 8n } })), ['c3', 'a4', 'b5']);
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'b'], limit: 100 })), ['a1', 'b2', 'a4', 'b5', 'a7', 'b8']);
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'a'], limit: 100 })), ['a1', 'a4', 'a7']);
      assert.deepEqual(await query(messages, { channels: [] }), []);
    });

    test('perChannelLimit: reads a share per channel and answers a prefix (suffix) of the full answer, never empty when it is not', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1), msg('a', 4), msg('a', 7), msg('b', 2), msg('b', 5), msg('b', 8)]);
      await messages.append([msg('c', 3), msg('c', 6), msg('c', 9), msg('d', 10)]);
      const channels = ['c', 'a', 'b', 'd', 'empty'];
      // One row each: a1 b2 c3 d10 are read; a, b and c may have more past them, so the answer stops at
      // a1, the first point where one might (c3 and d10 wait for a later query).
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 100, perChannelLimit: 1 })), ['a1']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 100, perChannelLimit: 2 })), ['a1', 'b2', 'c3', 'a4']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 3, perChannelLimit: 2 })), ['a1', 'b2', 'c3']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'newest', limit: 100, perChannelLimit: 1 })), ['d10']);
      assert.deepEqual(tags(await query(messages, { channels, keep: 'newest', limit: 100, perChannelLimit: 2 })), ['c6', 'a7', 'b8', 'c9', 'd10']);
      // A share at or above the limit changes nothing; d alone never fills a share of 2.
      assert.deepEqual(tags(await query(messages, { channels, keep: 'oldest', limit: 4, perChannelLimit: 50 })), ['a1', 'b2', 'c3', 'a4']);
      assert.deepEqual(tags(await query(messages, { channels: ['d'], keep: 'oldest', limit: 100, perChannelLimit: 2 })), ['d10']);
      // Paging through with a share of 1 gives every row once, in order: a cursor never skips one.
      const seen: string[] = [];
      let after = T;
      for (let i = 0; i < 20; i++) {
        const page = await query(messages, { channels, keep: 'oldest', limit: 100, perChannelLimit: 1, range: { gt: after } });
        if (page.length === 0) break;
        seen.push(...tags(page));
        after = page[page.length - 1].timetoken;
      }
      assert.deepEqual(seen, ['a1', 'b2', 'c3', 'a4', 'b5', 'c6', 'a7', 'b8', 'c9', 'd10']);
    });

    test('equal timetokens on different channels are ordered by channel name', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('b', 1), msg('a', 1), msg('b', 2), msg('a', 2)]);
      assert.deepEqual(tags(await query(messages, { channels: ['b', 'a'] })), ['a1', 'b1', 'a2', 'b2']);
      assert.deepEqual(tags(await query(messages, { channels: ['b', 'a'], keep: 'newest', limit: 3 })), ['b1', 'a2', 'b2']);
      assert.deepEqual(tags(await query(messages, { channels: ['b', 'a'], keep: 'oldest', limit: 3 })), ['a1', 'b1', 'a2']);
    });

    test('keysets are isolated for query, count, delete and purge', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1), msg('a', 2, { expiresAtMs: NOW - 1 })]);
      await messages.append([msg('a', 1, { subscribeKey: OTHER_SUB, payload: '"other"' }), msg('a', 3, { subscribeKey: OTHER_SUB })]);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], nowMs: 0 })), ['a1', 'a2']);
      const other = await query(messages, { subscribeKey: OTHER_SUB, channels: ['a'] });
      assert.deepEqual(tags(other), ['a1', 'a3']);
      assert.equal(other[0].payload, '"other"');
      assert.equal(await messages.count(OTHER_SUB, 'a', {}, 100, NOW), 2);
      assert.equal(await messages.delete(SUB, 'a', {}), 2);
      assert.equal(await messages.count(OTHER_SUB, 'a', {}, 100, NOW), 2);
      await messages.append([msg('a', 4, { subscribeKey: OTHER_SUB, expiresAtMs: NOW + 1 })]);
      assert.equal(await messages.purgeExpired(NOW), 0);
      assert.equal(await messages.count(OTHER_SUB, 'a', {}, 100, NOW), 3);
    });

    test('expired messages are invisible to query and count; limit counts visible rows only', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([
        msg('a', 1),
        msg('a', 2, { expiresAtMs: NOW - 1 }),
        msg('a', 3, { expiresAtMs: NOW }),
        msg('a', 4, { expiresAtMs: NOW + 1 }),
        msg('a', 5, { expiresAtMs: NOW - 5 }),
      ]);
      assert.deepEqual(tags(await query(messages, { channels: ['a'] })), ['a1', 'a4']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'newest', limit: 1 })), ['a4']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], keep: 'oldest', limit: 2 })), ['a1', 'a4']);
      assert.equal(await messages.count(SUB, 'a', {}, 100, NOW), 2);
      // Visibility is relative to the caller's clock, not to purging.
      assert.deepEqual(tags(await query(messages, { channels: ['a'], nowMs: NOW - 10 })), ['a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(tags(await query(messages, { channels: ['a'], nowMs: NOW + 1 })), ['a1']);
    });

    test('fractional expiry times are kept exactly', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1, { expiresAtMs: NOW + 0.5 })]);
      const [row] = await query(messages, { channels: ['a'], nowMs: NOW + 0.25 });
      assert.equal(row.expiresAtMs, NOW + 0.5);
      assert.deepEqual(await query(messages, { channels: ['a'], nowMs: NOW + 0.5 }), []);
      assert.equal(await messages.purgeExpired(NOW), 0);
      assert.equal(await messages.purgeExpired(NOW + 0.5), 1);
    });

    test('purgeExpired physically removes expired messages and reports how many', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([
        msg('a', 1),
        msg('a', 2, { expiresAtMs: NOW - 1 }),
        msg('a', 3, { expiresAtMs: NOW }),
        msg('b', 1, { expiresAtMs: NOW + 1 }),
        msg('c', 1, { expiresAtMs: NOW - 100 }),
      ]);
      assert.equal(await messages.purgeExpired(NOW), 3);
      assert.equal(await messages.purgeExpired(NOW), 0);
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'b', 'c'], nowMs: 0 })), ['a1', 'b1']);
      await messages.append([msg('c', 2)]);
      assert.deepEqual(tags(await query(messages, { channels: ['c'] })), ['c2']);
    });

    test('count is capped, respects the range and ignores other channels', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([1, 2, 3, 4, 5].map((i) => msg('a', i)).concat([msg('b', 9)]));
      assert.equal(await messages.count(SUB, 'a', {}, 3, NOW), 3);
      assert.equal(await messages.count(SUB, 'a', {}, 10, NOW), 5);
      assert.equal(await messages.count(SUB, 'a', { gt: T + 2n }, 10_000, NOW), 3);
      assert.equal(await messages.count(SUB, 'a', { gte: T + 2n, lt: T + 4n }, 10_000, NOW), 2);
      assert.equal(await messages.count(SUB, 'a', { gt: T + 5n }, 10_000, NOW), 0);
      assert.equal(await messages.count(SUB, 'a', {}, 0, NOW), 0);
      assert.equal(await messages.count(SUB, 'nothing-here', {}, 10, NOW), 0);
    });

    test('delete removes exactly the range of one channel and returns how many', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([1, 2, 3, 4, 5, 6].map((i) => msg('a', i)).concat([msg('b', 3)]));
      assert.equal(await messages.delete(SUB, 'a', { gt: T + 1n, lte: T + 3n }), 2);
      assert.deepEqual(tags(await query(messages, { channels: ['a'] })), ['a1', 'a4', 'a5', 'a6']);
      assert.equal(await messages.delete(SUB, 'a', { gte: T + 5n }), 2);
      assert.equal(await messages.delete(SUB, 'a', { lt: T + 4n }), 1);
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'b'] })), ['b3', 'a4']);
      assert.equal(await messages.delete(SUB, 'a', { gt: T + 9n }), 0);
      assert.equal(await messages.delete(SUB, 'a', {}), 1);
      assert.equal(await messages.delete(SUB, 'unknown', {}), 0);
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'b'] })), ['b3']);
      await messages.append([msg('a', 7)]);
      assert.deepEqual(tags(await query(messages, { channels: ['a'] })), ['a7']);
    });

    test('a batch with an invalid row is rejected whole with INVALID_PARAM', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([msg('a', 1)]);
      const bad: Partial<StoredMessage>[] = [{ timetoken: -1n }, { timetoken: 2n ** 63n }, { type: 7 as 0 }, { channel: '' }, { expiresAtMs: Number.NaN }];
      for (const override of bad) {
        await assert.rejects(messages.append([msg('a', 2), msg('b', 2), msg('a', 3, override)]), { code: 'INVALID_PARAM' });
      }
      assert.deepEqual(tags(await query(messages, { channels: ['a', 'b'], nowMs: 0 })), ['a1']);
    });

    test('an empty batch resolves and changes nothing', async (t) => {
      const { messages } = await freshStores(t, options);
      await messages.append([]);
      assert.deepEqual(await query(messages, { channels: ['a'] }), []);
    });

    test('results are copies: mutating them does not change history', async (t) => {
      const { messages } = await freshStores(t, options);
      const input = msg('a', 1);
      await messages.append([input]);
      input.payload = '"mutated input"';
      const [first] = await query(messages, { channels: ['a'] });
      first.payload = '"mutated output"';
      const [again] = await query(messages, { channels: ['a'] });
      assert.equal(again.payload, JSON.stringify({ n: 1 }));
    });
  });
}
