import type { TestContext } from 'node:test';
import type { Stores } from '../../src/store/types.ts';

/** A fresh, empty engine for one test; cleanup closes it and removes whatever it left on disk. */
export interface StoresFixture {
  stores: Stores;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Backend name, shown in the test titles. */
  name: string;
  create: () => Promise<StoresFixture>;
  /** Reason to skip the whole suite (e.g. no Redis reachable); production backends should have none. */
  skip?: string;
}

/** Creates a fresh engine and registers its cleanup on the test. */
export async function freshStores(t: TestContext, options: ContractOptions): Promise<Stores> {
  const fixture = await options.create();
  t.after(() => fixture.cleanup());
  return fixture.stores;
}
