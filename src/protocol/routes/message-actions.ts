import { ParleyError } from '../../errors.ts';
import { isPresenceName } from '../../realtime/channel-name.ts';
import type { MessageAction } from '../../store/types.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, queryInt, sendJson, timetokenValue, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';
import { rangeOf } from './history.ts';

/** The SDK refuses longer types itself (add_message_action.ts). */
const MAX_TYPE_LENGTH = 15;
/** getMessageActions: PubNub's default and largest page. */
const MAX_LIMIT = 100;
/**
 * Actions one message may carry: history-with-actions reads every action of each message it
 * returns (up to 25), so this bounds that answer.
 */
export const MAX_ACTIONS_PER_MESSAGE = 1000;
/**
 * add() refuses an action timetoken already used on the message. One node's generator never repeats,
 * but two nodes can draw the same value in the same millisecond; a fresh draw settles it.
 */
const ADD_ATTEMPTS = 3;

function requiredTimetoken(raw: string, what: string): bigint {
  const tt = timetokenValue(decodeComponent(raw, what), what);
  if (tt === undefined) throw new ParleyError('INVALID_TIMETOKEN', `${what} is missing`);
  return tt;
}

function channelParam(ctx: RequestContext, s: Services): string {
  const channel = decodeComponent(ctx.params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  if (isPresenceName(channel)) throw new ParleyError('INVALID_CHANNEL', 'presence channels carry no message actions');
  return channel;
}

/** The body of an add: `{"type":"reaction","value":"smiley"}` (§11). */
function actionBody(body: Buffer, maxValueBytes: number): { type: string; value: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'the message action body is not valid JSON');
  }
  const { type, value } = (parsed ?? {}) as { type?: unknown; value?: unknown };
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    throw new ParleyError('INVALID_PARAM', `action.type must be a string of 1-${MAX_TYPE_LENGTH} characters`);
  }
  if (typeof value !== 'string' || value.length === 0) throw new ParleyError('INVALID_PARAM', 'action.value must be a non-empty string');
  if (Buffer.byteLength(value) > maxValueBytes) throw new ParleyError('PAYLOAD_TOO_LARGE', `action.value is over ${maxValueBytes} bytes`);
  return { type, value };
}

/** An action as the SDK reads it: timetokens as strings (17 digits exceed a double). */
function actionJson(a: MessageAction): Record<string, string> {
  return { type: a.type, value: a.value, uuid: a.uuid, actionTimetoken: String(a.actionTimetoken), messageTimetoken: String(a.messageTimetoken) };
}

/**
 * Fans the change out as an `e:3` event (§3.5). `i` is the action's own uuid, for "removed" too: the
 * SDK turns `i` into `data.uuid`, and clients match a removal to the action they hold by it. The action
 * is already stored, so a failed fan-out is logged rather than reported: the change happened.
 */
async function announce(ctx: RequestContext, s: Services, a: MessageAction, event: 'added' | 'removed'): Promise<void> {
  const data = { type: a.type, value: a.value, messageTimetoken: String(a.messageTimetoken), actionTimetoken: String(a.actionTimetoken) };
  try {
    await s.pipeline.publish({
      subscribeKey: a.subscribeKey, channel: a.channel, publisher: a.uuid,
      payload: JSON.stringify({ source: 'actions', version: '1.0', event, data }),
      meta: null, customMessageType: null, type: 3, store: false, expiresAtMs: null,
    });
  } catch (err) {
    ctx.log.error({ err, channel: a.channel, event }, 'message action event not delivered');
  }
}

function parseAdd(ctx: RequestContext, s: Services): Parsed<{ channel: string; messageTimetoken: bigint }> {
  const channel = channelParam(ctx, s);
  const messageTimetoken = requiredTimetoken(ctx.params.message, 'message timetoken');
  return { value: { channel, messageTimetoken }, resources: { channels: [channel] } };
}

