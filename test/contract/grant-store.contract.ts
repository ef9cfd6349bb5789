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
  });
}
