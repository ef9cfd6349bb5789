import { ParleyError } from '../../errors.ts';
import { isPresenceName } from '../../realtime/channel-name.ts';
import type { MessageAction } from '../../store/types.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, queryInt, sendJson, timetokenValue, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What the message-action routes use (route.ts); the rules are realtime/message-actions.ts's. */
export type MessageActionDeps = Pick<Services, 'config' | 'messageActions'>;

/** getMessageActions: PubNub's default and largest page. */
const MAX_LIMIT = 100;

function requiredTimetoken(raw: string, what: string): bigint {
  const tt = timetokenValue(decodeComponent(raw, what), what);
  if (tt === undefined) throw new ParleyError('INVALID_TIMETOKEN', `${what} is missing`);
  return tt;
}

function channelParam(ctx: RequestContext, s: MessageActionDeps): string {
  const channel = decodeComponent(ctx.params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  if (isPresenceName(channel)) throw new ParleyError('INVALID_CHANNEL', 'presence channels carry no message actions');
  return channel;
}

/**
 * The body of an add: `{"type":"reaction","value":"smiley"}` (§11). A missing or non-string field reads
 * as empty, which the service refuses with that field's rule.
 */
function actionBody(body: Buffer): { type: string; value: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'the message action body is not valid JSON');
  }
  const { type, value } = (parsed ?? {}) as { type?: unknown; value?: unknown };
  return { type: typeof type === 'string' ? type : '', value: typeof value === 'string' ? value : '' };
}

/** An action as the SDK reads it: timetokens as strings (17 digits exceed a double). */
function actionJson(a: MessageAction): Record<string, string> {
  return { type: a.type, value: a.value, uuid: a.uuid, actionTimetoken: String(a.actionTimetoken), messageTimetoken: String(a.messageTimetoken) };
}

function parseAdd(ctx: RequestContext, s: MessageActionDeps): Parsed<{ channel: string; messageTimetoken: bigint }> {
  const channel = channelParam(ctx, s);
  const messageTimetoken = requiredTimetoken(ctx.params.message, 'message timetoken');
  return { value: { channel, messageTimetoken }, resources: { channels: [channel] } };
}

async function addAction(
  ctx: RequestContext,
  s: MessageActionDeps,
  { channel, messageTimetoken }: { channel: string; messageTimetoken: bigint },
  { keyset }: Granted,
): Promise<void> {
  // The uuid is part of the action (who reacted); the SDK always sends one. Required before the body is read.
  if (ctx.uuid === '') throw new ParleyError('INVALID_PARAM', 'uuid is required');
  const { type, value } = actionBody(ctx.body);
  const action = await s.messageActions.add({ subscribeKey: keyset.subscribeKey, channel, messageTimetoken, type, value, uuid: ctx.uuid });
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: actionJson(action) }));
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

function parseGet(ctx: RequestContext, s: MessageActionDeps): Parsed<GetParams> {
  const channel = channelParam(ctx, s);
  const start = timetokenValue(ctx.query.get('start'), 'start');
  const end = timetokenValue(ctx.query.get('end'), 'end');
  const limit = queryInt(ctx.query, 'limit', 1, MAX_LIMIT) ?? MAX_LIMIT;
  return { value: { channel, start, end, limit }, resources: { channels: [channel] } };
}

async function getActions(ctx: RequestContext, s: MessageActionDeps, { channel, start, end, limit }: GetParams, { keyset }: Granted): Promise<void> {
  const page = await s.messageActions.list(keyset.subscribeKey, channel, start, end, limit);
  const body: Record<string, unknown> = { status: 200, data: page.actions.map(actionJson) };
  if (page.next !== null) {
    const next = String(page.next);
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

function parseRemove(ctx: RequestContext, s: MessageActionDeps): Parsed<RemoveParams> {
  const channel = channelParam(ctx, s);
  const messageTimetoken = requiredTimetoken(ctx.params.message, 'message timetoken');
  const actionTimetoken = requiredTimetoken(ctx.params.action, 'action timetoken');
  return { value: { channel, messageTimetoken, actionTimetoken }, resources: { channels: [channel] } };
}

async function removeAction(
  ctx: RequestContext,
  s: MessageActionDeps,
  { channel, messageTimetoken, actionTimetoken }: RemoveParams,
  { keyset }: Granted,
): Promise<void> {
  await s.messageActions.remove(keyset.subscribeKey, channel, messageTimetoken, actionTimetoken);
  sendJson(ctx.res, 200, '{"status":200,"data":{}}');
}

const service = 'Message Actions';

export const messageActionRoutes: Route<MessageActionDeps>[] = [
  guarded({
    method: 'POST',
    path: '/v1/message-actions/:sub/channel/:channel/message/:message',
    family: 'generic',
    service,
    operation: 'add_message_action',
    parse: parseAdd,
    handler: addAction,
  }),
  guarded({
    method: 'GET',
    path: '/v1/message-actions/:sub/channel/:channel',
    family: 'generic',
    service,
    operation: 'get_message_actions',
    parse: parseGet,
    handler: getActions,
  }),
  guarded({
    method: 'DELETE',
    path: '/v1/message-actions/:sub/channel/:channel/message/:message/action/:action',
    family: 'generic',
    service,
    operation: 'remove_message_action',
    parse: parseRemove,
    handler: removeAction,
  }),
];
