import type { Clock } from '../clock.ts';
import { ParleyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KeyedPage, MembershipRecord, ObjectKind, ObjectMetadata, ObjectStore, OutgoingMessage, PageFrom } from '../store/types.ts';
import { encodeCursor, runListQuery, type ListQuery, type Page } from './list-query.ts';
import { applyMetadataPatch, applyRelationInput, metadataView, relationView, type MetadataPatch, type RelationInput } from './records.ts';

/** A membership with the other side's metadata, when that side has any. */
export interface Relation {
  membership: MembershipRecord;
  other: ObjectMetadata | undefined;
}

export interface ObjectServiceDeps {
  store: ObjectStore;
  /** The publish pipeline: App Context events travel as `e:2` messages that are not stored. */
  publish: (message: OutgoingMessage) => Promise<bigint>;
  clock: Clock;
  log: Logger;
}

/** One `e:2` event (§3.5) and the channels it is published on. */
interface Announcement {
  channels: string[];
  event: 'set' | 'delete';
  type: ObjectKind | 'membership';
  data: unknown;
}

/** How often a PATCH re-reads and re-merges after losing a race with another writer of the same record. */
const MAX_MERGE_ATTEMPTS = 5;

const other = (side: ObjectKind): ObjectKind => (side === 'uuid' ? 'channel' : 'uuid');

/**
 * Whether the page is the plain id order a store pages by itself (ObjectStore.page, membershipPage): no
 * filter, no sort keys, and a cursor, if any, that names an id. runListQuery answers the rest.
 */
function inIdOrder(q: ListQuery): boolean {
  const position = q.cursor?.position;
  return !q.filtered && q.sort.length === 0 && (position === undefined || (position.length === 1 && typeof position[0] === 'string'));
}

/**
 * A page in id order read through `read`, with runListQuery's answer over every item: cursors are
 * [id] positions, `next` when items lie after the page, `prev` when some lie before it, totalCount
 * counted only when asked for.
 */
async function pageInIdOrder<T>(
  q: ListQuery,
  read: (from: PageFrom | null) => Promise<KeyedPage<T>>,
  count: () => Promise<number>,
  idOf: (item: T) => string,
): Promise<Page<T>> {
  const id = q.cursor?.position[0] as string | undefined;
  const from = q.cursor === null || id === undefined ? null : q.cursor.after ? { after: id } : { before: id };
  const [page, totalCount] = await Promise.all([
    q.limit > 0 ? read(from) : { records: [] as T[], hasBefore: false, hasAfter: false },
    q.includeTotalCount ? count() : 0,
  ]);
  const items = page.records;
  return {
    items,
    totalCount,
    next: page.hasAfter ? encodeCursor(true, [idOf(items[items.length - 1])]) : null,
    prev: page.hasBefore ? encodeCursor(false, [idOf(items[0])]) : null,
  };
}

/**
 * App Context (wire-protocol.md §11): uuid and channel metadata and the memberships between them.
 * Transport-agnostic: routes authorize first, then call here. Every change is stored, then announced
 * as an `e:2` event (§3.5) to the channel named by the changed uuid or channel, as PubNub does:
 * uuid events on the uuid's own channel, channel events on the channel, membership events on both.
 * A PATCH that changes nothing stores nothing and announces nothing.
 */
export class ObjectService {
  constructor(private readonly deps: ObjectServiceDeps) {}

  /** NOT_FOUND when no metadata is stored for the id. */
  async get(subscribeKey: string, kind: ObjectKind, id: string): Promise<ObjectMetadata> {
    const record = await this.deps.store.get(subscribeKey, kind, id);
    if (record === undefined) throw notFound();
    return record;
  }

