import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KICK_RETENTION_MS, type DenyListEntry, type KickEntry } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const NOW = 1_700_000_000_000;

function byKeysetAndUuid(entries: KickEntry[]): KickEntry[] {
  const key = (e: KickEntry) => `${e.subscribeKey}\n${e.uuid}`;
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function sorted(entries: DenyListEntry[]): DenyListEntry[] {
  const key = (e: DenyListEntry) => `${e.subscribeKey}\n${e.tokenId}`;
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function denyListContract(options: ContractOptions): void {
  describe(`${options.name}: DenyList`, { skip: options.skip }, () => {
    test('has is true for an added token only, within its keyset', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 1000 });
      assert.equal(await denyList.has(SUB, 'aa11', NOW), true);
      assert.equal(await denyList.has(SUB, 'bb22', NOW), false);
      assert.equal(await denyList.has(OTHER_SUB, 'aa11', NOW), false);
    });

    test('an entry stops matching once expiresAtMs <= nowMs', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW });
      await denyList.add({ subscribeKey: SUB, tokenId: 'bb22', expiresAtMs: NOW + 0.5 });
      assert.equal(await denyList.has(SUB, 'aa11', NOW - 1), true);
      assert.equal(await denyList.has(SUB, 'aa11', NOW), false);
      assert.equal(await denyList.has(SUB, 'bb22', NOW), true);
      assert.equal(await denyList.has(SUB, 'bb22', NOW + 0.5), false);
    });

    test('adding a token again keeps the later expiry', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 1000 });
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW - 1000 });
      assert.equal(await denyList.has(SUB, 'aa11', NOW + 999), true);
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 5000 });
      assert.equal(await denyList.has(SUB, 'aa11', NOW + 4999), true);
      assert.deepEqual(await denyList.list(NOW), [{ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 5000 }]);
    });

    test('list returns the unexpired entries of every keyset', async (t) => {
      const { denyList } = await freshStores(t, options);
      const live = [
        { subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 1 },
        { subscribeKey: OTHER_SUB, tokenId: 'aa11', expiresAtMs: NOW + 2 },
        { subscribeKey: SUB, tokenId: 'cc33', expiresAtMs: NOW + 3 },
      ];
      for (const e of live) await denyList.add(e);
      await denyList.add({ subscribeKey: SUB, tokenId: 'dead', expiresAtMs: NOW });
      assert.deepEqual(sorted(await denyList.list(NOW)), sorted([...live]));
      assert.equal((await denyList.list(NOW - 1)).length, 4);
    });

    test('epoch: the first call records its proposal (rounded up to a whole ms); later calls return it, whatever they propose', async (t) => {
      const { denyList } = await freshStores(t, options);
      assert.equal(await denyList.epoch(NOW + 0.25), NOW + 1);
      assert.equal(await denyList.epoch(NOW + 5000), NOW + 1);
      assert.equal(await denyList.epoch(0), NOW + 1);
    });

    test('epoch: concurrent first calls record exactly one of the proposals and all resolve with it', async (t) => {
      const { denyList } = await freshStores(t, options);
      const proposals = Array.from({ length: 8 }, (_, i) => NOW + i * 1000);
      const answers = await Promise.all(proposals.map((p) => denyList.epoch(p)));
      assert.equal(new Set(answers).size, 1, `answers: ${answers.join(', ')}`);
      assert.ok(proposals.includes(answers[0]));
    });

    test('epoch: adding, listing and purging revocations leave it alone', async (t) => {
      const { denyList } = await freshStores(t, options);
      const epoch = await denyList.epoch(NOW);
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 10 });
      await denyList.purgeExpired(NOW + 20);
      assert.deepEqual(await denyList.list(0), []);
      assert.equal(await denyList.epoch(NOW + 99_000), epoch);
    });

    test('kicks: listed per keyset and uuid while in force; kicking again keeps the later time', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.addKick({ subscribeKey: SUB, uuid: 'mallory', kickedAtMs: NOW });
      await denyList.addKick({ subscribeKey: OTHER_SUB, uuid: 'mallory', kickedAtMs: NOW + 5 });
      await denyList.addKick({ subscribeKey: SUB, uuid: 'eve', kickedAtMs: NOW + 0.5 });
      await denyList.addKick({ subscribeKey: SUB, uuid: 'mallory', kickedAtMs: NOW + 10 });
      await denyList.addKick({ subscribeKey: SUB, uuid: 'mallory', kickedAtMs: NOW - 1000 });
      assert.deepEqual(byKeysetAndUuid(await denyList.listKicks(NOW)), [
        { subscribeKey: SUB, uuid: 'eve', kickedAtMs: NOW + 0.5 },
        { subscribeKey: SUB, uuid: 'mallory', kickedAtMs: NOW + 10 },
        { subscribeKey: OTHER_SUB, uuid: 'mallory', kickedAtMs: NOW + 5 },
      ]);
      // Revocations and kicks are separate lists.
      assert.deepEqual(await denyList.list(0), []);
      assert.equal(await denyList.has(SUB, 'mallory', 0), false);
    });

    test('kicks: kept for KICK_RETENTION_MS, then no longer listed and purged with the revocations', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.addKick({ subscribeKey: SUB, uuid: 'old', kickedAtMs: NOW });
      await denyList.addKick({ subscribeKey: SUB, uuid: 'new', kickedAtMs: NOW + 1000 });
      await denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 10 });
      const edge = NOW + KICK_RETENTION_MS;
      assert.deepEqual((await denyList.listKicks(edge - 1)).map((k) => k.uuid).sort(), ['new', 'old']);
      assert.deepEqual(
        (await denyList.listKicks(edge)).map((k) => k.uuid),
        ['new'],
      );
      assert.equal(await denyList.purgeExpired(edge), 2, 'the old kick and the expired revocation');
      assert.deepEqual(await denyList.listKicks(0), [{ subscribeKey: SUB, uuid: 'new', kickedAtMs: NOW + 1000 }]);
      assert.equal(await denyList.purgeExpired(edge), 0);
    });

    test('kicks: names of any shape (a uuid is client-chosen text)', async (t) => {
      const { denyList } = await freshStores(t, options);
      const odd = ['a:b{c}', 'ü ñ 🚀', '%41', '"quoted"\n'];
      for (const uuid of odd) await denyList.addKick({ subscribeKey: SUB, uuid, kickedAtMs: NOW });
      assert.deepEqual((await denyList.listKicks(NOW)).map((k) => k.uuid).sort(), [...odd].sort());
    });

    test('purgeExpired removes expired entries and reports how many', async (t) => {
      const { denyList } = await freshStores(t, options);
      await denyList.add({ subscribeKey: SUB, tokenId: 'old', expiresAtMs: NOW - 10 });
      await denyList.add({ subscribeKey: OTHER_SUB, tokenId: 'edge', expiresAtMs: NOW });
      await denyList.add({ subscribeKey: SUB, tokenId: 'live', expiresAtMs: NOW + 10 });
      assert.equal(await denyList.purgeExpired(NOW), 2);
      assert.equal(await denyList.purgeExpired(NOW), 0);
      assert.deepEqual(await denyList.list(0), [{ subscribeKey: SUB, tokenId: 'live', expiresAtMs: NOW + 10 }]);
      assert.equal(await denyList.has(SUB, 'old', 0), false);
    });
  });
}
