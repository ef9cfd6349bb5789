import type { ChainableCommander } from 'ioredis';
import { ParleyError } from '../../errors.ts';
import { compareCodePoints } from '../../text-order.ts';
import type { MembershipRecord, ObjectKind, ObjectMetadata, KeyedPage, ObjectStore, PageFrom } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetKeys, RedisKeys } from './keys.ts';
import { SCRIPTS } from './scripts.ts';

/** How often remove() re-reads memberships that changed under it before giving up (STORE_UNAVAILABLE). */
const MAX_REMOVE_ATTEMPTS = 10;

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    compareCodePoints(key(a), key(b));

/** The HASH holding `side`'s relations of `id`: a uuid's memberships or a channel's members. */
function sideKey(ks: KeysetKeys, side: ObjectKind, id: string): string {
  return side === 'uuid' ? ks.membershipsOf(id) : ks.membersOf(id);
}

/** The ZSET of sideKey's fields, for pages in the other id's order. */
function sideIndexKey(ks: KeysetKeys, side: ObjectKind, id: string): string {
  return side === 'uuid' ? ks.membershipsIndexOf(id) : ks.membersIndexOf(id);
}

async function execAll(tx: ChainableCommander): Promise<void> {
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err !== null);
  if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction discarded');
}

/**
 * App Context records in one HASH per kind (id → JSON), and each membership twice, under the uuid
 * (`mship:<uuid>`, field channel) and under the channel (`mbr:<channel>`, field uuid), written
 * together in MULTI/EXEC; every key shares the keyset's hash slot. put() is a compare-and-set script;
 * remove() reads the candidates and its script re-checks them (docs/redis.md).
 */
