import type { Stores } from '../types.ts';
import { MemoryChannelGroupStore } from './channel-group-store.ts';
import { MemoryDenyList } from './deny-list.ts';
import { MemoryFileStore } from './file-store.ts';
import { MemoryGrantStore } from './grant-store.ts';
import { MemoryMessageActionStore } from './message-action-store.ts';
import { MemoryMessageStore } from './message-store.ts';
import { MemoryObjectStore } from './object-store.ts';
import { MemoryPresenceStore } from '../shared/memory-presence-store.ts';
import { MemorySecretRotationStore } from './secret-rotation-store.ts';

export { MemoryChannelGroupStore, MemoryDenyList, MemoryGrantStore, MemoryMessageStore, MemoryPresenceStore };
export { MemoryFileStore, MemoryMessageActionStore };
export { MemoryObjectStore, MemorySecretRotationStore };

/** Everything in process memory: nothing survives a restart. For tests, demos and single-node dev. */
export function createMemoryStores(): Stores {
  let isClosed = false;
  return {
    messages: new MemoryMessageStore(),
    channelGroups: new MemoryChannelGroupStore(),
    grants: new MemoryGrantStore(),
    denyList: new MemoryDenyList(),
    secretRotations: new MemorySecretRotationStore(),
    presence: new MemoryPresenceStore(),
    objects: new MemoryObjectStore(),
    messageActions: new MemoryMessageActionStore(),
    files: new MemoryFileStore(),
    health: async () => (isClosed ? { ok: false, reason: 'memory store is closed' } : { ok: true }),
    close: async () => {
      isClosed = true;
    },
  };
}