  /**
   * Merges the patch into the stored record (PATCH semantics: named fields replace, others stay). With
   * `ifMatch`, the stored record must exist and carry that eTag, or PRECONDITION_FAILED (412).
   */
  async set(subscribeKey: string, kind: ObjectKind, id: string, patch: MetadataPatch, ifMatch: string | undefined, actor: string): Promise<ObjectMetadata> {
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const current = await this.deps.store.get(subscribeKey, kind, id);
      if (ifMatch !== undefined && current?.eTag !== ifMatch) throw preconditionFailed();
      const { record, changed } = applyMetadataPatch(current, id, patch, this.now());
      if (changed.length === 0) return record;
      // Compare-and-set on what was read: a concurrent writer makes this fail, and the merge is redone on its result.
      if (await this.deps.store.put(subscribeKey, kind, record, current?.eTag ?? null)) {
        const view = metadataView(kind, record);
        const data = changed[0] === '*' ? view : Object.fromEntries(['id', ...changed, 'updated', 'eTag'].map((k) => [k, view[k]]));
        await this.announce(subscribeKey, actor, [{ channels: [id], event: 'set', type: kind, data }]);
        return record;
      }
      if (ifMatch !== undefined) throw preconditionFailed();
    }
    throw new ParleyError('STORE_UNAVAILABLE', `too many concurrent updates of ${kind} "${id.slice(0, 100)}"; try again`);
  }

  /** Removes the metadata and the memberships on its side; resolves true when metadata existed. */
  async remove(subscribeKey: string, kind: ObjectKind, id: string, actor: string): Promise<boolean> {
    const existed = await this.deps.store.remove(subscribeKey, kind, id);
    if (existed) await this.announce(subscribeKey, actor, [{ channels: [id], event: 'delete', type: kind, data: { id } }]);
    return existed;
  }

  /**
   * A page of a kind's metadata. Without a filter or sort keys the order is the ids' and the store pages
   * it (ObjectStore.page: O(limit), plus a count when totalCount is asked), answering exactly what
   * runListQuery would over every record (test/property/object-pages.prop.test.ts). A filter that names
   * the ids it keeps reads just those records; any other filter or sort reads every record of the kind.
   */
  async list(subscribeKey: string, kind: ObjectKind, q: ListQuery): Promise<Page<ObjectMetadata>> {
    const store = this.deps.store;
    if (inIdOrder(q)) {
      return pageInIdOrder(
        q,
        (from) => store.page(subscribeKey, kind, from, q.limit),
        () => store.count(subscribeKey, kind),
        (r) => r.id,
      );
    }
    // A filter naming the ids it keeps (`id == 'a' || id == 'b'`, as the Chat SDK sends): only those are read.
    const ids = q.keyValues.get('id');
    const records = ids === undefined ? await store.list(subscribeKey, kind) : await this.recordsOf(subscribeKey, kind, ids);
    return runListQuery(records, (r) => metadataView(kind, r), q, ['id']);
  }

  private async recordsOf(subscribeKey: string, kind: ObjectKind, ids: ReadonlySet<string>): Promise<ObjectMetadata[]> {
    const records = await Promise.all([...ids].map((id) => this.deps.store.get(subscribeKey, kind, id)));
    return records.filter((r) => r !== undefined);
  }

  /**
   * A uuid's memberships (side 'uuid') or a channel's members (side 'channel'), filtered, sorted and
   * paged. Without a filter or sort keys the store pages them in the other id's order and only the
   * page's other records are read; a filter naming the other ids reads just those pairs; anything else
   * reads every relation of the side.
   */
  async relations(subscribeKey: string, side: ObjectKind, id: string, q: ListQuery): Promise<Page<Relation>> {
    const otherKind = other(side);
    const store = this.deps.store;
    const otherIdOf = (m: MembershipRecord): string => (side === 'uuid' ? m.channel : m.uuid);
    if (inIdOrder(q)) {
      const page = await pageInIdOrder(
        q,
        (from) => store.membershipPage(subscribeKey, side, id, from, q.limit),
        () => store.membershipCount(subscribeKey, side, id),
        otherIdOf,
      );
      const others = await Promise.all(page.items.map((m) => store.get(subscribeKey, otherKind, otherIdOf(m))));
      return { ...page, items: page.items.map((membership, i) => ({ membership, other: others[i] })) };
    }
    // A filter naming the other ids it keeps (`channel.id == 'c'`, the Chat SDK's membership checks): only those pairs are read.
    const otherIds = q.keyValues.get(`${otherKind}.id`);
    const memberships = otherIds === undefined ? await store.memberships(subscribeKey, side, id) : await this.pairsOf(subscribeKey, side, id, otherIds);
    const others = await Promise.all(memberships.map((m) => store.get(subscribeKey, otherKind, otherIdOf(m))));
    const relations: Relation[] = memberships.map((membership, i) => ({ membership, other: others[i] }));
    return runListQuery(relations, (r) => relationView(side, r.membership, r.other), q, [otherKind, 'id']);
  }

  private async pairsOf(subscribeKey: string, side: ObjectKind, id: string, otherIds: ReadonlySet<string>): Promise<MembershipRecord[]> {
    const store = this.deps.store;
    const found = await Promise.all(
      [...otherIds].map((o) => (side === 'uuid' ? store.membership(subscribeKey, id, o) : store.membership(subscribeKey, o, id))),
    );
    return found.filter((m) => m !== undefined);
  }

  /**
   * Applies a memberships/members PATCH for the uuid (side 'uuid') or channel (side 'channel') `id`:
   * `set` entries create or update relations to the listed other ids, `remove` deletes them. When an
   * id is in both, the removal wins, as it is applied last.
   */
  async changeRelations(
    subscribeKey: string,
    side: ObjectKind,
    id: string,
    set: readonly RelationInput[],
    remove: readonly string[],
    actor: string,
  ): Promise<void> {
    const pair = (otherId: string) => (side === 'uuid' ? { uuid: id, channel: otherId } : { uuid: otherId, channel: id });
    const current = new Map((await this.deps.store.memberships(subscribeKey, side, id)).map((m) => [side === 'uuid' ? m.channel : m.uuid, m]));
    const removing = new Set(remove);
    const updated = this.now();
    const puts = new Map<string, MembershipRecord>();
    for (const input of set) {
      if (removing.has(input.id)) continue;
      const { uuid, channel } = pair(input.id);
      const next = applyRelationInput(puts.get(input.id) ?? current.get(input.id), uuid, channel, input, updated);
      if (next !== undefined) puts.set(input.id, next);
    }
    const removals = [...removing].filter((otherId) => current.has(otherId));
    if (puts.size > 0) await this.deps.store.putMemberships(subscribeKey, [...puts.values()]);
    if (removals.length > 0) await this.deps.store.removeMemberships(subscribeKey, removals.map(pair));
    const events: Announcement[] = [...puts.values()].map((m) => ({
      channels: [m.channel, m.uuid],
      event: 'set',
      type: 'membership',
      data: { channel: { id: m.channel }, uuid: { id: m.uuid }, status: m.status, type: m.type, custom: m.custom, updated: m.updated, eTag: m.eTag },
    }));
    for (const { uuid, channel } of removals.map(pair)) {
      events.push({ channels: [channel, uuid], event: 'delete', type: 'membership', data: { channel: { id: channel }, uuid: { id: uuid } } });
    }
    await this.announce(subscribeKey, actor, events);
  }

  private now(): string {
    return new Date(this.deps.clock.nowMs()).toISOString();
  }

  /**
   * The change is already durable; an event that cannot be delivered is logged, not reported to the
   * writer, whose retry would otherwise repeat a change that succeeded.
   */
  private async announce(subscribeKey: string, actor: string, events: readonly Announcement[]): Promise<void> {
    if (events.length === 0) return;
    // Published in one turn, so the pipeline commits them as one batch, in this order per channel.
    const published = events.flatMap(({ channels, event, type, data }) => {
      const payload = JSON.stringify({ source: 'objects', version: '2.0', event, type, data });
      return [...new Set(channels)].map((channel) =>
        this.deps.publish({ subscribeKey, channel, publisher: actor, payload, meta: null, customMessageType: null, type: 2, store: false, expiresAtMs: null }),
      );
    });
    const results = await Promise.allSettled(published);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) this.deps.log.error({ err: failed.reason, subscribeKey, count: events.length }, 'app context event not delivered');
  }
}

function notFound(): ParleyError {
  return new ParleyError('NOT_FOUND', 'Requested object was not found.');
}

function preconditionFailed(): ParleyError {
  return new ParleyError('PRECONDITION_FAILED', 'Object update failed due to precondition failure.');
}
