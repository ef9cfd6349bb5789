import type Database from 'better-sqlite3';
import { compareCodePoints } from '../../text-order.ts';
import type { CustomFields, MembershipRecord, ObjectKind, ObjectMetadata, KeyedPage, ObjectStore, PageFrom } from '../types.ts';
import { sqliteCall } from './sqlite-call.ts';

interface ObjectRow {
  id: string;
  name: string | null;
  external_id: string | null;
  profile_url: string | null;
  email: string | null;
  description: string | null;
  status: string | null;
  type: string | null;
  custom: string | null;
  updated: string;
  etag: string;
}

interface MembershipRow {
  uuid: string;
  channel: string;
  status: string | null;
  type: string | null;
  custom: string | null;
  updated: string;
  etag: string;
}

const customOf = (text: string | null): CustomFields | null => (text === null ? null : (JSON.parse(text) as CustomFields));
const customText = (custom: CustomFields | null): string | null => (custom === null ? null : JSON.stringify(custom));

function toRecord(row: ObjectRow): ObjectMetadata {
  return {
    id: row.id,
    name: row.name,
    externalId: row.external_id,
    profileUrl: row.profile_url,
    email: row.email,
    description: row.description,
    status: row.status,
    type: row.type,
    custom: customOf(row.custom),
    updated: row.updated,
    eTag: row.etag,
  };
}

function toMembership(row: MembershipRow): MembershipRecord {
  return { uuid: row.uuid, channel: row.channel, status: row.status, type: row.type, custom: customOf(row.custom), updated: row.updated, eTag: row.etag };
}

type KeyedPager<T> = (scopeA: string, scopeB: string, from: PageFrom | null, limit: number) => KeyedPage<T>;

/**
 * Pages of the rows `scope` selects (a FROM … WHERE with two parameters) in `key`'s BINARY order, which
 * is code point order (text-order.ts): each a range of an index, in one read transaction with the two
 * neighbours' existence, so the answer is one state of the table.
 */