export class RedisObjectStore implements ObjectStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  async get(subscribeKey: string, kind: ObjectKind, id: string): Promise<ObjectMetadata | undefined> {
    const json = await this.connection.run('objects.get', (c) => c.hget(this.keys.keyset(subscribeKey).objects(kind), id));
    return json === null ? undefined : (JSON.parse(json) as ObjectMetadata);
  }

  async put(subscribeKey: string, kind: ObjectKind, record: ObjectMetadata, expectedETag?: string | null): Promise<boolean> {
    const mode = expectedETag === undefined ? 'any' : expectedETag === null ? 'absent' : 'match';
    const stored = await this.connection.script('objects.put', {
      script: SCRIPTS.objectPut,
      keys: [this.keys.keyset(subscribeKey).objects(kind), this.keys.keyset(subscribeKey).objectIndex(kind)],
      args: [record.id, JSON.stringify(record), mode, expectedETag ?? ''],
    });
    return Number(stored) === 1;
  }

  async remove(subscribeKey: string, kind: ObjectKind, id: string): Promise<boolean> {
    const ks = this.keys.keyset(subscribeKey);
    const own = sideKey(ks, kind, id);
    const otherSide: ObjectKind = kind === 'uuid' ? 'channel' : 'uuid';
    for (let attempt = 0; attempt < MAX_REMOVE_ATTEMPTS; attempt++) {
      const candidates = await this.connection.run('objects.remove', (c) => c.hkeys(own));
      const result = Number(
        await this.connection.script('objects.remove', {
          script: SCRIPTS.objectRemove,
          keys: [
            ks.objects(kind),
            ks.objectIndex(kind),
            own,
            sideIndexKey(ks, kind, id),
            ...candidates.map((other) => sideKey(ks, otherSide, other)),
            ...candidates.map((other) => sideIndexKey(ks, otherSide, other)),
          ],
          args: [id, ...candidates],
        }),
      );
      if (result >= 0) return result === 1;
    }
    throw new ParleyError('STORE_UNAVAILABLE', 'redis objects.remove: memberships kept changing during removal');
  }

  async list(subscribeKey: string, kind: ObjectKind): Promise<ObjectMetadata[]> {
    const all = await this.connection.run('objects.list', (c) => c.hvals(this.keys.keyset(subscribeKey).objects(kind)));
    return all.map((json) => JSON.parse(json) as ObjectMetadata).sort(byKey((r) => r.id));
  }

  async page(subscribeKey: string, kind: ObjectKind, from: PageFrom | null, limit: number): Promise<KeyedPage<ObjectMetadata>> {
    const ks = this.keys.keyset(subscribeKey);
    return this.indexedPage<ObjectMetadata>('objects.page', ks.objects(kind), ks.objectIndex(kind), from, limit);
  }

  async membershipPage(subscribeKey: string, side: ObjectKind, id: string, from: PageFrom | null, limit: number): Promise<KeyedPage<MembershipRecord>> {
    const ks = this.keys.keyset(subscribeKey);
    return this.indexedPage<MembershipRecord>('objects.membershipPage', sideKey(ks, side, id), sideIndexKey(ks, side, id), from, limit);
  }

  async membershipCount(subscribeKey: string, side: ObjectKind, id: string): Promise<number> {
    return this.connection.run('objects.membershipCount', (c) => c.hlen(sideKey(this.keys.keyset(subscribeKey), side, id)));
  }

  /** A page of `hash`'s values in its fields' order, through `index` (indexed-page.lua). */
  private async indexedPage<T>(operation: string, hash: string, index: string, from: PageFrom | null, limit: number): Promise<KeyedPage<T>> {
    const [mode, bound] = from === null ? ['first', ''] : 'after' in from ? ['after', from.after] : ['before', from.before];
    const [values, before, after] = (await this.connection.script(operation, {
      script: SCRIPTS.indexedPage,
      keys: [hash, index],
      args: [mode, bound, String(limit)],
    })) as [Array<string | null>, number, number];
    // A field the index names always has its value (both change in one script or transaction); null is kept out all the same.
    const records: T[] = [];
    for (const json of values) if (json !== null) records.push(JSON.parse(json) as T);
    return { records, hasBefore: before === 1, hasAfter: after === 1 };
  }

  async count(subscribeKey: string, kind: ObjectKind): Promise<number> {
    return this.connection.run('objects.count', (c) => c.hlen(this.keys.keyset(subscribeKey).objects(kind)));
  }

  async putMemberships(subscribeKey: string, records: readonly MembershipRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ks = this.keys.keyset(subscribeKey);
    await this.connection.run('objects.putMemberships', async (c) => {
      const tx = c.multi();
      for (const m of records) {
        const json = JSON.stringify(m);
        tx.hset(ks.membershipsOf(m.uuid), m.channel, json).hset(ks.membersOf(m.channel), m.uuid, json);
        tx.zadd(ks.membershipsIndexOf(m.uuid), 0, m.channel).zadd(ks.membersIndexOf(m.channel), 0, m.uuid);
      }
      await execAll(tx);
    });
  }

  async removeMemberships(subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>): Promise<void> {
    if (pairs.length === 0) return;
    const ks = this.keys.keyset(subscribeKey);
    await this.connection.run('objects.removeMemberships', async (c) => {
      const tx = c.multi();
      for (const p of pairs) {
        tx.hdel(ks.membershipsOf(p.uuid), p.channel).hdel(ks.membersOf(p.channel), p.uuid);
        tx.zrem(ks.membershipsIndexOf(p.uuid), p.channel).zrem(ks.membersIndexOf(p.channel), p.uuid);
      }
      await execAll(tx);
    });
  }

  async membership(subscribeKey: string, uuid: string, channel: string): Promise<MembershipRecord | undefined> {
    const json = await this.connection.run('objects.membership', (c) => c.hget(this.keys.keyset(subscribeKey).membershipsOf(uuid), channel));
    return json === null ? undefined : (JSON.parse(json) as MembershipRecord);
  }

  async memberships(subscribeKey: string, side: ObjectKind, id: string): Promise<MembershipRecord[]> {
    const all = await this.connection.run('objects.memberships', (c) => c.hvals(sideKey(this.keys.keyset(subscribeKey), side, id)));
    const records = all.map((json) => JSON.parse(json) as MembershipRecord);
    return records.sort(byKey((m) => (side === 'uuid' ? m.channel : m.uuid)));
  }
}
