import { ParleyError } from '../../errors.ts';
import { MAX_SECRET_ROTATIONS, type SecretRotationRecord, type SecretRotationStore } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { RedisKeys } from './keys.ts';

type Wire = [rotatedAtMs: number, previousValidUntilMs: number, sealedNew: string, sealedPrevious: string];

/** A LIST per keyset; RPUSH and LTRIM in one MULTI, so the newest MAX_SECRET_ROTATIONS are kept atomically. */
export class RedisSecretRotationStore implements SecretRotationStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async append(record: SecretRotationRecord): Promise<void> {
    const key = this.keys.keyset(record.subscribeKey).secretRotations;
    const wire: Wire = [record.rotatedAtMs, record.previousValidUntilMs, record.sealedNew, record.sealedPrevious];
    const replies = await this.connection.run('append rotation', (client) =>
      client.multi().rpush(key, JSON.stringify(wire)).ltrim(key, -MAX_SECRET_ROTATIONS, -1).exec(),
    );
    if (replies === null || replies.some(([err]) => err)) throw new ParleyError('STORE_UNAVAILABLE', 'redis append rotation failed: transaction aborted');
  }

  async list(subscribeKey: string): Promise<SecretRotationRecord[]> {
    const items = await this.connection.run('list rotations', (client) => client.lrange(this.keys.keyset(subscribeKey).secretRotations, 0, -1));
    return items.map((text) => {
      const [rotatedAtMs, previousValidUntilMs, sealedNew, sealedPrevious] = JSON.parse(text) as Wire;
      return { subscribeKey, rotatedAtMs, previousValidUntilMs, sealedNew, sealedPrevious };
    });
  }
}
