import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MembershipRecord, PageFrom } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';
import { objectRecord } from '../helpers/object-records.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';

const record = objectRecord;

function membership(uuid: string, channel: string, overrides: Partial<MembershipRecord> = {}): MembershipRecord {
  return { uuid, channel, status: null, type: null, custom: null, updated: '2024-01-02T03:04:05.678Z', eTag: `m-${uuid}-${channel}`, ...overrides };
}

export function objectStoreContract(options: ContractOptions): void {
  describe(`${options.name}: ObjectStore`, { skip: options.skip }, () => {
    test('put then get returns the record exactly; an unknown id is undefined', async (t) => {
      const { objects } = await freshStores(t, options);
      const full = record('alice', {
        externalId: 'ext-1',
        profileUrl: 'https://example.com/a.png',
        email: 'a@example.com',
        status: 'active',
        type: 'admin',
        custom: { role: 'admin', score: 12.5, big: 9007199254740991, on: true, none: null, ключ: 'значение 😀' },
      });
      assert.equal(await objects.put(SUB, 'uuid', full), true);
      assert.deepEqual(await objects.get(SUB, 'uuid', 'alice'), full);
      assert.equal(await objects.get(SUB, 'uuid', 'bob'), undefined);
      assert.equal(await objects.get(SUB, 'channel', 'alice'), undefined, 'kinds are separate');
      assert.equal(await objects.get(OTHER_SUB, 'uuid', 'alice'), undefined, 'keysets are separate');
      const channel = record('general', { description: 'the lobby' });
      await objects.put(SUB, 'channel', channel);
      assert.deepEqual(await objects.get(SUB, 'channel', 'general'), channel);
    });

    test('put without a check replaces; stored records never alias the caller', async (t) => {
      const { objects } = await freshStores(t, options);
      const first = record('a', { custom: { x: 1 } });
      await objects.put(SUB, 'uuid', first);
      first.custom!.x = 99;
      first.name = 'mutated after put';
      const read = await objects.get(SUB, 'uuid', 'a');
      assert.deepEqual(read, record('a', { custom: { x: 1 } }));
      read!.custom!.x = 42;
      assert.deepEqual((await objects.get(SUB, 'uuid', 'a'))!.custom, { x: 1 });
      const second = record('a', { name: null, eTag: 'etag-2' });
      assert.equal(await objects.put(SUB, 'uuid', second), true);
      assert.deepEqual(await objects.get(SUB, 'uuid', 'a'), second);
    });

    test('put with an expected eTag is a compare-and-set', async (t) => {
      const { objects } = await freshStores(t, options);
      const v1 = record('ch', { eTag: 'v1' });
      assert.equal(await objects.put(SUB, 'channel', v1, 'v0'), false, 'no record has eTag v0');
      assert.equal(await objects.get(SUB, 'channel', 'ch'), undefined);
      assert.equal(await objects.put(SUB, 'channel', v1, null), true, 'null: only when absent');
      assert.equal(await objects.put(SUB, 'channel', record('ch', { eTag: 'other' }), null), false);
      const v2 = record('ch', { name: 'two', eTag: 'v2' });
      assert.equal(await objects.put(SUB, 'channel', v2, 'stale'), false);
      assert.deepEqual(await objects.get(SUB, 'channel', 'ch'), v1, 'a failed check stores nothing');
      assert.equal(await objects.put(SUB, 'channel', v2, 'v1'), true);
      assert.deepEqual(await objects.get(SUB, 'channel', 'ch'), v2);
    });

    test('concurrent compare-and-sets on one record: exactly one wins', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.put(SUB, 'uuid', record('u', { eTag: 'base' }));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => objects.put(SUB, 'uuid', record('u', { name: `w${i}`, eTag: `e${i}` }), 'base')));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await objects.get(SUB, 'uuid', 'u'))!.name, `w${winner}`);
    });

    test('list returns every record of a kind sorted by code point (UTF-8 byte order, not UTF-16 units)', async (t) => {
      const { objects } = await freshStores(t, options);
      for (const id of ['\uFF5E', '😀', 'b', 'B', 'a', 'é']) await objects.put(SUB, 'uuid', record(id));
      await objects.put(SUB, 'channel', record('only-channel'));
      await objects.put(OTHER_SUB, 'uuid', record('elsewhere'));
      assert.deepEqual(
        (await objects.list(SUB, 'uuid')).map((r) => r.id),
        ['B', 'a', 'b', 'é', '\uFF5E', '😀'],
      );
      assert.deepEqual(await objects.list(SUB, 'channel'), [record('only-channel')]);
      assert.deepEqual(await objects.list('sub-empty', 'uuid'), []);
    });

    test('page reads a kind in id (code point) order from the start, after an id or before one, and count counts it', async (t) => {
      const { objects } = await freshStores(t, options);
      const ids = ['\uFF5E', '😀', 'b', 'B', 'a', 'é', 'a1', 'a10', 'a2'];
      for (const id of ids) await objects.put(SUB, 'uuid', record(id));
      await objects.put(SUB, 'channel', record('not-a-uuid'));
      await objects.put(OTHER_SUB, 'uuid', record('elsewhere'));
      const order = ['B', 'a', 'a1', 'a10', 'a2', 'b', 'é', '\uFF5E', '😀'];
      const seen = async (from: PageFrom | null, limit: number) => {
        const p = await objects.page(SUB, 'uuid', from, limit);
        return [p.records.map((r) => r.id).join(' '), p.hasBefore, p.hasAfter];
      };
      assert.deepEqual(await seen(null, 3), ['B a a1', false, true]);
      assert.deepEqual(await seen({ after: 'a1' }, 3), ['a10 a2 b', true, true]);
      assert.deepEqual(await seen({ after: 'a15' }, 3), ['a2 b é', true, true], 'after an id that is not stored');
      assert.deepEqual(await seen({ after: 'é' }, 3), ['\uFF5E 😀', true, false]);
      assert.deepEqual(await seen({ after: '😀' }, 3), ['', false, false]);
      assert.deepEqual(await seen({ before: 'b' }, 3), ['a1 a10 a2', true, true]);
      assert.deepEqual(await seen({ before: 'a1' }, 3), ['B a', false, true]);
      assert.deepEqual(await seen({ before: 'B' }, 3), ['', false, false]);
      assert.deepEqual(await seen(null, 100), [order.join(' '), false, false]);
      assert.deepEqual((await objects.page(SUB, 'uuid', null, 1)).records, [record('B')], 'whole records');
      assert.equal(await objects.count(SUB, 'uuid'), ids.length);
      assert.equal(await objects.count(SUB, 'channel'), 1);
      assert.equal(await objects.count('sub-empty', 'uuid'), 0);
      assert.deepEqual(await objects.page('sub-empty', 'uuid', null, 10), { records: [], hasBefore: false, hasAfter: false });
      await objects.remove(SUB, 'uuid', 'a10');
      await objects.put(SUB, 'uuid', record('a3'));
      assert.deepEqual(await seen({ after: 'a1' }, 3), ['a2 a3 b', true, true], 'puts and removes reach the order at once');
      assert.equal(await objects.count(SUB, 'uuid'), ids.length);
    });

    test('membershipPage reads a side in the other id order, from the start, after or before an id; membershipCount counts it', async (t) => {
      const { objects } = await freshStores(t, options);
      const channels = ['\uFF5E', '😀', 'b', 'B', 'a', 'a1'];
      await objects.putMemberships(SUB, [...channels.map((c) => membership('alice', c)), membership('bob', 'a'), membership('carol', 'a')]);
      const seen = async (side: 'uuid' | 'channel', id: string, from: PageFrom | null, limit: number) => {
        const p = await objects.membershipPage(SUB, side, id, from, limit);
        return [p.records.map((m) => (side === 'uuid' ? m.channel : m.uuid)).join(' '), p.hasBefore, p.hasAfter];
      };
      assert.deepEqual(await seen('uuid', 'alice', null, 2), ['B a', false, true]);
      assert.deepEqual(await seen('uuid', 'alice', { after: 'a' }, 2), ['a1 b', true, true]);
      assert.deepEqual(await seen('uuid', 'alice', { after: 'b' }, 5), ['\uFF5E 😀', true, false]);
      assert.deepEqual(await seen('uuid', 'alice', { before: 'a1' }, 5), ['B a', false, true]);
      assert.deepEqual(await seen('channel', 'a', null, 5), ['alice bob carol', false, false]);
      assert.deepEqual(await seen('channel', 'a', { before: 'bob' }, 5), ['alice', false, true]);
      assert.deepEqual(await seen('uuid', 'nobody', null, 5), ['', false, false]);
      assert.deepEqual((await objects.membershipPage(SUB, 'channel', 'a', { after: 'alice' }, 1)).records, [membership('bob', 'a')], 'whole records');
      assert.equal(await objects.membershipCount(SUB, 'uuid', 'alice'), channels.length);
      assert.equal(await objects.membershipCount(SUB, 'channel', 'a'), 3);
      assert.equal(await objects.membershipCount(OTHER_SUB, 'channel', 'a'), 0);
      await objects.removeMemberships(SUB, [{ uuid: 'bob', channel: 'a' }]);
      await objects.remove(SUB, 'uuid', 'carol');
      assert.deepEqual(await seen('channel', 'a', null, 5), ['alice', false, false], 'removals reach the order at once');
      await objects.remove(SUB, 'channel', 'a1');
      assert.deepEqual(await seen('uuid', 'alice', { after: 'a' }, 2), ['b \uFF5E', true, true], 'and a removed channel leaves its members');
      assert.equal(await objects.membershipCount(SUB, 'uuid', 'alice'), channels.length - 1);
    });

    test('membership reads one pair', async (t) => {
      const { objects } = await freshStores(t, options);
      const m = membership('alice', 'room', { status: 'active', custom: { n: 1 } });
      await objects.putMemberships(SUB, [m, membership('alice', 'hall'), membership('bob', 'room')]);
      assert.deepEqual(await objects.membership(SUB, 'alice', 'room'), m);
      assert.equal(await objects.membership(SUB, 'room', 'alice'), undefined, 'uuid first, channel second');
      assert.equal(await objects.membership(SUB, 'carol', 'room'), undefined);
      assert.equal(await objects.membership(OTHER_SUB, 'alice', 'room'), undefined);
      await objects.removeMemberships(SUB, [{ uuid: 'alice', channel: 'room' }]);
      assert.equal(await objects.membership(SUB, 'alice', 'room'), undefined);
      assert.deepEqual(await objects.membership(SUB, 'bob', 'room'), membership('bob', 'room'));
    });

    test('memberships are visible from both sides, sorted by the other id', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.putMemberships(SUB, [
        membership('alice', 'zeta', { status: 'active', type: 'owner', custom: { lastRead: '17000000000000000' } }),
        membership('alice', 'alpha'),
        membership('bob', 'alpha', { custom: { n: 1 } }),
      ]);
      assert.deepEqual(
        (await objects.memberships(SUB, 'uuid', 'alice')).map((m) => m.channel),
        ['alpha', 'zeta'],
      );
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'alice'), [
        membership('alice', 'alpha'),
        membership('alice', 'zeta', { status: 'active', type: 'owner', custom: { lastRead: '17000000000000000' } }),
      ]);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'alpha'), [membership('alice', 'alpha'), membership('bob', 'alpha', { custom: { n: 1 } })]);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'nobody-here'), []);
      assert.deepEqual(await objects.memberships(OTHER_SUB, 'uuid', 'alice'), []);
    });

    test('putMemberships replaces a pair, and within one call the later record wins', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.putMemberships(SUB, [membership('u', 'c', { status: 'one' })]);
      await objects.putMemberships(SUB, [membership('u', 'c', { status: 'two' }), membership('u', 'c', { status: 'three', eTag: 'e3' })]);
      const expected = [membership('u', 'c', { status: 'three', eTag: 'e3' })];
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u'), expected);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c'), expected);
      await objects.putMemberships(SUB, []);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u'), expected);
    });

    test('removeMemberships removes both sides and ignores missing pairs', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.putMemberships(SUB, [membership('u1', 'c1'), membership('u1', 'c2'), membership('u2', 'c1')]);
      await objects.removeMemberships(SUB, [
        { uuid: 'u1', channel: 'c1' },
        { uuid: 'u9', channel: 'c9' },
      ]);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u1'), [membership('u1', 'c2')]);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c1'), [membership('u2', 'c1')]);
      await objects.removeMemberships(SUB, [{ uuid: 'u1', channel: 'c2' }]);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u1'), []);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c2'), []);
    });

    test('removing a uuid removes its record and its memberships on both sides, nothing else', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.put(SUB, 'uuid', record('alice'));
      await objects.put(SUB, 'uuid', record('bob'));
      await objects.put(SUB, 'channel', record('c1'));
      await objects.putMemberships(SUB, [membership('alice', 'c1'), membership('alice', 'c2'), membership('bob', 'c1')]);
      await objects.putMemberships(OTHER_SUB, [membership('alice', 'c1')]);
      assert.equal(await objects.remove(SUB, 'uuid', 'alice'), true);
      assert.equal(await objects.get(SUB, 'uuid', 'alice'), undefined);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'alice'), []);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c1'), [membership('bob', 'c1')]);
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c2'), []);
      assert.deepEqual(await objects.get(SUB, 'channel', 'c1'), record('c1'), 'the channel record stays');
      assert.deepEqual(await objects.memberships(OTHER_SUB, 'uuid', 'alice'), [membership('alice', 'c1')]);
      assert.equal(await objects.remove(SUB, 'uuid', 'alice'), false);
    });

    test('removing a channel removes its members; memberships go even without a record', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.putMemberships(SUB, [membership('u1', 'c'), membership('u2', 'c'), membership('u1', 'd')]);
      assert.equal(await objects.remove(SUB, 'channel', 'c'), false, 'no channel record existed');
      assert.deepEqual(await objects.memberships(SUB, 'channel', 'c'), []);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u1'), [membership('u1', 'd')]);
      assert.deepEqual(await objects.memberships(SUB, 'uuid', 'u2'), []);
    });

    test('removal racing with new memberships leaves no membership behind on either side', async (t) => {
      const { objects } = await freshStores(t, options);
      await objects.put(SUB, 'uuid', record('u'));
      const writes = Array.from({ length: 20 }, (_, i) => objects.putMemberships(SUB, [membership('u', `c${i}`)]));
      await Promise.all([...writes, objects.remove(SUB, 'uuid', 'u')]);
      const left = await objects.memberships(SUB, 'uuid', 'u');
      for (const m of left) {
        assert.deepEqual(await objects.memberships(SUB, 'channel', m.channel), [m], `the two sides disagree on ${m.channel}`);
      }
      for (let i = 0; i < 20; i++) {
        const members = await objects.memberships(SUB, 'channel', `c${i}`);
        assert.equal(members.length, left.some((m) => m.channel === `c${i}`) ? 1 : 0);
      }
    });
  });
}
