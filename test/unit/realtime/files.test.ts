import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileService, MAX_FILE_NAME_LENGTH, type FileMessage } from '../../../src/realtime/files.ts';
import { MemoryFileStore } from '../../../src/store/memory/file-store.ts';
import type { OutgoingMessage } from '../../../src/store/types.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const SUB = 'sub';

function setup(retentionHours = 0) {
  const clock = createFakeClock(1_700_000_000_000);
  const store = new MemoryFileStore();
  const published: OutgoingMessage[] = [];
  let ids = 0;
  const service = new FileService({
    store,
    clock,
    retentionHours,
    publish: async (m) => {
      published.push(m);
      return 17_000_000_000_000_000n;
    },
    newId: () => `id-${++ids}`,
  });
  return { clock, store, service, published };
}

const message = (over: Partial<FileMessage> = {}): FileMessage => ({
  subscribeKey: SUB,
  channel: 'ch',
  publisher: 'alice',
  payload: '{"message":"hi","file":{"id":"id-1","name":"a.txt"}}',
  meta: null,
  customMessageType: null,
  store: true,
  ttlHours: undefined,
  ...over,
});

test('newFile assigns an id to a valid name and refuses empty, over-long and control-character names', () => {
  const { service } = setup();
  assert.deepEqual(service.newFile('a.txt'), { id: 'id-1', name: 'a.txt' });
  assert.deepEqual(service.newFile('b'.repeat(MAX_FILE_NAME_LENGTH)), { id: 'id-2', name: 'b'.repeat(MAX_FILE_NAME_LENGTH) });
  for (const bad of ['', 'b'.repeat(MAX_FILE_NAME_LENGTH + 1), 'a\nb', 'a\u007fb']) {
    assert.throws(() => service.newFile(bad), { code: 'INVALID_PARAM', message: /name must be 1-255 characters without control characters/ });
  }
});

test('save stores the file once, created now; a second upload under the same id stores nothing', async () => {
  const { clock, store, service } = setup();
  const ref = { subscribeKey: SUB, channel: 'ch', id: 'id-1', name: 'a.txt' };
  assert.equal(await service.save(ref, 'text/plain', Buffer.from('hello')), true);
  clock.advance(1000);
  assert.equal(await service.save(ref, 'text/plain', Buffer.from('other')), false);
  const found = await store.get(SUB, 'ch', 'id-1');
  assert.deepEqual(found?.file, { ...ref, size: 5, created: new Date(1_700_000_000_000).toISOString(), contentType: 'text/plain' });
  assert.equal(found?.bytes.toString(), 'hello');
});

test('get and remove address a file by id and name together: a wrong name is NOT_FOUND', async () => {
  const { service } = setup();
  const ref = { subscribeKey: SUB, channel: 'ch', id: 'id-1', name: 'a.txt' };
  await service.save(ref, 'text/plain', Buffer.from('hello'));
  await assert.rejects(service.get({ ...ref, name: 'b.txt' }), { code: 'NOT_FOUND', message: 'File does not exist' });
  await assert.rejects(service.remove({ ...ref, name: 'b.txt' }), { code: 'NOT_FOUND' });
  assert.equal((await service.get(ref)).bytes.toString(), 'hello');
  await service.remove(ref);
  await assert.rejects(service.get(ref), { code: 'NOT_FOUND' });
  await assert.rejects(service.remove(ref), { code: 'NOT_FOUND' });
});

test('publish sends an e:4 message that names a file, kept for its ttl or the retention', async () => {
  const { clock, service, published } = setup(24);
  assert.equal(await service.publish(message()), 17_000_000_000_000_000n);
  assert.deepEqual(published[0], {
    subscribeKey: SUB,
    channel: 'ch',
    publisher: 'alice',
    payload: message().payload,
    meta: null,
    customMessageType: null,
    type: 4,
    store: true,
    expiresAtMs: clock.nowMs() + 24 * 3_600_000,
  });
  await service.publish(message({ ttlHours: 2, meta: '{"k":1}', customMessageType: 'file-share' }));
  assert.equal(published[1].expiresAtMs, clock.nowMs() + 2 * 3_600_000);
  assert.equal(published[1].meta, '{"k":1}');
  assert.equal(published[1].customMessageType, 'file-share');
  await service.publish(message({ store: false }));
  assert.equal(published[2].expiresAtMs, null, 'not stored: nothing expires');
  // An encrypted file message is a JSON string the server cannot look into.
  await service.publish(message({ payload: '"c2VjcmV0"' }));
  assert.equal(published.length, 4);
});

test('publish refuses a payload that is not JSON or names no file, and publishes nothing', async () => {
  const { service, published } = setup();
  await assert.rejects(service.publish(message({ payload: '{nope' })), { code: 'INVALID_JSON', message: 'Invalid JSON in message' });
  for (const payload of ['{"message":"hi"}', '{"file":{"id":"x"}}', '{"file":{"id":1,"name":"a"}}', 'null', '3']) {
    await assert.rejects(service.publish(message({ payload })), { code: 'INVALID_PARAM', message: 'a file message needs file.id and file.name' }, payload);
  }
  assert.equal(published.length, 0);
});

test('without a retention, a stored file message without ttl does not expire', async () => {
  const { service, published } = setup(0);
  await service.publish(message());
  assert.equal(published[0].expiresAtMs, null);
});
