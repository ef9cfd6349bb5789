import { createMemoryStores } from '../../src/store/memory/index.ts';
import type { ContractOptions } from './contract-options.ts';
import { storesContract } from './stores.contract.ts';

const options: ContractOptions = {
  name: 'memory',
  create: async () => {
    const stores = createMemoryStores();
    return { stores, cleanup: () => stores.close() };
  },
};

storesContract(options);
