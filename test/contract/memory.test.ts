import { createMemoryStores } from '../../src/store/memory/index.ts';
import { brokerContract } from './broker.contract.ts';
import { nodeFromConfig, type ContractOptions } from './contract-options.ts';
import { storesContract } from './stores.contract.ts';

const options: ContractOptions = {
  name: 'memory',
  create: async () => {
    const stores = createMemoryStores();
    return { stores, cleanup: () => stores.close() };
  },
};

storesContract(options);

brokerContract({
  name: 'memory',
  singleNode: 'a memory engine is one node: its history lives in that process',
  create: async (clock, count) => {
    if (count !== 1) throw new Error(`the memory engine has one node (asked for ${count})`);
    const node = nodeFromConfig({ store: { kind: 'memory' }, redis: { url: '', prefix: 'parley' }, dataDir: '.' }, clock);
    return { nodes: [node], cleanup: () => node.close() };
  },
});
