import { MAX_SECRET_ROTATIONS, type SecretRotationRecord, type SecretRotationStore } from '../types.ts';

/** Rotations in process memory: lost with the process (a restart applies the config's secrets only). */
export class MemorySecretRotationStore implements SecretRotationStore {
  private readonly keysets = new Map<string, SecretRotationRecord[]>();

  async append(record: SecretRotationRecord): Promise<void> {
    let list = this.keysets.get(record.subscribeKey);
    if (list === undefined) this.keysets.set(record.subscribeKey, (list = []));
    list.push({ ...record });
    if (list.length > MAX_SECRET_ROTATIONS) list.splice(0, list.length - MAX_SECRET_ROTATIONS);
  }

  async list(subscribeKey: string): Promise<SecretRotationRecord[]> {
    return (this.keysets.get(subscribeKey) ?? []).map((r) => ({ ...r }));
  }
}
