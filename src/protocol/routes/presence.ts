import { ParleyError } from '../../errors.ts';
import type { Occupancy, State } from '../../realtime/presence.ts';
import { authorize, checkChannels, keysetFor } from '../guard.ts';
import { decodeComponent, decodeList, queryFlag, queryInt, queryJsonObject, queryList, sendJson, type RequestContext } from '../request.ts';
import type { Route } from '../route.ts';
import type { Services } from '../services.ts';

const OK = '{"status":200,"message":"OK","service":"Presence"}';

/** Plain channels plus the member channels of the groups: presence is tracked per channel (§4.3). */
export async function presenceTargets(s: Services, subscribeKey: string, channels: readonly string[], groups: readonly string[]): Promise<string[]> {
  const out = new Set(channels);
  for (const g of groups) for (const m of await s.groups.members(subscribeKey, g)) out.add(m);
  return [...out];
}

/** `state={"ch":{…}}` → state per target channel; keys that are not target channels are ignored. */
export function stateByChannel(state: Record<string, unknown> | undefined, targets: readonly string[]): Record<string, State> | undefined {
  if (!state) return undefined;
  const out: Record<string, State> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ParleyError('INVALID_PARAM', `state for "${k}" must be an object`);
    if (targets.includes(k)) out[k] = v as State;
  }
  return out;
}

function listRequest(ctx: RequestContext, s: Services) {
  const keyset = keysetFor(s, ctx.params.sub);
  const channels = ctx.params.channels === undefined ? [] : decodeList(ctx.params.channels, 'channels').filter((c) => !c.endsWith('-pnpres'));
  const groups = queryList(ctx.query, 'channel-group').filter((g) => !g.endsWith('-pnpres'));
  checkChannels(s, channels, 'channel');
  checkChannels(s, groups, 'channel group');
  return { keyset, channels, groups };
}

async function heartbeat(ctx: RequestContext, s: Services): Promise<void> {
  const { keyset, channels, groups } = listRequest(ctx, s);
  if (channels.length + groups.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels or channel groups');
  const timeout = queryInt(ctx.query, 'heartbeat', 0, 86_400) ?? null;
  const state = queryJsonObject(ctx.query, 'state');
  authorize(ctx, s, keyset, 'heartbeat', { channels, groups });
  const targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
  if (timeout !== 0) await s.presence.heartbeat(keyset.subscribeKey, ctx.uuid, targets, timeout, stateByChannel(state, targets));
  sendJson(ctx.res, 200, OK);
}

async function leave(ctx: RequestContext, s: Services): Promise<void> {
  const { keyset, channels, groups } = listRequest(ctx, s);
  authorize(ctx, s, keyset, 'leave', { channels, groups });
  await s.presence.leave(keyset.subscribeKey, ctx.uuid, await presenceTargets(s, keyset.subscribeKey, channels, groups));
  sendJson(ctx.res, 200, '{"status":200,"message":"OK","action":"leave","service":"Presence"}');
}

function occupantsJson(o: Occupancy, withState: boolean): unknown[] {
  return o.occupants.map((p) => (withState ? (p.state === undefined ? { uuid: p.uuid } : { uuid: p.uuid, state: p.state }) : p.uuid));
}

async function hereNow(ctx: RequestContext, s: Services): Promise<void> {
  const global = ctx.params.channels === undefined;
  const { keyset, channels, groups } = listRequest(ctx, s);
  if (!global && channels.length + groups.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels or channel groups');
  const withState = queryFlag(ctx.query, 'state') ?? false;
  const withUuids = !(queryFlag(ctx.query, 'disable_uuids') ?? false);
  const limit = queryInt(ctx.query, 'limit', 0, 1000) ?? 1000;
  const offset = queryInt(ctx.query, 'offset', 0, 1_000_000) ?? 0;
  authorize(ctx, s, keyset, global ? 'here_now_global' : 'here_now', { channels, groups });
  const targets = global ? await s.presence.occupiedChannels(keyset.subscribeKey) : await presenceTargets(s, keyset.subscribeKey, channels, groups);
  const result = await s.presence.hereNow(keyset.subscribeKey, targets, withState);
  const page = (o: Occupancy): Occupancy => ({ occupancy: o.occupancy, occupants: o.occupants.slice(offset, offset + limit) });

  // §4.3: the single-channel shape only for exactly one channel and no groups.
  if (!global && channels.length === 1 && groups.length === 0) {
    const o = page(result.get(channels[0]) as Occupancy);
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
    const p = page(o);
    out[ch] = withUuids ? { occupancy: o.occupancy, uuids: occupantsJson(p, withState) } : { occupancy: o.occupancy };
  }
  sendJson(ctx.res, 200, JSON.stringify({
    status: 200, message: 'OK', service: 'Presence',
    payload: { total_channels: Object.keys(out).length, total_occupancy: total, channels: out },
  }));
}

async function whereNow(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  const uuid = decodeComponent(ctx.params.uuid, 'uuid');
  authorize(ctx, s, keyset, 'where_now', {});
  const channels = await s.presence.whereNow(keyset.subscribeKey, uuid);
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', payload: { channels }, service: 'Presence' }));
}

async function getState(ctx: RequestContext, s: Services): Promise<void> {
  const { keyset, channels, groups } = listRequest(ctx, s);
  const uuid = decodeComponent(ctx.params.uuid, 'uuid');
  authorize(ctx, s, keyset, 'get_state', { channels, groups });
  const targets = await presenceTargets(s, keyset.subscribeKey, channels, groups);
  const states = await s.presence.getState(keyset.subscribeKey, uuid, targets);
  if (channels.length === 1 && groups.length === 0) {
    sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', uuid, payload: states[channels[0]] ?? {}, service: 'Presence' }));
    return;
  }
  // §4.6: a flat channel → state map, not nested under `channels`.
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', uuid, payload: states, service: 'Presence' }));
}

async function setState(ctx: RequestContext, s: Services): Promise<void> {
  const { keyset, channels, groups } = listRequest(ctx, s);
  const uuid = decodeComponent(ctx.params.uuid, 'uuid');
  if (uuid !== ctx.uuid) throw new ParleyError('INVALID_PARAM', 'state can only be set for the caller\'s own uuid');
  const state = queryJsonObject(ctx.query, 'state');
  if (state === undefined) throw new ParleyError('INVALID_PARAM', 'state is missing');
  authorize(ctx, s, keyset, 'set_state', { channels, groups });
  await s.presence.setState(keyset.subscribeKey, uuid, await presenceTargets(s, keyset.subscribeKey, channels, groups), state);
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, message: 'OK', payload: state, service: 'Presence' }));
}

const route = (method: 'GET', path: string, handler: Route['handler']): Route => ({ method, path, family: 'generic', service: 'Presence', handler });

export const presenceRoutes: Route[] = [
  route('GET', '/v2/presence/sub-key/:sub/channel/:channels/heartbeat', heartbeat),
  route('GET', '/v2/presence/sub-key/:sub/channel/:channels/leave', leave),
  route('GET', '/v2/presence/sub-key/:sub/channel/:channels/uuid/:uuid/data', setState),
  route('GET', '/v2/presence/sub-key/:sub/channel/:channels/uuid/:uuid', getState),
  route('GET', '/v2/presence/sub-key/:sub/channel/:channels', hereNow),
  route('GET', '/v2/presence/sub-key/:sub/uuid/:uuid', whereNow),
  route('GET', '/v2/presence/sub-key/:sub', hereNow),
];
