import { channelGroupStoreContract } from './channel-group-store.contract.ts';
import type { ContractOptions } from './contract-options.ts';
import { denyListContract } from './deny-list.contract.ts';
import { fileStoreContract } from './file-store.contract.ts';
import { grantStoreContract } from './grant-store.contract.ts';
import { healthContract } from './health.contract.ts';
import { messageActionStoreContract } from './message-action-store.contract.ts';
import { messageStoreContract } from './message-store.contract.ts';
import { objectStoreContract } from './object-store.contract.ts';
import { presenceStoreContract } from './presence-store.contract.ts';
import { secretRotationStoreContract } from './secret-rotation-store.contract.ts';

/** Every store interface's contract suite: one call per engine runner, so no engine can miss one. */
export function storesContract(options: ContractOptions): void {
  messageStoreContract(options);
  channelGroupStoreContract(options);
  grantStoreContract(options);
  denyListContract(options);
  secretRotationStoreContract(options);
  presenceStoreContract(options);
  objectStoreContract(options);
  messageActionStoreContract(options);
  fileStoreContract(options);
  healthContract(options);
}
