import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ACTIONS_PER_MESSAGE, MessageActionService } from '../../../src/realtime/message-actions.ts';
import { MemoryMessageActionStore } from '../../../src/store/memory/message-action-store.ts';
import type { MessageAction, OutgoingMessage } from '../../../src/store/types.ts';
import { createLogger } from '../../../src/log.ts';

const SUB = 'sub';
const MSG = 17_000_000_000_000_000n;

function setup(options: { maxValueBytes?: number; failPublish?: boolean; timetokens?: bigint[] } = {}) {
  const store = new MemoryMessageActionStore();
  const published: OutgoingMessage[] = [];
  let tt = 17_000_000_000_000_100n;
  const drawn = options.timetokens ?? [];
  const service = new MessageActionService({
    store,
    publish: async (m) => {
      if (options.failPublish) throw new Error('broker down');
      published.push(m);
      return 1n;
    },
    timetokens: { next: () => drawn.shift() ?? ++tt },
    log: createLogger({ level: 'silent' }),
    maxValueBytes: options.maxValueBytes ?? 32,
  });
  return { store, service, published };
}

const add = (service: MessageActionService, over: Partial<Omit<MessageAction, 'actionTimetoken'>> = {}) =>
  service.add({ subscribeKey: SUB, channel: 'ch', messageTimetoken: MSG, type: 'reaction', value: 'smiley', uuid: 'alice', ...over });

test('add stores the action under a fresh timetoken and announces it as an unstored e:3 event', async () => {
  const { store, service, published } = setup();
  const action = await add(service);
  assert.equal(action.actionTimetoken, 17_000_000_000_000_101n);
  assert.deepEqual(await store.forMessages(SUB, 'ch', [MSG]), [action]);
  assert.equal(published.length, 1);
  const [event] = published;
  assert.deepEqual(
    { ...event, payload: JSON.parse(event.payload) },
    {
      subscribeKey: SUB,
      channel: 'ch',
      publisher: 'alice',
      meta: null,
      customMessageType: null,
      type: 3,
      store: false,
      expiresAtMs: null,
      payload: {
        source: 'actions',
        version: '1.0',
        event: 'added',
        data: { type: 'reaction', value: 'smiley', messageTimetoken: String(MSG), actionTimetoken: String(action.actionTimetoken) },
      },
    },
  );
});

test('add refuses a bad type, an empty or oversized value and a missing uuid before storing anything', async () => {
  const { store, service, published } = setup({ maxValueBytes: 8 });
  await assert.rejects(add(service, { type: '' }), { code: 'INVALID_PARAM', message: /action\.type must be a string of 1-15 characters/ });
  await assert.rejects(add(service, { type: 'x'.repeat(16) }), { code: 'INVALID_PARAM', message: /action\.type/ });
  await assert.rejects(add(service, { value: '' }), { code: 'INVALID_PARAM', message: /action\.value must be a non-empty string/ });
  await assert.rejects(add(service, { value: 'é'.repeat(5) }), { code: 'PAYLOAD_TOO_LARGE', message: /over 8 bytes/ });
  await assert.rejects(add(service, { uuid: '' }), { code: 'INVALID_PARAM', message: /uuid is required/ });
  assert.deepEqual(await store.forMessages(SUB, 'ch', [MSG]), []);
  assert.equal(published.length, 0);
  await add(service, { type: 'x'.repeat(15), value: 'é'.repeat(4) });
});

test('the same reaction twice is a CONFLICT; a timetoken already used on the message is drawn again', async () => {
  const { store, service } = setup({ timetokens: [500n, 500n, 600n] });
  const first = await add(service);
  assert.equal(first.actionTimetoken, 500n);
  const other = await add(service, { value: 'frown' });
  assert.equal(other.actionTimetoken, 600n, 'the clashing 500 was drawn again');
  await assert.rejects(add(service), { code: 'CONFLICT', message: 'Action Already Added' });
  assert.equal((await store.forMessages(SUB, 'ch', [MSG])).length, 2);
});

test(`a message carries at most ${MAX_ACTIONS_PER_MESSAGE} actions`, async () => {
  const { store, service } = setup();
  for (let i = 0; i < MAX_ACTIONS_PER_MESSAGE; i++) {
    assert.ok(
      await store.add({ subscribeKey: SUB, channel: 'ch', messageTimetoken: MSG, actionTimetoken: BigInt(i + 1), type: 't', value: `v${i}`, uuid: 'u' }),
    );
  }
  await assert.rejects(add(service), { code: 'INVALID_PARAM', message: /already has 1000 actions/ });
  await add(service, { messageTimetoken: MSG + 1n });
});

test('list pages the newest `limit` actions of the range, oldest first, and says where the older page starts', async () => {
  const { store, service } = setup();
  for (let i = 1; i <= 5; i++) {
    await store.add({ subscribeKey: SUB, channel: 'ch', messageTimetoken: MSG, actionTimetoken: BigInt(i * 10), type: 't', value: `v${i}`, uuid: 'u' });
  }
  const first = await service.list(SUB, 'ch', undefined, undefined, 2);
  assert.deepEqual(
    first.actions.map((a) => a.actionTimetoken),
    [40n, 50n],
  );
  assert.equal(first.next, 40n);
  const second = await service.list(SUB, 'ch', first.next as bigint, undefined, 2);
  assert.deepEqual(
    second.actions.map((a) => a.actionTimetoken),
    [20n, 30n],
  );
  assert.equal(second.next, 20n);
  const last = await service.list(SUB, 'ch', second.next as bigint, undefined, 2);
  assert.deepEqual(
    last.actions.map((a) => a.actionTimetoken),
    [10n],
  );
  assert.equal(last.next, null);
  // `start` exclusive, `end` inclusive: (50, 20] → 20, 30, 40.
  const range = await service.list(SUB, 'ch', 50n, 20n, 10);
  assert.deepEqual(
    range.actions.map((a) => a.actionTimetoken),
    [20n, 30n, 40n],
  );
  assert.equal(range.next, null);
  await assert.rejects(service.list(SUB, 'ch', undefined, undefined, 0), { code: 'INVALID_PARAM' });
});

test('remove announces the removal with the removed action; removing one that is not there announces nothing', async () => {
  const { store, service, published } = setup();
  const action = await add(service);
  published.length = 0;
  assert.equal(await service.remove(SUB, 'ch', MSG, action.actionTimetoken + 1n), false);
  assert.equal(published.length, 0);
  assert.equal(await service.remove(SUB, 'ch', MSG, action.actionTimetoken), true);
  assert.deepEqual(await store.forMessages(SUB, 'ch', [MSG]), []);
  assert.equal(published.length, 1);
  assert.equal(published[0].publisher, 'alice', "the event's `i` is the action's own uuid");
  assert.deepEqual(JSON.parse(published[0].payload).event, 'removed');
  assert.equal(await service.remove(SUB, 'ch', MSG, action.actionTimetoken), false);
});

test('a failed announcement does not undo or fail the change', async () => {
  const { store, service } = setup({ failPublish: true });
  const action = await add(service);
  assert.deepEqual(await store.forMessages(SUB, 'ch', [MSG]), [action]);
  assert.equal(await service.remove(SUB, 'ch', MSG, action.actionTimetoken), true);
});
