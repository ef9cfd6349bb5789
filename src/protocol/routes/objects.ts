import type { Relation } from '../../app-context/object-service.ts';
import { parseListQuery, type ListQuery, type Page } from '../../app-context/list-query.ts';
import { parseJsonBody, parseMetadataPatch, parseRelationsPatch } from '../../app-context/records.ts';
import { ParleyError } from '../../errors.ts';
import type { Keyset } from '../../keyset.ts';
import { channelNameProblem } from '../../realtime/channel-name.ts';
import type { ObjectKind, ObjectMetadata } from '../../store/types.ts';
import type { Operation } from '../../access/enforcement.ts';
import { decodeComponent, queryFlag, queryInt, sendJson, type RequestContext } from '../request.ts';
import { guarded, type AccessCheck, type GuardedDefinition, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/**
 * App Context (objects v2), wire-protocol.md §11: every answer is `{status: 200, data, totalCount?,
 * next?, prev?}` in the shapes of the SDK's app-context.ts; errors take the objects shape
 * (error-response.ts). `include` decides which optional fields appear; filter, sort and paging are
 * app-context/list-query.ts.
 */

/** What the App Context routes use (route.ts). */
export type ObjectDeps = Pick<Services, 'config' | 'objects'>;

const OTHER: Record<ObjectKind, ObjectKind> = { uuid: 'channel', channel: 'uuid' };

/** Entries (set plus delete) of one memberships or members PATCH: PubNub's page size. */
export const MAX_RELATIONS_PER_PATCH = 100;
/** Sort keys of one list call: each one is a comparison on every record listed. */
export const MAX_SORT_KEYS = 10;

function idParam(ctx: RequestContext, s: ObjectDeps, kind: ObjectKind): string {
  const id = decodeComponent(ctx.params.id, kind);
  const problem = channelNameProblem(id, s.config.limits.maxChannelLength);
  if (problem !== undefined)
    throw new ParleyError(kind === 'channel' ? 'INVALID_CHANNEL' : 'INVALID_PARAM', `${kind} "${id.slice(0, 100)}": ${problem.replace('channel name', 'id')}`);
  return id;
}

function includeOf(ctx: RequestContext): Set<string> {
  return new Set(
    (ctx.query.get('include') ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  );
}

function listQueryOf(ctx: RequestContext): ListQuery {
  const sort = ctx.query.all('sort');
  let keys = 0;
  for (const value of sort) keys += value.split(',').length;
  if (keys > MAX_SORT_KEYS) throw new ParleyError('INVALID_PARAM', `sort: at most ${MAX_SORT_KEYS} keys (got ${keys})`);
  return parseListQuery({
    filter: ctx.query.get('filter'),
    sort: [...sort],
    limit: queryInt(ctx.query, 'limit', 0, Number.MAX_SAFE_INTEGER),
    start: ctx.query.get('start') || undefined,
    end: ctx.query.get('end') || undefined,
    count: queryFlag(ctx.query, 'count'),
  });
}

/** A uuid or channel object as the SDK's UUIDMetadataObject / ChannelMetadataObject. */
function renderMetadata(kind: ObjectKind, r: ObjectMetadata, include: ReadonlySet<string>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, name: r.name };
  if (kind === 'uuid') Object.assign(out, { externalId: r.externalId, profileUrl: r.profileUrl, email: r.email });
  else out.description = r.description;
  if (include.has(`${prefix}status`)) out.status = r.status;
  if (include.has(`${prefix}type`)) out.type = r.type;
  if (include.has(`${prefix}custom`)) out.custom = r.custom;
  out.updated = r.updated;
  out.eTag = r.eTag;
  return out;
}

/** One membership (side 'uuid') or member (side 'channel'): the other side under its own name. */
function renderRelation(side: ObjectKind, rel: Relation, include: ReadonlySet<string>): Record<string, unknown> {
  const otherKind = OTHER[side];
  const m = rel.membership;
  let ref: Record<string, unknown> = { id: otherKind === 'channel' ? m.channel : m.uuid };
  if (rel.other !== undefined) {
    // `channel` / `uuid` asks for the other side's fields; `.custom`, `.status`, `.type` add those (and imply the fields).
    if (include.has(otherKind) || include.has(`${otherKind}.custom`)) ref = renderMetadata(otherKind, rel.other, include, `${otherKind}.`);
    else {
      if (include.has(`${otherKind}.status`)) ref.status = rel.other.status;
      if (include.has(`${otherKind}.type`)) ref.type = rel.other.type;
    }
  }
  const out: Record<string, unknown> = { [otherKind]: ref };
  if (include.has('status')) out.status = m.status;
  if (include.has('type')) out.type = m.type;
  if (include.has('custom')) out.custom = m.custom;
  out.updated = m.updated;
  out.eTag = m.eTag;
  return out;
}

function sendPage<T>(ctx: RequestContext, q: ListQuery, page: Page<T>, render: (item: T) => unknown): void {
  const body: Record<string, unknown> = { status: 200, data: page.items.map(render) };
  if (q.includeTotalCount) body.totalCount = page.totalCount;
  if (page.next !== null) body.next = page.next;
  if (page.prev !== null) body.prev = page.prev;
  sendJson(ctx.res, 200, JSON.stringify(body));
}

const OPS = {
  uuid: { get: 'get_uuid_metadata', set: 'set_uuid_metadata', remove: 'remove_uuid_metadata', list: 'get_all_uuid_metadata' },
  channel: { get: 'get_channel_metadata', set: 'set_channel_metadata', remove: 'remove_channel_metadata', list: 'get_all_channel_metadata' },
} as const;

const resources = (kind: ObjectKind, ids: readonly string[]) => (kind === 'uuid' ? { uuids: ids } : { channels: ids });

function metadataRoutes(kind: ObjectKind, segment: string): Route<ObjectDeps>[] {
  const ops = OPS[kind];
  const one = `/v2/objects/:sub/${segment}/:id`;
  const byId = (ctx: RequestContext, s: ObjectDeps): Parsed<string> => {
    const id = idParam(ctx, s, kind);
    return { value: id, resources: resources(kind, [id]) };
  };
  return [
    route(
      'GET',
      `/v2/objects/:sub/${segment}`,
      ops.list,
      (ctx) => ({ value: listQueryOf(ctx), resources: {} }),
      async (ctx, s, q, { keyset }) => {
        const include = includeOf(ctx);
        sendPage(ctx, q, await s.objects.list(keyset.subscribeKey, kind, q), (r) => renderMetadata(kind, r, include));
      },
    ),
    route('GET', one, ops.get, byId, async (ctx, s, id, { keyset }) => {
      const record = await s.objects.get(keyset.subscribeKey, kind, id);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: renderMetadata(kind, record, includeOf(ctx)) }));
    }),
    route('PATCH', one, ops.set, byId, async (ctx, s, id, { keyset }) => {
      const patch = parseMetadataPatch(kind, parseJsonBody(ctx.body));
      const ifMatch = ctx.req.headers['if-match'];
      const record = await s.objects.set(keyset.subscribeKey, kind, id, patch, ifMatch === undefined || ifMatch === '' ? undefined : ifMatch, ctx.uuid);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: renderMetadata(kind, record, includeOf(ctx)) }));
    }),
    route('DELETE', one, ops.remove, byId, async (ctx, s, id, { keyset }) => {
      await s.objects.remove(keyset.subscribeKey, kind, id, ctx.uuid);
      sendJson(ctx.res, 200, '{"status":200,"data":null}');
    }),
  ];
}

