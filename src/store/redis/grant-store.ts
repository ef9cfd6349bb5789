import type { GrantLevel, GrantRecord, GrantStore, GrantTarget } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import type { RedisKeys } from './keys.ts';
import { expiryArg } from './message-codec.ts';
import { SCRIPTS } from './scripts.ts';

type GrantField = [GrantLevel, string, string];
type GrantValue = [number, number, number | null];

/** Fields per HMGET: a large get() goes in several commands rather than one reply of any size. */
const GET_CHUNK = 1000;

/**
 * Grants of a keyset in one HASH (field JSON [level, resource, authKey], so any characters are
 * unambiguous) plus a ZSET of the expiring ones by expiresAtMs, which purge reads without a scan.
 * list() reads the whole HASH: the Access Manager loads a keyset's grants into memory at once anyway.
 */
export class RedisGrantStore implements GrantStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  async put(grants: readonly GrantRecord[]): Promise<void> {
    if (grants.length === 0) return;
    const byKeyset = new Map<string, (string | number)[]>();
    for (const g of grants) {
      const field: GrantField = [g.level, g.resource, g.authKey];
      const value: GrantValue = [g.perms, g.ttlMinutes, g.expiresAtMs];
      let args = byKeyset.get(g.subscribeKey);
      if (args === undefined) byKeyset.set(g.subscribeKey, (args = []));
      args.push(JSON.stringify(field), g.perms === 0 ? '' : JSON.stringify(value), expiryArg(g.expiresAtMs));
    }
    await this.registry.ensure(byKeyset.keys());
    await this.connection.scripts(
      'put',
      [...byKeyset].map(([subscribeKey, args]) => {
        const ks = this.keys.keyset(subscribeKey);
        return { script: SCRIPTS.grantPut, keys: [ks.grants, ks.grantExpiry], args };
      }),
    );
  }

  async list(subscribeKey: string, nowMs: number): Promise<GrantRecord[]> {
    const all = await this.connection.run('list', (client) => client.hgetall(this.keys.keyset(subscribeKey).grants));
    const out: GrantRecord[] = [];
    for (const [fieldText, valueText] of Object.entries(all)) {
      const record = recordOf(subscribeKey, fieldText, valueText, nowMs);
      if (record !== null) out.push(record);
    }
    return out;
  }

  async get(subscribeKey: string, targets: readonly GrantTarget[], nowMs: number): Promise<GrantRecord[]> {
    const fields = [...new Set(targets.map((t) => JSON.stringify([t.level, t.resource, t.authKey] satisfies GrantField)))];
    const key = this.keys.keyset(subscribeKey).grants;
    const out: GrantRecord[] = [];
    for (let i = 0; i < fields.length; i += GET_CHUNK) {
      const chunk = fields.slice(i, i + GET_CHUNK);
      const values = await this.connection.run('get', (client) => client.hmget(key, ...chunk));
      chunk.forEach((field, k) => {
        const value = values[k];
        const record = value === null ? null : recordOf(subscribeKey, field, value, nowMs);
        if (record !== null) out.push(record);
      });
    }
    return out;
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const subscribeKey of await this.registry.all()) {
      const ks = this.keys.keyset(subscribeKey);
      const n = await this.connection.script('purgeExpired', {
        script: SCRIPTS.grantPurge,
        keys: [ks.grants, ks.grantExpiry],
        args: [String(nowMs)],
      });
      removed += Number(n);
    }
    return removed;
  }
}

/** A stored field and value as a record; null when it has expired by nowMs. */
function recordOf(subscribeKey: string, fieldText: string, valueText: string, nowMs: number): GrantRecord | null {
  const [level, resource, authKey] = JSON.parse(fieldText) as GrantField;
  const [perms, ttlMinutes, expiresAtMs] = JSON.parse(valueText) as GrantValue;
  return expiresAtMs === null || expiresAtMs > nowMs ? { subscribeKey, level, resource, authKey, perms, ttlMinutes, expiresAtMs } : null;
}
