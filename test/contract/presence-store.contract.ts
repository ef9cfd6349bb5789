import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PresenceEntry } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const NOW = 1_700_000_000_000;

function byChannelThenUuid(entries: PresenceEntry[]): PresenceEntry[] {
  return entries.sort((a, b) => (a.channel === b.channel ? (a.uuid < b.uuid ? -1 : 1) : a.channel < b.channel ? -1 : 1));
}

export function presenceStoreContract(options: ContractOptions): void {
  describe(`${options.name}: PresenceStore`, { skip: options.skip }, () => {
    test('touch reports a new presence as true and a refresh as false', async (t) => {
      const { presence } = await freshStores(t, options);
      assert.equal(await presence.touch(SUB, 'lobby', 'alice', NOW + 300_000), true);
      assert.equal(await presence.touch(SUB, 'lobby', 'alice', NOW + 310_000), false);
      assert.equal(await presence.touch(SUB, 'kitchen', 'alice', NOW + 300_000), true);
      assert.equal(await presence.touch(SUB, 'lobby', 'bob', NOW + 300_000), true);
      assert.equal(await presence.touch(OTHER_SUB, 'lobby', 'alice', NOW + 300_000), true);
    });

    test('occupants, channels and channelsOf are sorted and keyset-scoped', async (t) => {
      const { presence } = await freshStores(t, options);
      for (const [channel, uuid] of [
        ['lobby', 'carol'],
        ['lobby', 'alice'],
        ['attic', 'alice'],
        ['lobby', 'bob'],
        ['zoo', 'alice'],
      ]) {
        await presence.touch(SUB, channel, uuid, NOW + 1000);
      }
      await presence.touch(OTHER_SUB, 'other', 'alice', NOW + 1000);
      assert.deepEqual(await presence.occupants(SUB, 'lobby'), ['alice', 'bob', 'carol']);
      assert.deepEqual(await presence.occupants(SUB, 'empty'), []);
      assert.deepEqual(await presence.channels(SUB), ['attic', 'lobby', 'zoo']);
      assert.deepEqual(await presence.channelsOf(SUB, 'alice'), ['attic', 'lobby', 'zoo']);
      assert.deepEqual(await presence.channelsOf(SUB, 'nobody'), []);
      assert.deepEqual(await presence.channels(OTHER_SUB), ['other']);
      assert.deepEqual(await presence.occupants(OTHER_SUB, 'lobby'), []);
    });

    test('occupancy counts what occupants lists, through touches, refreshes, removes and expiry', async (t) => {
      const { presence } = await freshStores(t, options);
      const agree = async (channel: string, expected: number) => {
        assert.equal(await presence.occupancy(SUB, channel), expected, `${channel}: occupancy`);
        assert.equal((await presence.occupants(SUB, channel)).length, expected, `${channel}: occupants`);
      };
      await agree('lobby', 0);
      for (const uuid of ['a', 'b', 'c', 'd']) await presence.touch(SUB, 'lobby', uuid, NOW + (uuid === 'd' ? 500 : 5000));
      await presence.touch(SUB, 'lobby', 'a', NOW + 6000); // a refresh is not a new occupant
      await presence.touch(OTHER_SUB, 'lobby', 'z', NOW + 5000); // another keyset's
      await agree('lobby', 4);
      await presence.remove(SUB, 'lobby', 'b');
      await agree('lobby', 3);
      await presence.expire(NOW + 1000); // d
      await agree('lobby', 2);
      await presence.expire(NOW + 10_000);
      await agree('lobby', 0);
      assert.equal(await presence.occupancy(OTHER_SUB, 'lobby'), 0, 'expired in every keyset');
    });

    test('remove reports whether the uuid was present and updates every view', async (t) => {
      const { presence } = await freshStores(t, options);
      await presence.touch(SUB, 'lobby', 'alice', NOW + 1000);
      await presence.touch(SUB, 'attic', 'alice', NOW + 1000);
      await presence.touch(SUB, 'attic', 'bob', NOW + 1000);
      assert.equal(await presence.remove(SUB, 'lobby', 'alice'), true);
      assert.equal(await presence.remove(SUB, 'lobby', 'alice'), false);
      assert.equal(await presence.remove(OTHER_SUB, 'attic', 'bob'), false);
      assert.deepEqual(await presence.occupants(SUB, 'lobby'), []);
      assert.deepEqual(await presence.channels(SUB), ['attic']);
      assert.deepEqual(await presence.channelsOf(SUB, 'alice'), ['attic']);
      assert.equal(await presence.touch(SUB, 'lobby', 'alice', NOW + 1000), true);
    });

    test('expire removes and returns exactly the entries due, with their expiry', async (t) => {
      const { presence } = await freshStores(t, options);
      await presence.touch(SUB, 'lobby', 'alice', NOW - 1);
      await presence.touch(SUB, 'lobby', 'bob', NOW);
      await presence.touch(SUB, 'lobby', 'carol', NOW + 1);
      await presence.touch(OTHER_SUB, 'attic', 'alice', NOW - 5);
      const expired = byChannelThenUuid(await presence.expire(NOW));
      assert.deepEqual(expired, [
        { subscribeKey: OTHER_SUB, channel: 'attic', uuid: 'alice', expiresAtMs: NOW - 5 },
        { subscribeKey: SUB, channel: 'lobby', uuid: 'alice', expiresAtMs: NOW - 1 },
        { subscribeKey: SUB, channel: 'lobby', uuid: 'bob', expiresAtMs: NOW },
      ]);
      assert.deepEqual(await presence.expire(NOW), []);
      assert.deepEqual(await presence.occupants(SUB, 'lobby'), ['carol']);
      assert.deepEqual(await presence.channels(OTHER_SUB), []);
      assert.deepEqual(await presence.channelsOf(SUB, 'alice'), []);
      assert.equal(await presence.touch(SUB, 'lobby', 'alice', NOW + 1000), true);
    });

    test('a refresh moves the expiry later or earlier', async (t) => {
      const { presence } = await freshStores(t, options);
      await presence.touch(SUB, 'lobby', 'alice', NOW + 10);
      await presence.touch(SUB, 'lobby', 'alice', NOW + 100);
      await presence.touch(SUB, 'lobby', 'bob', NOW + 100);
      await presence.touch(SUB, 'lobby', 'bob', NOW + 5);
      assert.deepEqual(await presence.expire(NOW + 10), [{ subscribeKey: SUB, channel: 'lobby', uuid: 'bob', expiresAtMs: NOW + 5 }]);
      assert.deepEqual(await presence.occupants(SUB, 'lobby'), ['alice']);
      assert.deepEqual(await presence.expire(NOW + 99), []);
      assert.deepEqual(await presence.expire(NOW + 100), [{ subscribeKey: SUB, channel: 'lobby', uuid: 'alice', expiresAtMs: NOW + 100 }]);
      assert.deepEqual(await presence.expire(NOW + 1000), []);
    });

    test('state is per (channel, uuid), copied, cleared by null, kept by remove and by expiry', async (t) => {
      const { presence } = await freshStores(t, options);
      assert.equal(await presence.getState(SUB, 'lobby', 'alice'), undefined);
      await presence.touch(SUB, 'lobby', 'alice', NOW + 10);
      const state = { mood: 'happy', nested: { level: 2 } };
      await presence.setState(SUB, 'lobby', 'alice', state);
      state.nested.level = 99;
      const read = await presence.getState(SUB, 'lobby', 'alice');
      assert.deepEqual(read, { mood: 'happy', nested: { level: 2 } });
      (read as { mood: string }).mood = 'mutated';
      assert.deepEqual(await presence.getState(SUB, 'lobby', 'alice'), { mood: 'happy', nested: { level: 2 } });
      assert.equal(await presence.getState(SUB, 'attic', 'alice'), undefined);
      assert.equal(await presence.getState(OTHER_SUB, 'lobby', 'alice'), undefined);

      await presence.remove(SUB, 'lobby', 'alice');
      assert.deepEqual(await presence.getState(SUB, 'lobby', 'alice'), { mood: 'happy', nested: { level: 2 } });
      await presence.setState(SUB, 'lobby', 'alice', null);
      assert.equal(await presence.getState(SUB, 'lobby', 'alice'), undefined);

      await presence.touch(SUB, 'lobby', 'bob', NOW + 10);
      await presence.setState(SUB, 'lobby', 'bob', { x: 1 });
      assert.equal((await presence.expire(NOW + 10)).length, 1);
      assert.deepEqual(await presence.occupants(SUB, 'lobby'), []);
      // The caller may re-touch a uuid it knows is still connected: its state must still be there.
      assert.deepEqual(await presence.getState(SUB, 'lobby', 'bob'), { x: 1 });
    });
  });
}
