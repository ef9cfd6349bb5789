import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';

export function channelGroupStoreContract(options: ContractOptions): void {
  describe(`${options.name}: ChannelGroupStore`, { skip: options.skip }, () => {
    test('add creates the group, is idempotent and returns the member count', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      assert.equal(await channelGroups.addChannels(SUB, 'cg1', ['ch2', 'ch1']), 2);
      assert.equal(await channelGroups.addChannels(SUB, 'cg1', ['ch1', 'ch2']), 2);
      assert.equal(await channelGroups.addChannels(SUB, 'cg1', ['ch3', 'ch1', 'ch3']), 3);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg1'), ['ch1', 'ch2', 'ch3']);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['cg1']);
    });

    test('with maxMembers, an add that would pass it adds nothing and resolves null, checked atomically', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      assert.equal(await channelGroups.addChannels(SUB, 'cg', ['a', 'b', 'c'], 5), 3);
      assert.equal(await channelGroups.addChannels(SUB, 'cg', ['c', 'd', 'e', 'd'], 5), 5, 'members already there and repeats count once');
      assert.equal(await channelGroups.addChannels(SUB, 'cg', ['f'], 5), null);
      assert.equal(await channelGroups.addChannels(SUB, 'cg', ['a', 'e'], 5), 5, 'adding members it has is no growth');
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg'), ['a', 'b', 'c', 'd', 'e']);
      assert.equal(await channelGroups.addChannels(SUB, 'fresh', ['x', 'y', 'z'], 2), null);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['cg'], 'a refused first add creates no group');
      // Two adds at once, each within the cap alone, together over it: exactly one is taken.
      const results = await Promise.all([
        channelGroups.addChannels(SUB, 'race', ['a', 'b', 'c'], 4),
        channelGroups.addChannels(SUB, 'race', ['d', 'e', 'f'], 4),
      ]);
      assert.deepEqual(results.filter((r) => r === null).length, 1, `one refused: ${JSON.stringify(results)}`);
      assert.equal((await channelGroups.listChannels(SUB, 'race')).length, 3);
    });

    test('adding no channels creates no group', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      assert.equal(await channelGroups.addChannels(SUB, 'cg1', []), 0);
      assert.deepEqual(await channelGroups.listGroups(SUB), []);
    });

    test('remove drops members, ignores non-members, and an emptied group vanishes', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      await channelGroups.addChannels(SUB, 'cg1', ['a', 'b', 'c']);
      await channelGroups.addChannels(SUB, 'cg2', ['a']);
      await channelGroups.removeChannels(SUB, 'cg1', ['b', 'not-a-member']);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg1'), ['a', 'c']);
      await channelGroups.removeChannels(SUB, 'cg1', ['a', 'c']);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg1'), []);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['cg2']);
      await channelGroups.removeChannels(SUB, 'never-existed', ['a']);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['cg2']);
      assert.equal(await channelGroups.addChannels(SUB, 'cg1', ['z']), 1);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg1'), ['z']);
    });

    test('an unknown group lists no channels', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'nope'), []);
    });

    test('listGroups is sorted and deleteGroup removes the whole group', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      for (const g of ['zeta', 'alpha', 'mid']) await channelGroups.addChannels(SUB, g, ['x', 'y']);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['alpha', 'mid', 'zeta']);
      await channelGroups.deleteGroup(SUB, 'mid');
      await channelGroups.deleteGroup(SUB, 'never-existed');
      assert.deepEqual(await channelGroups.listGroups(SUB), ['alpha', 'zeta']);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'mid'), []);
      assert.equal(await channelGroups.addChannels(SUB, 'mid', ['only']), 1);
    });

    test('names sort by UTF-16 code units in every backend', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      // U+FF5E sorts before U+1F600 as UTF-8 bytes but after it as UTF-16 units (surrogate D83D).
      await channelGroups.addChannels(SUB, 'cg', ['\uFF5E', '😀', 'B', 'a', 'é']);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg'), ['B', 'a', 'é', '😀', '\uFF5E']);
      await channelGroups.addChannels(SUB, '\uFF5E', ['x']);
      await channelGroups.addChannels(SUB, '😀', ['x']);
      assert.deepEqual(await channelGroups.listGroups(SUB), ['cg', '😀', '\uFF5E']);
    });

    test('keysets are isolated', async (t) => {
      const { channelGroups } = await freshStores(t, options);
      await channelGroups.addChannels(SUB, 'cg', ['a', 'b']);
      assert.equal(await channelGroups.addChannels(OTHER_SUB, 'cg', ['c']), 1);
      assert.deepEqual(await channelGroups.listChannels(OTHER_SUB, 'cg'), ['c']);
      await channelGroups.deleteGroup(OTHER_SUB, 'cg');
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg'), ['a', 'b']);
      assert.deepEqual(await channelGroups.listGroups(OTHER_SUB), []);
      await channelGroups.removeChannels(OTHER_SUB, 'cg', ['a']);
      assert.deepEqual(await channelGroups.listChannels(SUB, 'cg'), ['a', 'b']);
    });
  });
}
