import { ParleyError, isParleyError } from '../../errors.ts';
import { isPresenceName, wildcardPrefix } from '../../realtime/channel-name.ts';
import { wireFor } from '../../realtime/envelope.ts';
import type { PollHandle } from '../../realtime/subscription.ts';
import { compileFilter } from '../filter-expr.ts';
import { errorBody } from '../error-response.ts';
import { checkGroupCount } from '../channel-caps.ts';
import { clientAddress } from '../client-limits.ts';
import { checkChannels } from '../guard.ts';
import { decodeList, queryInt, queryJsonObject, queryList, queryTimetoken, sendJson, timetokenValue, JS_CONTENT_TYPE, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';
import { presenceTargets, stateByChannel } from './presence.ts';

interface SubscribeParams {
  channels: string[];
  groups: string[];
  cursor: bigint | null;
  heartbeat: number | null;
  state: Record<string, unknown> | undefined;
  filter: ReturnType<typeof compileFilter> | null;
}

/**
 * Ruby sends its position as one parameter, `t={"t":"<timetoken>","r":<region>}` (subscribe_event.rb),
 * instead of `tt` and `tr`.
 */
function rubyCursor(raw: string | undefined): bigint | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ParleyError('INVALID_TIMETOKEN', 't must be JSON {"t": timetoken, "r": region}');
  }
  const t = (parsed as { t?: unknown } | null)?.t;
  if (typeof t !== 'string' && typeof t !== 'number') throw new ParleyError('INVALID_TIMETOKEN', 't must be JSON {"t": timetoken, "r": region}');
  // A JSON number over 2^53 has already lost digits: take the timetoken's text from the raw JSON instead.
  const text = typeof t === 'string' ? t : (/"t"\s*:\s*(\d+)/.exec(raw)?.[1] ?? String(t));
  return timetokenValue(text, 't');
}

function parseSubscribe(ctx: RequestContext, s: Services): Parsed<SubscribeParams> {
  const channels = decodeList(ctx.params.channels, 'channels');
  const groups = queryList(ctx.query, 'channel-group');
  if (channels.length === 0 && groups.length === 0) throw new ParleyError('INVALID_PARAM', 'no channels or channel groups to subscribe to');
  if (channels.length + groups.length > s.config.limits.maxChannelsPerSubscribe) {
    throw new ParleyError('INVALID_PARAM', `at most ${s.config.limits.maxChannelsPerSubscribe} channels and groups per subscribe`);
  }
  checkGroupCount(s, groups);
  checkChannels(s, channels, 'channel', true);
  checkChannels(s, groups, 'channel group');
  const cursor = queryTimetoken(ctx.query, 'tt') ?? rubyCursor(ctx.query.get('t')) ?? null;
  const heartbeat = queryInt(ctx.query, 'heartbeat', 0, 86_400) ?? null;
  const state = queryJsonObject(ctx.query, 'state');
  const filterExpr = ctx.query.get('filter-expr');
  const filter = filterExpr ? compileFilter(filterExpr) : null;
  return { value: { channels, groups, cursor, heartbeat, state, filter }, resources: { channels, groups } };
}

async function subscribe(ctx: RequestContext, s: Services, p: SubscribeParams, { keyset, credential, requirements }: Granted): Promise<void> {
  const { channels, groups, cursor, heartbeat, state, filter } = p;
  // A long-poll (the handshake answers at once) holds one of its client address's slots until it ends.
  if (cursor !== null && cursor !== 0n) ctx.res.once('close', s.clientLimits.acquireLongPoll(clientAddress(ctx.req, s.config.limits.trustProxy)));

  // wire-protocol.md §4.1: every subscribe, held or not, is a heartbeat for its plain channels and groups.
  const plainChannels = channels.filter((c) => !isPresenceName(c) && wildcardPrefix(c) === undefined);
  const plainGroups = groups.filter((g) => !isPresenceName(g));
  const fresh = plainGroups.length === 0 && state === undefined && s.presence.isFresh(keyset.subscribeKey, ctx.uuid, plainChannels, heartbeat);
  if (plainChannels.length + plainGroups.length > 0 && heartbeat !== 0 && !fresh) {
    presenceTargets(s, keyset.subscribeKey, plainChannels, plainGroups)
      .then((targets) => s.presence.heartbeat(keyset.subscribeKey, ctx.uuid, targets, heartbeat, stateByChannel(state, targets)))
      .catch((err) => {
        // A request over a cap is the client's doing (the poll itself answers the 400), not the node's.
        if (isParleyError(err) && !err.retryable) ctx.log.debug({ code: err.code }, 'presence heartbeat from subscribe refused');
        else ctx.log.warn({ err }, 'presence heartbeat from subscribe failed');
      });
  }

  const region = s.config.subscribe.region;
  const polls = s.openPolls;
  // The callbacks may run synchronously inside open() (handshake, catch-up), before `handle` exists.
  let handle: PollHandle | null = null;
  let answered = false;
  const done = (): void => {
    answered = true;
    if (handle) polls.delete(handle);
  };
  handle = await s.subscriptions.open(
    {
      subscribeKey: keyset.subscribeKey, uuid: ctx.uuid, channels, groups, cursor, filter,
      // docs/access-matrix.md "Wildcard subscriptions": each channel a wildcard delivers needs read of its own.
      canRead: (channel) => s.access.canRead(credential, keyset, ctx.uuid, channel),
    },
    {
      answer: ({ timetoken, items }) => {
        done();
        s.m.deliveries(undefined, items.length);
        let body = `{"t":{"t":"${timetoken}","r":${region}},"m":[`;
        for (let i = 0; i < items.length; i++) body += (i ? ',' : '') + wireFor(items[i].env, items[i].via);
        sendJson(ctx.res, 200, body + ']}', JS_CONTENT_TYPE);
      },
      recheck: () => {
        const d = s.access.recheck(credential, keyset, ctx.uuid, requirements);
        return d.allowed ? null : new ParleyError(d.code, d.message, { details: { missing: d.missing } });
      },
      denied: (reason) => {
        done();
        const err = reason as ParleyError;
        s.m.denials({ code: err.code, operation: 'subscribe' });
        ctx.log.debug({ code: err.code }, 'parked subscribe denied');
        const { status, body } = errorBody(err, 'generic', 'Access Manager');
        sendJson(ctx.res, status, body);
      },
    },
  );
  if (!answered) {
    const h = handle;
    polls.add(h);
    ctx.res.once('close', () => {
      polls.delete(h);
      h.cancel();
    });
  }
}

export const subscribeRoutes: Route[] = [
  guarded({ method: 'GET', path: '/v2/subscribe/:sub/:channels/0', family: 'generic', service: 'Subscribe', operation: 'subscribe', parse: parseSubscribe, handler: subscribe }),
];
