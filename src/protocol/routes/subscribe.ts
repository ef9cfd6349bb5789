import { accessKeyOf } from '../../access/change-scope.ts';
import { ParleyError, isParleyError } from '../../errors.ts';
import { isPresenceName, wildcardPrefix } from '../../realtime/channel-name.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Envelope } from '../../realtime/envelope.ts';
import type { PollCallbacks, PollHandle, SubscribeAnswer, SubscribeRequest } from '../../realtime/subscription.ts';
import { compileFilter } from '../filter-expr.ts';
import { errorBody } from '../error-response.ts';
import { checkGroupCount } from '../channel-caps.ts';
import { clientAddress } from '../client-limits.ts';
import { checkChannels } from '../guard.ts';
import {
  decodeList,
  DONE,
  queryInt,
  queryJsonObject,
  queryList,
  queryTimetoken,
  sendJson,
  timetokenValue,
  JS_CONTENT_TYPE,
  type RequestContext,
} from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';
import { presenceTargets, stateByChannel } from './presence.ts';

/** What the subscribe route uses (route.ts). */
export type SubscribeDeps = Pick<Services, 'config' | 'access' | 'clientLimits' | 'subscriptions' | 'answers' | 'presence' | 'groups' | 'clock' | 'm' | 'log'>;

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

function parseSubscribe(ctx: RequestContext, s: SubscribeDeps): Parsed<SubscribeParams> {
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

function isPlainName(name: string, wildcards: boolean): boolean {
  return !isPresenceName(name) && !(wildcards && wildcardPrefix(name) !== undefined);
}

/** The names of `names` that are neither presence nor wildcard names; `names` itself when that is all of them. */
function plainNames(names: readonly string[], wildcards: boolean): readonly string[] {
  for (let i = 0; i < names.length; i++) {
    if (!isPlainName(names[i], wildcards)) return names.filter((n) => isPlainName(n, wildcards));
  }
  return names;
}

/**
 * One subscribe request from the route's side: the SubscribeRequest and the PollCallbacks the
 * subscription service is given, in one object, so a parked poll holds no closures of its own and
 * nothing of the request context (query, params) beyond what it needs.
 */
class SubscribePoll implements SubscribeRequest, PollCallbacks {
  readonly subscribeKey: string;
  readonly channels: readonly string[];
  readonly groups: readonly string[];
  readonly cursor: bigint | null;
  readonly filter: ((env: Envelope) => boolean) | null;
  /** The access changes that can concern this poll (access/change-scope.ts). */
  readonly accessKey: string | null;
  private handle: PollHandle | null = null;
  private answered = false;
  private isClosed = false;
  /** The client address whose long-poll slot this request holds until its response closes. */
  private slot: string | null = null;

  private readonly res: ServerResponse;
  /** The request's context until the poll parks: an answer at once is timed through it (timeAnswer). */
  private ctx: RequestContext | null;

  constructor(
    ctx: RequestContext,
    private readonly s: SubscribeDeps,
    private readonly granted: Granted,
    p: SubscribeParams,
    readonly uuid: string,
  ) {
    this.ctx = ctx;
    this.res = ctx.res;
    this.subscribeKey = granted.keyset.subscribeKey;
    this.accessKey = accessKeyOf(granted.credential);
    this.channels = p.channels;
    this.groups = p.groups;
    this.cursor = p.cursor;
    this.filter = p.filter;
  }

  /** Takes a long-poll slot of the client's address (429 past its cap), held until the response closes. */
  holdSlot(req: IncomingMessage): void {
    this.slot = this.s.clientLimits.takeLongPoll(clientAddress(req, this.s.config.limits.trustProxy));
  }

  /**
   * Calls closed() when the response closes. Made here, not in the handler, so the listener's scope is
   * this object alone and a parked poll keeps nothing else of its request alive.
   */
  listen(): void {
    this.res.on('close', () => this.closed());
  }

  /**
   * The poll the service opened; one the client already left is cancelled at once. (A parked poll is
   * the hub's: a graceful stop interrupts the hub's waiters, so it is not added to openPolls.)
   */
  opened(handle: PollHandle): void {
    if (this.answered) return;
    if (this.isClosed) {
      handle.cancel();
      return;
    }
    this.handle = handle;
  }

  /** The response closed: answered, or the client went away first (then the poll is forgotten). */
  closed(): void {
    this.isClosed = true;
    if (this.slot !== null) {
      this.s.clientLimits.releaseLongPoll(this.slot);
      this.slot = null;
    }
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    if (!this.answered) handle.cancel();
  }

  // docs/access-matrix.md "Wildcard subscriptions": each channel a wildcard delivers needs read of its own.
  canRead(channel: string): boolean {
    return this.s.access.canRead(this.granted.credential, this.granted.keyset, this.uuid, channel);
  }

  answer(a: SubscribeAnswer): void {
    this.settle();
    this.s.m.deliveries(undefined, a.items.length);
    sendJson(this.res, 200, this.s.answers.encode(a.timetoken, a.items), JS_CONTENT_TYPE);
    if (!this.res.writableEnded) return;
    // Answered from what waited at its arrival (at the turn's end): a request's latency, not a hold.
    if (!a.wasParked) this.ctx?.timeAnswer();
    // One observation per answer, of its oldest message (items are in timetoken order): docs/metrics.md.
    if (a.items.length > 0) this.s.m.publishToDeliver(a.items[0].env.timetoken, this.s.clock.nowMs(), a.wasParked);
  }

  /** A parked poll's answer is not timed (its wait is the hold): it lets its request's context go. */
  parked(): void {
    this.ctx = null;
  }

  recheck(): ParleyError | null {
    const { credential, keyset, requirements } = this.granted;
    const d = this.s.access.recheck(credential, keyset, this.uuid, requirements);
    return d.allowed ? null : new ParleyError(d.code, d.message, { details: { missing: d.missing } });
  }

  denied(reason: unknown): void {
    this.settle();
    const err = reason as ParleyError;
    this.s.m.denials({ code: err.code, operation: 'subscribe' });
    this.s.log.debug({ code: err.code, uuid: this.uuid }, 'parked subscribe denied');
    const { status, body } = errorBody(err, 'generic', 'Access Manager');
    sendJson(this.res, status, body);
  }

  private settle(): void {
    this.answered = true;
  }
}

/** Not async: a subscribe answered or parked at once returns DONE, so the server awaits nothing for it. */
function subscribe(ctx: RequestContext, s: SubscribeDeps, p: SubscribeParams, granted: Granted): Promise<void> {
  const { channels, groups, cursor, heartbeat, state } = p;
  const { keyset } = granted;
  const poll = new SubscribePoll(ctx, s, granted, p, ctx.uuid);
  // A long-poll (the handshake answers at once) holds one of its client address's slots until it ends.
  if (cursor !== null && cursor !== 0n) poll.holdSlot(ctx.req);
  poll.listen();

  // wire-protocol.md §4.1: every subscribe, held or not, is a heartbeat for its plain channels and groups.
  const plainChannels = plainNames(channels, true);
  const plainGroups = plainNames(groups, false);
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

  const opened = s.subscriptions.open(poll, poll);
  if (opened instanceof Promise) return opened.then((handle) => poll.opened(handle));
  poll.opened(opened);
  return DONE;
}

export const subscribeRoutes: Route<SubscribeDeps>[] = [
  guarded({
    method: 'GET',
    path: '/v2/subscribe/:sub/:channels/0',
    family: 'generic',
    service: 'Subscribe',
    operation: 'subscribe',
    parse: parseSubscribe,
    handler: subscribe,
  }),
];
