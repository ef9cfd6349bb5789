import { ParleyError } from '../../errors.ts';
import { isPresenceName } from '../../realtime/channel-name.ts';
import type { MessageType } from '../../store/types.ts';
import { authorize, checkChannels, keysetFor } from '../guard.ts';
import { decodeComponent, JS_CONTENT_TYPE, queryFlag, queryInt, queryJsonObject, sendJson, type RequestContext } from '../request.ts';
import type { Route } from '../route.ts';
import type { Services } from '../services.ts';

export const CUSTOM_MESSAGE_TYPE = /^[A-Za-z0-9_-]{3,50}$/;

function validJson(text: string, what: string): string {
  try {
    JSON.parse(text);
  } catch {
    throw new ParleyError('INVALID_JSON', `Invalid JSON in ${what}`);
  }
  return text;
}

/** Shared by publish, fire and signal: §2. Authorize → validate size → publish (persist, then fan out). */
async function handle(ctx: RequestContext, s: Services, kind: 'publish' | 'signal'): Promise<void> {
  const { params, query } = ctx;
  const keyset = keysetFor(s, params.sub, params.pub);
  const channel = decodeComponent(params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  if (isPresenceName(channel)) throw new ParleyError('INVALID_CHANNEL', 'cannot publish to a presence channel');

  let payload: string;
  if (params.payload !== undefined) {
    if (params.payload.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
    payload = decodeComponent(params.payload, 'message');
  } else {
    if (ctx.body.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
    payload = ctx.body.toString('utf8');
  }
  if (payload.length === 0) throw new ParleyError('INVALID_PARAM', 'message is missing');

  const customMessageType = query.get('custom_message_type') ?? null;
  if (customMessageType !== null && !CUSTOM_MESSAGE_TYPE.test(customMessageType)) {
    throw new ParleyError('INVALID_PARAM', 'custom_message_type must be 3-50 characters of A-Z a-z 0-9 _ -');
  }
  const meta = kind === 'publish' ? queryJsonObject(query, 'meta') : undefined;
  const store = kind === 'publish' ? (queryFlag(query, 'store') ?? s.config.history.storeByDefault) : false;
  // The Chat SDK sends `ttl=null` when the app set no TTL: that means none, as on PubNub.
  const ttlHours = kind === 'publish' && query.get('ttl') !== 'null' ? queryInt(query, 'ttl', 0, 1_000_000) : undefined;

  authorize(ctx, s, keyset, kind, { channels: [channel] });

  validJson(payload, 'message');
  if (kind === 'signal' && Buffer.byteLength(payload) > s.config.limits.maxSignalBytes) {
    throw new ParleyError('INVALID_PARAM', 'Signal size too large');
  }

  const retentionHours = ttlHours || s.config.history.retentionHours;
  const type: MessageType = kind === 'signal' ? 1 : 0;
  const tt = await s.pipeline.publish({
    subscribeKey: keyset.subscribeKey,
    channel,
    publisher: ctx.uuid,
    payload,
    meta: meta === undefined ? null : JSON.stringify(meta),
    customMessageType,
    type,
    store,
    expiresAtMs: store && retentionHours > 0 ? s.clock.nowMs() + retentionHours * 3_600_000 : null,
  });
  s.m.publishes({ kind });
  sendJson(ctx.res, 200, `[1,"Sent","${tt}"]`, JS_CONTENT_TYPE);
}

export const publishRoutes: Route[] = [
  { method: 'GET', path: '/publish/:pub/:sub/0/:channel/0/:payload', family: 'publish', service: 'Publish', handler: (c, s) => handle(c, s, 'publish') },
  { method: 'POST', path: '/publish/:pub/:sub/0/:channel/0', family: 'publish', service: 'Publish', handler: (c, s) => handle(c, s, 'publish') },
  { method: 'GET', path: '/signal/:pub/:sub/0/:channel/0/:payload', family: 'publish', service: 'Signal', handler: (c, s) => handle(c, s, 'signal') },
];