interface RelationsPatch {
  id: string;
  q: ListQuery;
  set: ReturnType<typeof parseRelationsPatch>['set'];
  remove: string[];
}

/** Memberships live under /uuids/:id/channels (side 'uuid'), members under /channels/:id/uuids (side 'channel'). */
function relationRoutes(side: ObjectKind, path: string): Route<ObjectDeps>[] {
  const read = side === 'uuid' ? 'get_memberships' : 'get_members';
  const [setOp, removeOp] = side === 'uuid' ? (['set_memberships', 'remove_memberships'] as const) : (['set_members', 'remove_members'] as const);
  const list = async (ctx: RequestContext, s: ObjectDeps, keyset: Keyset, id: string, q: ListQuery): Promise<void> => {
    const include = includeOf(ctx);
    sendPage(ctx, q, await s.objects.relations(keyset.subscribeKey, side, id, q), (rel) => renderRelation(side, rel, include));
  };
  return [
    route(
      'GET',
      path,
      read,
      (ctx, s) => {
        const id = idParam(ctx, s, side);
        return { value: { id, q: listQueryOf(ctx) }, resources: resources(side, [id]) };
      },
      (ctx, s, { id, q }, { keyset }) => list(ctx, s, keyset, id, q),
    ),
    guarded<RelationsPatch, ObjectDeps>({
      method: 'PATCH',
      path,
      family: 'objects',
      service: 'objects',
      operation: [setOp, removeOp, read],
      // The channels to check are named in the body, so it is read (within its limit) before the decision.
      readsBody: true,
      parse: (ctx, s) => {
        const id = idParam(ctx, s, side);
        const q = listQueryOf(ctx);
        const { set, remove } = parseRelationsPatch(OTHER[side], parseJsonBody(ctx.body));
        if (set.length + remove.length > MAX_RELATIONS_PER_PATCH) {
          throw new ParleyError(
            'INVALID_PARAM',
            `body: at most ${MAX_RELATIONS_PER_PATCH} set and delete entries per request (got ${set.length + remove.length})`,
          );
        }
        for (const otherId of [...set.map((x) => x.id), ...remove]) {
          const problem = channelNameProblem(otherId, s.config.limits.maxChannelLength);
          if (problem !== undefined)
            throw new ParleyError('INVALID_PARAM', `${OTHER[side]} "${otherId.slice(0, 100)}": ${problem.replace('channel name', 'id')}`);
        }
        // §8.4: memberships need join on each channel; members need manage on the channel. A patch
        // that changes nothing still answers the list, so it needs what reading the list needs.
        const checks: AccessCheck[] = [];
        if (side === 'uuid') {
          if (set.length > 0) checks.push({ operation: setOp, resources: { channels: set.map((x) => x.id) } });
          if (remove.length > 0) checks.push({ operation: removeOp, resources: { channels: remove } });
        } else {
          if (set.length > 0) checks.push({ operation: setOp, resources: { channels: [id] } });
          if (remove.length > 0) checks.push({ operation: removeOp, resources: { channels: [id] } });
        }
        if (checks.length === 0) checks.push({ operation: read, resources: resources(side, [id]) });
        return { value: { id, q, set, remove }, checks };
      },
      handler: async (ctx, s, { id, q, set, remove }, { keyset }) => {
        await s.objects.changeRelations(keyset.subscribeKey, side, id, set, remove, ctx.uuid);
        await list(ctx, s, keyset, id, q);
      },
    }),
  ];
}

function route<V>(
  method: Route['method'],
  path: string,
  operation: Operation,
  parse: GuardedDefinition<V, ObjectDeps>['parse'],
  handler: GuardedDefinition<V, ObjectDeps>['handler'],
): Route<ObjectDeps> {
  return guarded<V, ObjectDeps>({ method, path, family: 'objects', service: 'objects', operation, parse, handler });
}

export const objectRoutes: Route<ObjectDeps>[] = [
  ...metadataRoutes('uuid', 'uuids'),
  ...metadataRoutes('channel', 'channels'),
  ...relationRoutes('uuid', '/v2/objects/:sub/uuids/:id/channels'),
  ...relationRoutes('channel', '/v2/objects/:sub/channels/:id/uuids'),
];
