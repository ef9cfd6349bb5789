import { ParleyError } from '../../errors.ts';
import { timetokenRange } from '../../realtime/timetoken-range.ts';
import type { StoredMessage, TimetokenRange } from '../../store/types.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, decodeList, queryFlag, queryInt, queryTimetoken, sendJson, timetokenValue, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What the history routes use (route.ts): the store, and message actions for history with actions. */
export type HistoryDeps = Pick<Services, 'config' | 'messages' | 'messageActions' | 'clock'>;

/** Numbers in JSON text without going through a double (17 digits exceed 2^53). */
const ttJson = (v: bigint, asString: boolean): string => (asString ? `"${v}"` : v.toString());

interface HistoryV2Params {
  channel: string;
  count: number;
  reverse: boolean;
  includeToken: boolean;
  includeMeta: boolean;
  asString: boolean;
  range: TimetokenRange;
}

function parseHistoryV2(ctx: RequestContext, s: HistoryDeps): Parsed<HistoryV2Params> {
  const channel = decodeComponent(ctx.params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  const value: HistoryV2Params = {
    channel,
    count: queryInt(ctx.query, 'count', 1, 100) ?? 100,
    reverse: queryFlag(ctx.query, 'reverse') ?? false,
    includeToken: queryFlag(ctx.query, 'include_token') ?? false,
    includeMeta: queryFlag(ctx.query, 'include_meta') ?? false,
    asString: queryFlag(ctx.query, 'string_message_token') ?? false,
    range: timetokenRange(queryTimetoken(ctx.query, 'start'), queryTimetoken(ctx.query, 'end')),
  };
  return { value, resources: { channels: [channel] } };
}

async function historyV2(ctx: RequestContext, s: HistoryDeps, p: HistoryV2Params, { keyset }: Granted): Promise<void> {
  const { channel, count, reverse, includeToken, includeMeta, asString, range } = p;
  const rows = await s.messages.query({
    subscribeKey: keyset.subscribeKey,
    channels: [channel],
    range,
    limit: count,
    keep: reverse ? 'oldest' : 'newest',
    nowMs: s.clock.nowMs(),
  });
  const entries = rows.map((m) => {
    if (!includeToken && !includeMeta) return m.payload;
    let e = `{"message":${m.payload}`;
    if (includeToken) e += `,"timetoken":${ttJson(m.timetoken, asString)}`;
    if (includeMeta) e += `,"meta":${m.meta ?? '""'}`;
    return e + '}';
  });
  const first = rows.length ? rows[0].timetoken : 0n;
  const last = rows.length ? rows[rows.length - 1].timetoken : 0n;
  sendJson(ctx.res, 200, `[[${entries.join(',')}],${ttJson(first, asString)},${ttJson(last, asString)}]`);
}

function entryV3(m: StoredMessage, ctx: RequestContext, actions: string | null): string {
  const q = (k: string): boolean => queryFlag(ctx.query, k) ?? false;
  let e = `{"message":${m.payload},"timetoken":"${m.timetoken}"`;
  if (q('include_uuid')) e += `,"uuid":${JSON.stringify(m.publisher)}`;
  if (q('include_message_type')) e += `,"message_type":${m.type === 0 ? 'null' : m.type}`;
  if (q('include_custom_message_type')) e += `,"custom_message_type":${m.customMessageType === null ? 'null' : JSON.stringify(m.customMessageType)}`;
  if (q('include_meta')) e += `,"meta":${m.meta ?? '""'}`;
  if (actions !== null) e += `,"actions":${actions}`;
  return e + '}';
}

interface FetchParams {
  channels: string[];
  max: number;
  start: bigint | undefined;
  end: bigint | undefined;
}

/** Most channels one fetch-messages call reads (PubNub: 500). */
const MAX_FETCH_CHANNELS = 500;

function parseFetch(ctx: RequestContext, s: HistoryDeps, withActions: boolean): Parsed<FetchParams> {
  const channels = decodeList(ctx.params.channels, 'channels');
  if (channels.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels');
  if (withActions && channels.length > 1) throw new ParleyError('INVALID_PARAM', 'history with actions takes one channel');
  if (channels.length > MAX_FETCH_CHANNELS) throw new ParleyError('INVALID_PARAM', `at most ${MAX_FETCH_CHANNELS} channels per fetch`);
  checkChannels(s, channels, 'channel');
  const cap = channels.length === 1 && !withActions ? 100 : 25;
  const max = Math.min(queryInt(ctx.query, 'max', 1, 100) ?? cap, cap);
  const value = { channels, max, start: queryTimetoken(ctx.query, 'start'), end: queryTimetoken(ctx.query, 'end') };
  return { value, resources: { channels } };
}

async function fetchMessages(ctx: RequestContext, s: HistoryDeps, withActions: boolean, p: FetchParams, { keyset }: Granted): Promise<void> {
  const { channels, max, start, end } = p;
  const nowMs = s.clock.nowMs();
  // §5.2: with only `end`, the page runs forward from end; otherwise it is the newest before start.
  const keep = end !== undefined && start === undefined ? 'oldest' : 'newest';
  const parts: string[] = [];
  let more = '';
  for (const ch of channels) {
    // With actions, one row beyond the page tells whether older messages remain (`more`). A forward
    // page (`end` only) is just cut: `more` has no field for the other direction.
    const limit = withActions ? max + 1 : max;
    let rows = await s.messages.query({ subscribeKey: keyset.subscribeKey, channels: [ch], range: timetokenRange(start, end), limit, keep, nowMs });
    if (rows.length > max) {
      rows = keep === 'newest' ? rows.slice(1) : rows.slice(0, max);
      if (keep === 'newest') more = moreJson(ctx, rows[0].timetoken, end, max);
    }
    if (rows.length === 0) continue;
    const actions = withActions
      ? await actionsByMessage(
          s,
          keyset.subscribeKey,
          ch,
          rows.map((m) => m.timetoken),
        )
      : null;
    parts.push(`${JSON.stringify(ch)}:[${rows.map((m) => entryV3(m, ctx, actions === null ? null : (actions.get(m.timetoken) ?? '{}'))).join(',')}]`);
  }
  sendJson(ctx.res, 200, `{"status":200,"error":false,"error_message":"","channels":{${parts.join(',')}}${more}}`);
}

/**
 * The `actions` of history-with-actions (§5.2) per message timetoken, as JSON text:
 * `{type: {value: [{uuid, actionTimetoken}]}}`, entries in the order the actions were added. Built
 * from Maps so a type or value such as `__proto__` is an ordinary key.
 */
async function actionsByMessage(s: HistoryDeps, subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<Map<bigint, string>> {
  const grouped = new Map<bigint, Map<string, Map<string, Array<{ uuid: string; actionTimetoken: string }>>>>();
  for (const a of await s.messageActions.forMessages(subscribeKey, channel, messageTimetokens)) {
    let types = grouped.get(a.messageTimetoken);
    if (types === undefined) grouped.set(a.messageTimetoken, (types = new Map()));
    let values = types.get(a.type);
    if (values === undefined) types.set(a.type, (values = new Map()));
    let entries = values.get(a.value);
    if (entries === undefined) values.set(a.value, (entries = []));
    entries.push({ uuid: a.uuid, actionTimetoken: String(a.actionTimetoken) });
  }
  const json = (types: Map<string, Map<string, unknown[]>>) =>
    JSON.stringify(Object.fromEntries([...types].map(([type, values]) => [type, Object.fromEntries(values)])));
  return new Map([...grouped].map(([tt, types]) => [tt, json(types)]));
}

/** §5.2 `more`: where the next (older) page of a truncated history-with-actions answer starts. */
function moreJson(ctx: RequestContext, nextStart: bigint, end: bigint | undefined, max: number): string {
  const query = `start=${nextStart}${end === undefined ? '' : `&end=${end}`}&max=${max}`;
  const url = `/v3/history-with-actions/sub-key/${ctx.params.sub}/channel/${ctx.params.channels}?${query}`;
  return `,"more":${JSON.stringify({ url, start: String(nextStart), max })}`;
}

function parseDelete(ctx: RequestContext, s: HistoryDeps): Parsed<{ channel: string; range: TimetokenRange }> {
  const channels = decodeList(ctx.params.channels, 'channels');
  if (channels.length !== 1) throw new ParleyError('INVALID_PARAM', 'delete messages takes exactly one channel');
  checkChannels(s, channels, 'channel');
  const range = timetokenRange(queryTimetoken(ctx.query, 'start'), queryTimetoken(ctx.query, 'end'));
  return { value: { channel: channels[0], range }, resources: { channels } };
}

async function deleteMessages(ctx: RequestContext, s: HistoryDeps, p: { channel: string; range: TimetokenRange }, { keyset }: Granted): Promise<void> {
  await s.messages.delete(keyset.subscribeKey, p.channel, p.range);
  sendJson(ctx.res, 200, '{"status":200,"error":false,"error_message":""}');
}

function parseCounts(ctx: RequestContext, s: HistoryDeps): Parsed<{ channels: string[]; tts: bigint[] }> {
  const channels = decodeList(ctx.params.channels, 'channels');
  if (channels.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels');
  if (channels.length > MAX_FETCH_CHANNELS) throw new ParleyError('INVALID_PARAM', `at most ${MAX_FETCH_CHANNELS} channels per message count`);
  checkChannels(s, channels, 'channel');
  let tts: bigint[];
  const single = queryTimetoken(ctx.query, 'timetoken');
  const perChannel = ctx.query.get('channelsTimetoken');
  if (perChannel) {
    tts = perChannel.split(',').map((raw) => {
      const v = timetokenValue(raw, 'channelsTimetoken');
      if (v === undefined) throw new ParleyError('INVALID_TIMETOKEN', 'channelsTimetoken holds an empty timetoken');
      return v;
    });
    if (tts.length === 1) tts = channels.map(() => tts[0]);
    if (tts.length !== channels.length) throw new ParleyError('INVALID_PARAM', 'channelsTimetoken needs one timetoken per channel');
  } else if (single !== undefined) {
    tts = channels.map(() => single);
  } else {
    throw new ParleyError('INVALID_PARAM', 'timetoken or channelsTimetoken is required');
  }
  return { value: { channels, tts }, resources: { channels } };
}

async function messageCounts(
  ctx: RequestContext,
  s: HistoryDeps,
  { channels, tts }: { channels: string[]; tts: bigint[] },
  { keyset }: Granted,
): Promise<void> {
  const counts: Record<string, number> = {};
  const nowMs = s.clock.nowMs();
  for (let i = 0; i < channels.length; i++) {
    counts[channels[i]] = await s.messages.count(keyset.subscribeKey, channels[i], { gt: tts[i] }, 10_000, nowMs);
  }
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, error: false, error_message: '', channels: counts, more: {} }));
}

export const historyRoutes: Route<HistoryDeps>[] = [
  guarded({
    method: 'GET',
    path: '/v2/history/sub-key/:sub/channel/:channel',
    family: 'generic',
    service: 'History',
    operation: 'history',
    parse: parseHistoryV2,
    handler: historyV2,
  }),
  guarded({
    method: 'GET',
    path: '/v3/history/sub-key/:sub/channel/:channels',
    family: 'history3',
    service: 'History',
    operation: 'fetch_messages',
    parse: (ctx, s) => parseFetch(ctx, s, false),
    handler: (ctx, s, p, g) => fetchMessages(ctx, s, false, p, g),
  }),
  guarded({
    method: 'GET',
    path: '/v3/history-with-actions/sub-key/:sub/channel/:channels',
    family: 'history3',
    service: 'History',
    operation: 'fetch_messages',
    parse: (ctx, s) => parseFetch(ctx, s, true),
    handler: (ctx, s, p, g) => fetchMessages(ctx, s, true, p, g),
  }),
  guarded({
    method: 'DELETE',
    path: '/v3/history/sub-key/:sub/channel/:channels',
    family: 'history3',
    service: 'History',
    operation: 'delete_messages',
    parse: parseDelete,
    handler: deleteMessages,
  }),
  guarded({
    method: 'GET',
    path: '/v3/history/sub-key/:sub/message-counts/:channels',
    family: 'history3',
    service: 'History',
    operation: 'message_counts',
    parse: parseCounts,
    handler: messageCounts,
  }),
];
