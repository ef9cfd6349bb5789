import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelGroupService, MEMBERSHIP_CACHE_MAX } from '../../../src/realtime/channel-groups.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';

/** The store's listChannels, counted. */
function setup() {
  const { channelGroups } = createMemoryStores();
  let reads = 0;
  const listChannels = channelGroups.listChannels.bind(channelGroups);
  channelGroups.listChannels = (...args: Parameters<typeof listChannels>) => {
    reads++;
    return listChannels(...args);
  };
  return { service: new ChannelGroupService(channelGroups), reads: () => reads };
}

test('memberships are cached per group, and a change is read again', async () => {
  const { service, reads } = setup();
  await service.add('k', 'g', ['a', 'b']);
  assert.deepEqual(await service.members('k', 'g'), ['a', 'b']);
  assert.deepEqual(await service.members('k', 'g'), ['a', 'b']);
  assert.equal(reads(), 1);
  await service.add('k', 'g', ['c']);
  assert.deepEqual(await service.members('k', 'g'), ['a', 'b', 'c']);
  assert.equal(reads(), 2);
});

test('the cache holds at most MEMBERSHIP_CACHE_MAX groups (any client may name groups that do not exist), dropping the least recently used', async () => {
  const { service, reads } = setup();
  await service.members('k', 'kept');
  for (let i = 0; i < MEMBERSHIP_CACHE_MAX + 500; i++) {
    await service.members('k', `nonexistent-${i}`);
    // A group in use stays: it is used again before it becomes the oldest.
    if (i % 1000 === 0) await service.members('k', 'kept');
  }
  assert.equal(service.cachedGroups, MEMBERSHIP_CACHE_MAX);
  const before = reads();
  await service.members('k', 'kept');
  assert.equal(reads(), before, 'the group used recently is still cached');
  await service.members('k', 'nonexistent-0');
  assert.equal(reads(), before + 1, 'the oldest was dropped');
});
