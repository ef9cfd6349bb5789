import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshStores, type ContractOptions } from './contract-options.ts';

/** Stores.health (store/types.ts): ok while the engine serves, not ok (with a reason) once closed; never rejects. */
export function healthContract(options: ContractOptions): void {
  describe(`${options.name}: Stores.health`, { skip: options.skip }, () => {
    test('a fresh engine is ready', async (t) => {
      const stores = await freshStores(t, options);
      assert.deepEqual(await stores.health(), { ok: true });
    });

    test('a closed engine is not ready, says why in one line, and the check resolves rather than rejects', async (t) => {
      const stores = await freshStores(t, options);
      await stores.close();
      const report = await stores.health();
      assert.equal(report.ok, false);
      assert.equal(typeof report.reason, 'string');
      assert.ok(report.reason!.length > 0 && !report.reason!.includes('\n'), report.reason);
    });
  });
}