async function addAction(ctx: RequestContext, s: Services, { channel, messageTimetoken }: { channel: string; messageTimetoken: bigint }, { keyset }: Granted): Promise<void> {
  // The uuid is part of the action (who reacted); the SDK always sends one.
  if (ctx.uuid === '') throw new ParleyError('INVALID_PARAM', 'uuid is required');
  const { type, value } = actionBody(ctx.body, s.config.limits.maxMessageBytes);
  const base = { subscribeKey: keyset.subscribeKey, channel, messageTimetoken, type, value, uuid: ctx.uuid };
  if ((await s.messageActions.forMessages(keyset.subscribeKey, channel, [messageTimetoken])).length >= MAX_ACTIONS_PER_MESSAGE) {
    throw new ParleyError('INVALID_PARAM', `this message already has ${MAX_ACTIONS_PER_MESSAGE} actions, the most one message may carry`);
  }
  for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
    const action: MessageAction = { ...base, actionTimetoken: s.timetokens.next() };
    if (await s.messageActions.add(action)) {
      await announce(ctx, s, action, 'added');
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: actionJson(action) }));
      return;
    }
    const existing = await s.messageActions.forMessages(keyset.subscribeKey, channel, [messageTimetoken]);
    if (existing.some((a) => a.type === type && a.value === value && a.uuid === ctx.uuid)) {
      throw new ParleyError('CONFLICT', 'Action Already Added');
    }
  }
  throw new ParleyError('INTERNAL', 'no free action timetoken after several attempts');
}

/**
 * §11: `start` exclusive, `end` inclusive on the action timetoken; the newest `limit` of the range,
 * oldest first. `more` names the next (older) page whenever this one is not the last.
 */
interface GetParams {
  channel: string;
  start: bigint | undefined;
  end: bigint | undefined;
  limit: number;
}

function parseGet(ctx: RequestContext, s: Services): Parsed<GetParams> {
  const channel = channelParam(ctx, s);
  const start = timetokenValue(ctx.query.get('start'), 'start');
  const end = timetokenValue(ctx.query.get('end'), 'end');
  const limit = queryInt(ctx.query, 'limit', 1, MAX_LIMIT) ?? MAX_LIMIT;
  return { value: { channel, start, end, limit }, resources: { channels: [channel] } };
}

async function getActions(ctx: RequestContext, s: Services, { channel, start, end, limit }: GetParams, { keyset }: Granted): Promise<void> {
  const rows = await s.messageActions.list(keyset.subscribeKey, channel, rangeOf(start, end), limit + 1);
  const page = rows.length > limit ? rows.slice(1) : rows;
  const body: Record<string, unknown> = { status: 200, data: page.map(actionJson) };
  if (rows.length > limit) {
    const next = String(page[0].actionTimetoken);
    const query = `start=${next}${end === undefined ? '' : `&end=${end}`}&limit=${limit}`;
    body.more = {
      url: `/v1/message-actions/${ctx.params.sub}/channel/${ctx.params.channel}?${query}`,
      start: next,
      ...(end === undefined ? {} : { end: String(end) }),
      limit,
    };
  }
  sendJson(ctx.res, 200, JSON.stringify(body));
}

/** Removing an action that is not there answers 200 as well (it is gone either way) but announces nothing. */
interface RemoveParams {
  channel: string;
  messageTimetoken: bigint;
  actionTimetoken: bigint;
}

function parseRemove(ctx: RequestContext, s: Services): Parsed<RemoveParams> {
  const channel = channelParam(ctx, s);
  const messageTimetoken = requiredTimetoken(ctx.params.message, 'message timetoken');
  const actionTimetoken = requiredTimetoken(ctx.params.action, 'action timetoken');
  return { value: { channel, messageTimetoken, actionTimetoken }, resources: { channels: [channel] } };
}

async function removeAction(ctx: RequestContext, s: Services, { channel, messageTimetoken, actionTimetoken }: RemoveParams, { keyset }: Granted): Promise<void> {
  // Read first: the removal event carries the action's type, value and uuid.
  const existing = (await s.messageActions.forMessages(keyset.subscribeKey, channel, [messageTimetoken])).find(
    (a) => a.actionTimetoken === actionTimetoken,
  );
  if (existing !== undefined && (await s.messageActions.remove(keyset.subscribeKey, channel, messageTimetoken, actionTimetoken))) {
    await announce(ctx, s, existing, 'removed');
  }
  sendJson(ctx.res, 200, '{"status":200,"data":{}}');
}

const service = 'Message Actions';

export const messageActionRoutes: Route[] = [
  guarded({ method: 'POST', path: '/v1/message-actions/:sub/channel/:channel/message/:message', family: 'generic', service, operation: 'add_message_action', parse: parseAdd, handler: addAction }),
  guarded({ method: 'GET', path: '/v1/message-actions/:sub/channel/:channel', family: 'generic', service, operation: 'get_message_actions', parse: parseGet, handler: getActions }),
  guarded({
    method: 'DELETE', path: '/v1/message-actions/:sub/channel/:channel/message/:message/action/:action', family: 'generic', service,
    operation: 'remove_message_action', parse: parseRemove, handler: removeAction,
  }),
];
