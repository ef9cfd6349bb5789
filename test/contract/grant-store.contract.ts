import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GrantRecord, GrantStore } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const NOW = 1_700_000_000_000;

function grant(extra: Partial<GrantRecord> = {}): GrantRecord {
  return {
    subscribeKey: SUB,
    level: 'channel',
    resource: 'chat.lobby',
    authKey: 'alice-key',
    perms: 0b11,
    ttlMinutes: 0,
    expiresAtMs: null,
    ...extra,
  };
}

/** list() promises no order: compare sorted. */
async function listed(grants: GrantStore, nowMs = NOW, subscribeKey = SUB): Promise<GrantRecord[]> {
  const key = (g: GrantRecord) => JSON.stringify([g.level, g.resource, g.authKey]);
  return (await grants.list(subscribeKey, nowMs)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function grantStoreContract(options: ContractOptions): void {
  describe(`${options.name}: GrantStore`, { skip: options.skip }, () => {
    test('put then list returns the record exactly', async (t) => {
      const { grants } = await freshStores(t, options);
      const g = grant({ ttlMinutes: 60, expiresAtMs: NOW + 3_600_000.5 });
      await grants.put([g]);
      assert.deepEqual(await listed(grants), [g]);
    });

    test('level, resource and authKey each make a distinct grant', async (t) => {
      const { grants } = await freshStores(t, options);
      const all = [
        grant(),
        grant({ authKey: '' }),
        grant({ resource: 'chat.*' }),
        grant({ level: 'channel-group', resource: 'chat.lobby' }),
        grant({ level: 'uuid', resource: 'chat.lobby' }),
        grant({ level: 'subkey', resource: '', authKey: '' }),
      ];
      await grants.put(all);
      assert.equal((await listed(grants)).length, all.length);
    });

    test('put replaces the grant with the same key', async (t) => {
      const { grants } = await freshStores(t, options);
      await grants.put([grant({ perms: 1, ttlMinutes: 5, expiresAtMs: NOW + 300_000 })]);
      const replacement = grant({ perms: 0b101, ttlMinutes: 0, expiresAtMs: null });
      await grants.put([replacement]);
      assert.deepEqual(await listed(grants), [replacement]);
    });

    test('perms 0 withdraws the grant; withdrawing a missing grant is a no-op', async (t) => {
      const { grants } = await freshStores(t, options);
      const keep = grant({ authKey: 'bob-key' });
      await grants.put([grant(), keep]);
      await grants.put([grant({ perms: 0 }), grant({ resource: 'never-granted', perms: 0 })]);
      assert.deepEqual(await listed(grants), [keep]);
      await grants.put([grant({ perms: 0 }), grant({ perms: 7 })]);
      assert.deepEqual(
        await listed(grants),
        [keep, grant({ perms: 7 })].sort((a, b) => (a.authKey < b.authKey ? -1 : 1)),
      );
    });

    test('expired grants are invisible and purgeExpired removes them', async (t) => {
      const { grants } = await freshStores(t, options);
      const forever = grant({ resource: 'forever' });
      const later = grant({ resource: 'later', ttlMinutes: 1, expiresAtMs: NOW + 1 });
      await grants.put([
        forever,
        later,
        grant({ resource: 'now', ttlMinutes: 1, expiresAtMs: NOW }),
        grant({ resource: 'past', ttlMinutes: 1, expiresAtMs: NOW - 60_000 }),
      ]);
      assert.deepEqual(await listed(grants), [forever, later]);
      assert.equal((await listed(grants, NOW - 60_001)).length, 4);
      assert.equal(await grants.purgeExpired(NOW), 2);
      assert.equal(await grants.purgeExpired(NOW), 0);
      assert.deepEqual(await listed(grants, 0), [forever, later]);
    });

    test('keysets are isolated', async (t) => {
      const { grants } = await freshStores(t, options);
      const mine = grant();
      const theirs = grant({ subscribeKey: OTHER_SUB, perms: 1 });
      await grants.put([mine, theirs]);
      assert.deepEqual(await listed(grants), [mine]);
      assert.deepEqual(await listed(grants, NOW, OTHER_SUB), [theirs]);
      await grants.put([grant({ subscribeKey: OTHER_SUB, perms: 0 })]);
      assert.deepEqual(await listed(grants), [mine]);
      assert.deepEqual(await listed(grants, NOW, OTHER_SUB), []);
    });

    test('get answers the live grants of the named targets only, each once', async (t) => {
      const { grants } = await freshStores(t, options);
      const alice = grant();
      const everyone = grant({ authKey: '' });
      const wildcard = grant({ resource: 'chat.*', perms: 1, ttlMinutes: 5, expiresAtMs: NOW + 300_000.25 });
      const group = grant({ level: 'channel-group', resource: 'chat.lobby' });
      const expired = grant({ resource: 'old', ttlMinutes: 1, expiresAtMs: NOW });
      await grants.put([alice, everyone, wildcard, group, expired, grant({ subscribeKey: OTHER_SUB, resource: 'theirs' })]);
      const target = (g: GrantRecord) => ({ level: g.level, resource: g.resource, authKey: g.authKey });
      const got = await grants.get(
        SUB,
        [
          target(alice),
          target(wildcard),
          target(alice),
          target(expired),
          { level: 'uuid', resource: 'chat.lobby', authKey: 'alice-key' },
          { level: 'channel', resource: 'theirs', authKey: 'alice-key' },
          { level: 'channel', resource: 'chat.lobby', authKey: 'nobody' },
        ],
        NOW,
      );
      const key = (g: GrantRecord) => JSON.stringify([g.level, g.resource, g.authKey]);
      assert.deepEqual(
        got.sort((a, b) => (key(a) < key(b) ? -1 : 1)),
        [alice, wildcard].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
      );
      assert.deepEqual(await grants.get(SUB, [target(expired)], NOW - 1), [expired], 'live before its expiry');
      assert.deepEqual(await grants.get(SUB, [], NOW), []);
      assert.deepEqual(await grants.get('sub-none', [target(alice)], NOW), []);
      await grants.put([{ ...alice, perms: 0 }]);
      assert.deepEqual(await grants.get(SUB, [target(alice), target(everyone)], NOW), [everyone]);
    });

    test('get reads a target list larger than one round trip carries', async (t) => {
      const { grants } = await freshStores(t, options);
      const many = Array.from({ length: 2_500 }, (_, i) => grant({ resource: `ch.${i}` }));
      await grants.put(many);
      const asked = many.filter((_, i) => i % 2 === 0).map((g) => ({ level: g.level, resource: g.resource, authKey: g.authKey }));
      const got = await grants.get(SUB, [...asked, { level: 'channel', resource: 'ch.none', authKey: 'alice-key' }], NOW);
      assert.deepEqual(new Set(got.map((g) => g.resource)), new Set(asked.map((g) => g.resource)));
    });
  });
}
