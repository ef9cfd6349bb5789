import { ParleyError } from '../../errors.ts';
import { isPresenceName } from '../../realtime/channel-name.ts';
import type { MessageType } from '../../store/types.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, JS_CONTENT_TYPE, queryFlag, queryInt, queryJsonObject, sendJson, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What the publish and signal routes use (route.ts). */
export type PublishDeps = Pick<Services, 'config' | 'pipeline' | 'clock' | 'm'>;

export const CUSTOM_MESSAGE_TYPE = /^[A-Za-z0-9_-]{3,50}$/;

function validJson(text: string, what: string): string {
  try {
    JSON.parse(text);
  } catch {
    throw new ParleyError('INVALID_JSON', `Invalid JSON in ${what}`);
  }
  return text;
}

interface PublishRequest {
  channel: string;
  customMessageType: string | null;
  meta: Record<string, unknown> | undefined;
  store: boolean;
  ttlHours: number | undefined;
}

/** Path and query of publish, fire and signal (§2): validated before the access decision. */
function parsePublish(ctx: RequestContext, s: PublishDeps, kind: 'publish' | 'signal'): Parsed<PublishRequest> {
  const { params, query } = ctx;
  const channel = decodeComponent(params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  if (isPresenceName(channel)) throw new ParleyError('INVALID_CHANNEL', 'cannot publish to a presence channel');
  if (params.payload !== undefined && params.payload.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
  const customMessageType = query.get('custom_message_type') ?? null;
  if (customMessageType !== null && !CUSTOM_MESSAGE_TYPE.test(customMessageType)) {
    throw new ParleyError('INVALID_PARAM', 'custom_message_type must be 3-50 characters of A-Z a-z 0-9 _ -');
  }
  const meta = kind === 'publish' ? queryJsonObject(query, 'meta') : undefined;
  const store = kind === 'publish' ? (queryFlag(query, 'store') ?? s.config.history.storeByDefault) : false;
  // The Chat SDK sends `ttl=null` when the app set no TTL: that means none, as on PubNub.
  const ttlHours = kind === 'publish' && query.get('ttl') !== 'null' ? queryInt(query, 'ttl', 0, 1_000_000) : undefined;
  return { value: { channel, customMessageType, meta, store, ttlHours }, resources: { channels: [channel] } };
}

/** Shared by publish, fire and signal: §2. Authorized by the server → validate size → publish (persist, then fan out). */
async function handle(ctx: RequestContext, s: PublishDeps, kind: 'publish' | 'signal', p: PublishRequest, { keyset }: Granted): Promise<void> {
  let payload: string;
  if (ctx.params.payload !== undefined) {
    payload = decodeComponent(ctx.params.payload, 'message');
  } else {
    if (ctx.body.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
    payload = ctx.body.toString('utf8');
  }
  if (payload.length === 0) throw new ParleyError('INVALID_PARAM', 'message is missing');
  validJson(payload, 'message');
  if (kind === 'signal' && Buffer.byteLength(payload) > s.config.limits.maxSignalBytes) {
    throw new ParleyError('INVALID_PARAM', 'Signal size too large');
  }

  const retentionHours = p.ttlHours || s.config.history.retentionHours;
  const type: MessageType = kind === 'signal' ? 1 : 0;
  const tt = await s.pipeline.publish({
    subscribeKey: keyset.subscribeKey,
    channel: p.channel,
    publisher: ctx.uuid,
    payload,
    meta: p.meta === undefined ? null : JSON.stringify(p.meta),
    customMessageType: p.customMessageType,
    type,
    store: p.store,
    expiresAtMs: p.store && retentionHours > 0 ? s.clock.nowMs() + retentionHours * 3_600_000 : null,
  });
  s.m.publishes({ kind });
  sendJson(ctx.res, 200, `[1,"Sent","${tt}"]`, JS_CONTENT_TYPE);
}

function publishRoute(method: 'GET' | 'POST', path: string, kind: 'publish' | 'signal'): Route<PublishDeps> {
  return guarded({
    method,
    path,
    family: 'publish',
    service: kind === 'publish' ? 'Publish' : 'Signal',
    operation: kind,
    parse: (ctx, s) => parsePublish(ctx, s, kind),
    handler: (ctx, s, p, granted) => handle(ctx, s, kind, p, granted),
  });
}

export const publishRoutes: Route<PublishDeps>[] = [
  publishRoute('GET', '/publish/:pub/:sub/0/:channel/0/:payload', 'publish'),
  publishRoute('POST', '/publish/:pub/:sub/0/:channel/0', 'publish'),
  // Kotlin switches to this route by itself for large messages; C# has it too (sdk-differences.md §3).
  publishRoute('POST', '/v2/publish/:pub/:sub/0/:channel/0', 'publish'),
  publishRoute('GET', '/signal/:pub/:sub/0/:channel/0/:payload', 'signal'),
  // Go sends signals by POST.
  publishRoute('POST', '/signal/:pub/:sub/0/:channel/0', 'signal'),
];