function keyedPager<Row extends object, T>(
  db: Database.Database,
  columns: string,
  scope: string,
  key: keyof Row & string,
  toItem: (row: Row) => T,
): KeyedPager<T> {
  const first = db.prepare<[string, string, number], Row>(`SELECT ${columns} ${scope} ORDER BY ${key} LIMIT ?`);
  const after = db.prepare<[string, string, string, number], Row>(`SELECT ${columns} ${scope} AND ${key} > ? ORDER BY ${key} LIMIT ?`);
  const before = db.prepare<[string, string, string, number], Row>(`SELECT ${columns} ${scope} AND ${key} < ? ORDER BY ${key} DESC LIMIT ?`);
  const anyAfter = db.prepare<[string, string, string], number>(`SELECT 1 ${scope} AND ${key} > ? LIMIT 1`).pluck();
  const anyBefore = db.prepare<[string, string, string], number>(`SELECT 1 ${scope} AND ${key} < ? LIMIT 1`).pluck();
  return db.transaction((a: string, b: string, from: PageFrom | null, limit: number) => {
    const rows = from === null ? first.all(a, b, limit) : 'after' in from ? after.all(a, b, from.after, limit) : before.all(a, b, from.before, limit).reverse();
    if (rows.length === 0) return { records: [], hasBefore: false, hasAfter: false };
    return {
      records: rows.map(toItem),
      hasBefore: anyBefore.get(a, b, String(rows[0][key])) !== undefined,
      hasAfter: anyAfter.get(a, b, String(rows[rows.length - 1][key])) !== undefined,
    };
  });
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    compareCodePoints(key(a), key(b));

/**
 * App Context in two tables (migration 003). Each write is one IMMEDIATE transaction, so the eTag
 * check of put() and the cascade of remove() are atomic. Ids are in code point order (text-order.ts),
 * which is SQLite's BINARY order of UTF-8 text: page() reads its range from the primary key.
 */
export class SqliteObjectStore implements ObjectStore {
  private readonly selectOne: Database.Statement<[string, string, string], ObjectRow>;
  private readonly selectAll: Database.Statement<[string, string], ObjectRow>;
  private readonly objectPager: KeyedPager<ObjectMetadata>;
  private readonly membershipPager: Record<ObjectKind, KeyedPager<MembershipRecord>>;
  private readonly countMemberships: Record<ObjectKind, Database.Statement<[string, string], number>>;
  private readonly countKind: Database.Statement<[string, string], number>;
  private readonly putChecked: Database.Transaction<
    (subscribeKey: string, kind: ObjectKind, r: ObjectMetadata, expected: string | null | undefined) => boolean
  >;
  private readonly removeCascade: Database.Transaction<(subscribeKey: string, kind: ObjectKind, id: string) => boolean>;
  private readonly putBatch: Database.Transaction<(subscribeKey: string, records: readonly MembershipRecord[]) => void>;
  private readonly removeBatch: Database.Transaction<(subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>) => void>;
  private readonly selectByUuid: Database.Statement<[string, string], MembershipRow>;
  private readonly selectByChannel: Database.Statement<[string, string], MembershipRow>;
  private readonly selectPair: Database.Statement<[string, string, string], MembershipRow>;

  constructor(db: Database.Database) {
    const columns = 'id, name, external_id, profile_url, email, description, status, type, custom, updated, etag';
    this.selectOne = db.prepare(`SELECT ${columns} FROM app_context_objects WHERE subscribe_key = ? AND kind = ? AND id = ?`);
    const ofKind = 'FROM app_context_objects WHERE subscribe_key = ? AND kind = ?';
    this.selectAll = db.prepare(`SELECT ${columns} ${ofKind}`);
    this.objectPager = keyedPager<ObjectRow, ObjectMetadata>(db, columns, ofKind, 'id', toRecord);
    this.countKind = db.prepare<[string, string], number>(`SELECT count(*) ${ofKind}`).pluck();
    const currentETag = db
      .prepare<[string, string, string], string>('SELECT etag FROM app_context_objects WHERE subscribe_key = ? AND kind = ? AND id = ?')
      .pluck();
    const upsert = db.prepare(
      `INSERT INTO app_context_objects (subscribe_key, kind, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (subscribe_key, kind, id) DO UPDATE SET
         name = excluded.name, external_id = excluded.external_id, profile_url = excluded.profile_url, email = excluded.email,
         description = excluded.description, status = excluded.status, type = excluded.type, custom = excluded.custom,
         updated = excluded.updated, etag = excluded.etag`,
    );
    this.putChecked = db.transaction((subscribeKey: string, kind: ObjectKind, r: ObjectMetadata, expected: string | null | undefined) => {
      if (expected !== undefined && (currentETag.get(subscribeKey, kind, r.id) ?? null) !== expected) return false;
      upsert.run(
        subscribeKey,
        kind,
        r.id,
        r.name,
        r.externalId,
        r.profileUrl,
        r.email,
        r.description,
        r.status,
        r.type,
        customText(r.custom),
        r.updated,
        r.eTag,
      );
      return true;
    });
    const deleteObject = db.prepare('DELETE FROM app_context_objects WHERE subscribe_key = ? AND kind = ? AND id = ?');
    const deleteOfUuid = db.prepare('DELETE FROM app_context_memberships WHERE subscribe_key = ? AND uuid = ?');
    const deleteOfChannel = db.prepare('DELETE FROM app_context_memberships WHERE subscribe_key = ? AND channel = ?');
    this.removeCascade = db.transaction((subscribeKey: string, kind: ObjectKind, id: string) => {
      (kind === 'uuid' ? deleteOfUuid : deleteOfChannel).run(subscribeKey, id);
      return deleteObject.run(subscribeKey, kind, id).changes > 0;
    });
    const upsertMembership = db.prepare(
      `INSERT INTO app_context_memberships (subscribe_key, uuid, channel, status, type, custom, updated, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (subscribe_key, uuid, channel) DO UPDATE SET
         status = excluded.status, type = excluded.type, custom = excluded.custom, updated = excluded.updated, etag = excluded.etag`,
    );
    this.putBatch = db.transaction((subscribeKey: string, records: readonly MembershipRecord[]) => {
      for (const m of records) upsertMembership.run(subscribeKey, m.uuid, m.channel, m.status, m.type, customText(m.custom), m.updated, m.eTag);
    });
    const deleteMembership = db.prepare('DELETE FROM app_context_memberships WHERE subscribe_key = ? AND uuid = ? AND channel = ?');
    this.removeBatch = db.transaction((subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>) => {
      for (const p of pairs) deleteMembership.run(subscribeKey, p.uuid, p.channel);
    });
    const membershipColumns = 'uuid, channel, status, type, custom, updated, etag';
    const ofUuid = 'FROM app_context_memberships WHERE subscribe_key = ? AND uuid = ?';
    const ofChannel = 'FROM app_context_memberships WHERE subscribe_key = ? AND channel = ?';
    this.selectByUuid = db.prepare(`SELECT ${membershipColumns} ${ofUuid}`);
    this.selectByChannel = db.prepare(`SELECT ${membershipColumns} ${ofChannel}`);
    this.selectPair = db.prepare(`SELECT ${membershipColumns} ${ofUuid} AND channel = ?`);
    // A uuid's memberships by channel walk the primary key; a channel's members by uuid, app_context_members.
    this.membershipPager = {
      uuid: keyedPager<MembershipRow, MembershipRecord>(db, membershipColumns, ofUuid, 'channel', toMembership),
      channel: keyedPager<MembershipRow, MembershipRecord>(db, membershipColumns, ofChannel, 'uuid', toMembership),
    };
    this.countMemberships = {
      uuid: db.prepare<[string, string], number>(`SELECT count(*) ${ofUuid}`).pluck(),
      channel: db.prepare<[string, string], number>(`SELECT count(*) ${ofChannel}`).pluck(),
    };
  }

  async membershipPage(subscribeKey: string, side: ObjectKind, id: string, from: PageFrom | null, limit: number): Promise<KeyedPage<MembershipRecord>> {
    return sqliteCall('objects.membershipPage', () => this.membershipPager[side](subscribeKey, id, from, limit));
  }

  async membershipCount(subscribeKey: string, side: ObjectKind, id: string): Promise<number> {
    return sqliteCall('objects.membershipCount', () => this.countMemberships[side].get(subscribeKey, id) ?? 0);
  }

  async membership(subscribeKey: string, uuid: string, channel: string): Promise<MembershipRecord | undefined> {
    return sqliteCall('objects.membership', () => {
      const row = this.selectPair.get(subscribeKey, uuid, channel);
      return row === undefined ? undefined : toMembership(row);
    });
  }

  async get(subscribeKey: string, kind: ObjectKind, id: string): Promise<ObjectMetadata | undefined> {
    return sqliteCall('objects.get', () => {
      const row = this.selectOne.get(subscribeKey, kind, id);
      return row === undefined ? undefined : toRecord(row);
    });
  }

  async put(subscribeKey: string, kind: ObjectKind, record: ObjectMetadata, expectedETag?: string | null): Promise<boolean> {
    return sqliteCall('objects.put', () => this.putChecked.immediate(subscribeKey, kind, record, expectedETag));
  }

  async remove(subscribeKey: string, kind: ObjectKind, id: string): Promise<boolean> {
    return sqliteCall('objects.remove', () => this.removeCascade.immediate(subscribeKey, kind, id));
  }

  async list(subscribeKey: string, kind: ObjectKind): Promise<ObjectMetadata[]> {
    return sqliteCall('objects.list', () =>
      this.selectAll
        .all(subscribeKey, kind)
        .map(toRecord)
        .sort(byKey((r) => r.id)),
    );
  }

  async page(subscribeKey: string, kind: ObjectKind, from: PageFrom | null, limit: number): Promise<KeyedPage<ObjectMetadata>> {
    return sqliteCall('objects.page', () => this.objectPager(subscribeKey, kind, from, limit));
  }

  /** count(*) over the kind's primary-key range: no record is read, though the range is walked. */
  async count(subscribeKey: string, kind: ObjectKind): Promise<number> {
    return sqliteCall('objects.count', () => this.countKind.get(subscribeKey, kind) ?? 0);
  }

  async putMemberships(subscribeKey: string, records: readonly MembershipRecord[]): Promise<void> {
    if (records.length === 0) return;
    await sqliteCall('objects.putMemberships', () => this.putBatch.immediate(subscribeKey, records));
  }

  async removeMemberships(subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>): Promise<void> {
    if (pairs.length === 0) return;
    await sqliteCall('objects.removeMemberships', () => this.removeBatch.immediate(subscribeKey, pairs));
  }

  async memberships(subscribeKey: string, side: ObjectKind, id: string): Promise<MembershipRecord[]> {
    return sqliteCall('objects.memberships', () =>
      side === 'uuid'
        ? this.selectByUuid
            .all(subscribeKey, id)
            .map(toMembership)
            .sort(byKey((m) => m.channel))
        : this.selectByChannel
            .all(subscribeKey, id)
            .map(toMembership)
            .sort(byKey((m) => m.uuid)),
    );
  }
}
