import { ParleyError } from '../../errors.ts';
import type { Occupancy, State } from '../../realtime/presence.ts';
import type { Operation } from '../../access/enforcement.ts';
import { checkExpandedCount, checkGroupCount } from '../channel-caps.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, decodeList, queryFlag, queryInt, queryJsonObject, queryList, sendJson, type RequestContext } from '../request.ts';
import { guarded, type AccessCheck, type Granted, type GuardedDefinition, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What the presence routes use (route.ts). */
export type PresenceDeps = Pick<Services, 'config' | 'presence' | 'groups'>;

const OK = '{"status":200,"message":"OK","service":"Presence"}';

/**
 * Plain channels plus the member channels of the groups: presence is tracked per channel (§4.3).
 * Bounded like a subscribe: limits.maxGroupsPerSubscribe groups, limits.maxChannelsPerSubscription
 * channels once expanded, counted while expanding.
 */
export async function presenceTargets(
  s: Pick<Services, 'config' | 'groups'>,
  subscribeKey: string,
  channels: readonly string[],
  groups: readonly string[],
): Promise<string[]> {
  checkGroupCount(s, groups);
  const out = new Set(channels);
  checkExpandedCount(s, out.size);
  for (const g of groups) {
    const members = await s.groups.members(subscribeKey, g);
    checkExpandedCount(s, out.size + members.length);
    for (const m of members) out.add(m);
  }
  return [...out];
}

/** `state={"ch":{…}}` → state per target channel; keys that are not target channels are ignored. */
export function stateByChannel(state: Record<string, unknown> | undefined, targets: readonly string[]): Record<string, State> | undefined {
  if (!state) return undefined;
  const out: Record<string, State> = {};
  // A set: both lists come from the request, and may be long.
  const isTarget = new Set(targets);
  for (const [k, v] of Object.entries(state)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ParleyError('INVALID_PARAM', `state for "${k}" must be an object`);
    if (isTarget.has(k)) out[k] = v as State;
  }
  return out;
}

interface ListParams {
  channels: string[];
  groups: string[];
}

/** Channels from the path and groups from the query; `-pnpres` names are ignored (presence is tracked per channel). */
function listParams(ctx: RequestContext, s: PresenceDeps): ListParams {
  const channels = ctx.params.channels === undefined ? [] : decodeList(ctx.params.channels, 'channels').filter((c) => !c.endsWith('-pnpres'));
  const groups = queryList(ctx.query, 'channel-group').filter((g) => !g.endsWith('-pnpres'));
  checkChannels(s, channels, 'channel');
  checkChannels(s, groups, 'channel group');
  return { channels, groups };
}

function nonEmptyList(ctx: RequestContext, s: PresenceDeps): ListParams {
  const list = listParams(ctx, s);
  if (list.channels.length + list.groups.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels or channel groups');
  return list;
}

const OK_LEAVE = '{"status":200,"message":"OK","action":"leave","service":"Presence"}';

function occupantsJson(o: Occupancy, withState: boolean): unknown[] {
  return o.occupants.map((p) => (withState ? (p.state === undefined ? { uuid: p.uuid } : { uuid: p.uuid, state: p.state }) : p.uuid));
}

interface HereNowParams extends ListParams {
  global: boolean;
  withState: boolean;
  withUuids: boolean;
  limit: number;
  offset: number;
}

function parseHereNow(ctx: RequestContext, s: PresenceDeps, global: boolean): Parsed<HereNowParams> {
  const list = global ? { channels: [], groups: [] } : nonEmptyList(ctx, s);
  const value: HereNowParams = {
    ...list,
    global,
    withState: queryFlag(ctx.query, 'state') ?? false,
    withUuids: !(queryFlag(ctx.query, 'disable_uuids') ?? false),
    limit: queryInt(ctx.query, 'limit', 0, 1000) ?? 1000,
    offset: queryInt(ctx.query, 'offset', 0, 1_000_000) ?? 0,
  };
  return { value, resources: { channels: list.channels, groups: list.groups } };
}

/**
 * Most bytes one set-state may store: its state's size times the channels it reaches once its groups are
 * expanded (each copy is kept and announced in a state-change event). Past it a 400 asks for less.
 */
export const MAX_STATE_COPY_BYTES = 1_048_576;

/** Most uuids one here-now answer lists (over all its channels); past it a 400 asks for less. */
export const MAX_HERE_NOW_UUIDS = 100_000;

async function hereNow(ctx: RequestContext, s: PresenceDeps, p: HereNowParams, { keyset }: Granted): Promise<void> {
  const { global, channels, groups, withState, withUuids, limit, offset } = p;
  let targets: string[];
  if (global) {
    targets = await s.presence.occupiedChannels(keyset.subscribeKey);
    checkExpandedCount(s, targets.length);
  } else {
    targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
  }
  // Occupants come paged (`limit` per channel; none without uuids); state is read for the listed ones
  // only, once their number is known to be within MAX_HERE_NOW_UUIDS.
  const result = await s.presence.hereNow(keyset.subscribeKey, targets, false, { offset, limit: withUuids ? limit : 0 });
  let listed = 0;
  for (const o of result.values()) listed += o.occupants.length;
  if (listed > MAX_HERE_NOW_UUIDS) {
    throw new ParleyError(
      'INVALID_PARAM',
      `this here-now would list ${listed} uuids; at most ${MAX_HERE_NOW_UUIDS} per answer: ask with a smaller limit, for fewer channels, or with disable_uuids=1`,
    );
  }
  if (withState) {
    for (const [ch, o] of result) {
      for (const occupant of o.occupants) occupant.state = (await s.presence.getState(keyset.subscribeKey, occupant.uuid, [ch]))[ch];
    }
  }

  // §4.3: the single-channel shape only for exactly one channel and no groups.
  if (!global && channels.length === 1 && groups.length === 0) {
    const o = result.get(channels[0]) as Occupancy;
    const body: Record<string, unknown> = { status: 200, message: 'OK', occupancy: o.occupancy };
    if (withUuids) body.uuids = occupantsJson(o, withState);
    body.service = 'Presence';
    sendJson(ctx.res, 200, JSON.stringify(body));
    return;
  }
  const out: Record<string, unknown> = {};
  let total = 0;
  for (const [ch, o] of result) {
    if (global && o.occupancy === 0) continue;
    total += o.occupancy;
    out[ch] = withUuids ? { occupancy: o.occupancy, uuids: occupantsJson(o, withState) } : { occupancy: o.occupancy };
  }
  sendJson(
    ctx.res,
    200,
    JSON.stringify({
      status: 200,
      message: 'OK',
      service: 'Presence',
      payload: { total_channels: Object.keys(out).length, total_occupancy: total, channels: out },
    }),
  );
}

/** SDKs whose multi-channel get state reads `payload.channels` (compat.md). */
const NESTED_STATE_SDK = /^PubNub(-Python|Swift)/;

interface StateParams extends ListParams {
  uuid: string;
}

function parseState(ctx: RequestContext, s: PresenceDeps, write: boolean): Parsed<StateParams & { state?: Record<string, unknown> }> {
  const list = listParams(ctx, s);
  const uuid = decodeComponent(ctx.params.uuid, 'uuid');
  if (!write) return { value: { ...list, uuid }, resources: { channels: list.channels, groups: list.groups } };
  if (uuid !== ctx.uuid) throw new ParleyError('INVALID_PARAM', "state can only be set for the caller's own uuid");
  const state = queryJsonObject(ctx.query, 'state');
  if (state === undefined) throw new ParleyError('INVALID_PARAM', 'state is missing');
  return { value: { ...list, uuid, state }, resources: { channels: list.channels, groups: list.groups } };
}

async function getState(ctx: RequestContext, s: PresenceDeps, p: StateParams, { keyset }: Granted): Promise<void> {
  const { channels, groups, uuid } = p;
  const targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
  const states = await s.presence.getState(keyset.subscribeKey, uuid, targets);
  if (channels.length === 1 && groups.length === 0) {
    // `channel` too: Swift decodes the single-channel shape only when it is there.
    sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', uuid, channel: channels[0], payload: states[channels[0]] ?? {}, service: 'Presence' }));
    return;
  }
  // §4.6: the JS and Kotlin SDKs read `payload` as the channel → state map; Python and Swift read
  // `payload.channels`, which is how PubNub itself answers. Each gets the shape its parser documents.
  const nested = NESTED_STATE_SDK.test(ctx.query.get('pnsdk') ?? '');
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', uuid, payload: nested ? { channels: states } : states, service: 'Presence' }));
}

const presenceRoute = <V>(
  path: string,
  operation: Operation | readonly Operation[],
  parse: GuardedDefinition<V, PresenceDeps>['parse'],
  handler: GuardedDefinition<V, PresenceDeps>['handler'],
): Route<PresenceDeps> => guarded<V, PresenceDeps>({ method: 'GET', path, family: 'generic', service: 'Presence', operation, parse, handler });

const dashedRoutes: Route<PresenceDeps>[] = [
  presenceRoute(
    '/v2/presence/sub-key/:sub/channel/:channels/heartbeat',
    'heartbeat',
    (ctx, s) => {
      const list = nonEmptyList(ctx, s);
      const timeout = queryInt(ctx.query, 'heartbeat', 0, 86_400) ?? null;
      const state = queryJsonObject(ctx.query, 'state');
      return { value: { ...list, timeout, state }, resources: list };
    },
    async (ctx, s, { channels, groups, timeout, state }, { keyset }) => {
      const targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
      if (timeout !== 0) await s.presence.heartbeat(keyset.subscribeKey, ctx.uuid, targets, timeout, stateByChannel(state, targets));
      sendJson(ctx.res, 200, OK);
    },
  ),
  // A leave changes what everyone sees of this uuid: it needs a credential that could read the channels (security.md).
  presenceRoute(
    '/v2/presence/sub-key/:sub/channel/:channels/leave',
    'leave',
    (ctx, s) => {
      const list = listParams(ctx, s);
      return { value: list, resources: list };
    },
    async (ctx, s, { channels, groups }, { keyset }) => {
      await s.presence.leave(keyset.subscribeKey, ctx.uuid, await presenceTargets(s, keyset.subscribeKey, channels, groups));
      sendJson(ctx.res, 200, OK_LEAVE);
    },
  ),
  presenceRoute(
    '/v2/presence/sub-key/:sub/channel/:channels/uuid/:uuid/data',
    'set_state',
    (ctx, s) => parseState(ctx, s, true),
    async (ctx, s, { channels, groups, uuid, state }, { keyset }) => {
      const value = state ?? {};
      const targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
      // One state is stored (and announced) once per target channel: its groups may expand to thousands.
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes * targets.length > MAX_STATE_COPY_BYTES) {
        throw new ParleyError(
          'INVALID_PARAM',
          `this set-state would store a ${bytes}-byte state on ${targets.length} channels; at most ${MAX_STATE_COPY_BYTES} bytes in all per request: set it on fewer channels or groups, or make it smaller`,
        );
      }
      await s.presence.setState(keyset.subscribeKey, uuid, targets, value);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', payload: value, service: 'Presence' }));
    },
  ),
  presenceRoute('/v2/presence/sub-key/:sub/channel/:channels/uuid/:uuid', 'get_state', (ctx, s) => parseState(ctx, s, false), getState),
  presenceRoute('/v2/presence/sub-key/:sub/channel/:channels', 'here_now', (ctx, s) => parseHereNow(ctx, s, false), hereNow),
  // Where another uuid is: not for anonymous callers (security.md); one's own whereabouts need nothing.
  presenceRoute(
    '/v2/presence/sub-key/:sub/uuid/:uuid',
    ['where_now', 'where_now_other'],
    (ctx) => {
      const uuid = decodeComponent(ctx.params.uuid, 'uuid');
      const checks: AccessCheck[] =
        uuid === ctx.uuid ? [{ operation: 'where_now', resources: {} }] : [{ operation: 'where_now_other', resources: { uuids: [uuid] } }];
      return { value: uuid, checks };
    },
    async (ctx, s, uuid, { keyset }) => {
      const channels = await s.presence.whereNow(keyset.subscribeKey, uuid);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', payload: { channels }, service: 'Presence' }));
    },
  ),
  presenceRoute('/v2/presence/sub-key/:sub', 'here_now_global', (ctx, s) => parseHereNow(ctx, s, true), hereNow),
];

/**
 * C# (every presence call), Kotlin and Go here_now, Dart and Ruby send `/v2/presence/sub_key/…` with an
 * underscore: the same routes under both spellings. A signature covers the path as sent.
 */
export const presenceRoutes: Route<PresenceDeps>[] = [...dashedRoutes, ...dashedRoutes.map((r) => ({ ...r, path: r.path.replace('/sub-key/', '/sub_key/') }))];
