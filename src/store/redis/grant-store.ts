import type { GrantLevel, GrantRecord, GrantStore } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import type { RedisKeys } from './keys.ts';
import { expiryArg } from './message-codec.ts';
import { SCRIPTS } from './scripts.ts';

type GrantField = [GrantLevel, string, string];
type GrantValue = [number, number, number | null];

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
      const [level, resource, authKey] = JSON.parse(fieldText) as GrantField;
      const [perms, ttlMinutes, expiresAtMs] = JSON.parse(valueText) as GrantValue;
      if (expiresAtMs === null || expiresAtMs > nowMs) out.push({ subscribeKey, level, resource, authKey, perms, ttlMinutes, expiresAtMs });
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
