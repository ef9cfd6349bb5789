import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SECRET_ROTATIONS, type SecretRotationRecord } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const NOW = 1_700_000_000_000;

function record(subscribeKey: string, i: number): SecretRotationRecord {
  return { subscribeKey, rotatedAtMs: NOW + i, previousValidUntilMs: NOW + i + 0.5, sealedNew: `new-${i}`, sealedPrevious: `prev-${i}` };
}

export function secretRotationStoreContract(options: ContractOptions): void {
  describe(`${options.name}: SecretRotationStore`, { skip: options.skip }, () => {
    test("list returns a keyset's rotations in the order they were appended, exactly as given", async (t) => {
      const { secretRotations } = await freshStores(t, options);
      assert.deepEqual(await secretRotations.list(SUB), []);
      const mine = [record(SUB, 3), record(SUB, 1), record(SUB, 2)];
      await secretRotations.append(mine[0]);
      await secretRotations.append(record(OTHER_SUB, 9));
      await secretRotations.append(mine[1]);
      await secretRotations.append(mine[2]);
      assert.deepEqual(await secretRotations.list(SUB), mine);
      assert.deepEqual(await secretRotations.list(OTHER_SUB), [record(OTHER_SUB, 9)]);
    });

    test(`only the newest ${MAX_SECRET_ROTATIONS} of a keyset are kept`, async (t) => {
      const { secretRotations } = await freshStores(t, options);
      for (let i = 0; i < MAX_SECRET_ROTATIONS + 3; i++) await secretRotations.append(record(SUB, i));
      const kept = await secretRotations.list(SUB);
      assert.equal(kept.length, MAX_SECRET_ROTATIONS);
      assert.deepEqual(kept[0], record(SUB, 3));
      assert.deepEqual(kept[kept.length - 1], record(SUB, MAX_SECRET_ROTATIONS + 2));
    });
  });
}
