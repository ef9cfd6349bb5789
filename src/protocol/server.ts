import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { inflateSync, gunzipSync } from 'node:zlib';
import { capOf, ParleyError, isParleyError } from '../errors.ts';
import { errorBody, type ErrorFamily } from './error-response.ts';
import { signatureCoversBody } from '../access/signature.ts';
import { redactPath, type Logger } from '../log.ts';
import { authorizeChecks, keysetFor } from './guard.ts';
import type { Keyset } from '../keyset.ts';
import { parseQuery, type ParsedQuery } from './query.ts';
import { DONE, sendJson, type RequestContext } from './request.ts';
import { isGuarded, Router, type GuardedRoute, type Route } from './route.ts';
import { Lane } from './lane.ts';
import type { Services } from './services.ts';

/** Extra handlers outside the PubNub surface (the demo's static files and app-server API). */
export type Fallback = (req: IncomingMessage, res: ServerResponse, rawPath: string) => boolean | Promise<boolean>;

export interface HttpServerOptions {
  routes: readonly Route[];
  services: Services;
  fallbacks?: Fallback[];
}

/**
 * A route's metric labels, made once per route: `route` (its path's first segment) counts requests;
 * `endpoint` (method and path template, one series per route) times them.
 */
interface RouteLabels {
  count: { route: string };
  time: { endpoint: string };
}
const routeLabels = new WeakMap<Route, RouteLabels>();
function routeLabel(route: Route): RouteLabels {
  let labels = routeLabels.get(route);
  if (!labels) {
    labels = { count: { route: route.path.split('/')[1] || '/' }, time: { endpoint: `${route.method} ${route.path}` } };
    routeLabels.set(route, labels);
  }
  return labels;
}

/**
 * Body size accepted on the wire before decompression unless the route sets its own (Route.maxBodyBytes);
 * the decoded body is checked by each route.
 */
const MAX_BODY_BYTES = 1_048_576;
/**
 * How much of an oversized body is still read (and dropped) so the client receives the 413: a
 * connection reset while it is still sending would reach it as a network error instead.
 */
const DRAIN_BYTES = 8 * 1_048_576;
const EMPTY_BODY = Buffer.alloc(0);

/**
 * Reads a request body of at most `limit` bytes. A body that stops arriving for `idleMs`
 * (limits.bodyIdleTimeoutMs) is dropped (408) instead of holding its buffer and socket forever; a
 * client that goes away mid-body is CLIENT_CLOSED_REQUEST, not a server error.
 */
function readBody(req: IncomingMessage, limit: number, idleMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const idle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        reject(new ParleyError('REQUEST_TIMEOUT', `no part of the request body arrived for ${idleMs} ms`));
        // The 408 goes out with Connection: close (the catch below); a peer that does not even take it is cut off.
        setTimeout(() => req.destroy(), idleMs).unref();
      }, idleMs);
    };
    const settle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
    };
    idle();
    req.on('data', (c: Buffer) => {
      idle();
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        if (size > limit + DRAIN_BYTES) {
          settle();
          reject(new ParleyError('PAYLOAD_TOO_LARGE'));
          req.destroy();
        }
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      settle();
      if (size > limit) reject(new ParleyError('PAYLOAD_TOO_LARGE'));
      else resolve(Buffer.concat(chunks));
    });
    const gone = (): void => {
      settle();
      reject(new ParleyError('CLIENT_CLOSED_REQUEST', 'the client closed the connection while sending the request body'));
    };
    req.on('error', gone);
    req.on('close', () => {
      if (!req.complete) gone();
      else settle();
    });
  });
}

/** An error of the request's own stream after its client went away (not a backend's ECONNRESET). */
function isClientGone(err: unknown, req: IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return (
    (code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') && (req.destroyed || req.socket.destroyed)
  );
}

/**
 * Undoes Content-Encoding, trusting the bytes over the header (sdk-differences.md §3): Python sends
 * zlib bytes labelled gzip, React Native gzip labelled deflate, and the web build a plain body
 * labelled deflate when CompressionStream is missing. gzip magic → gunzip; a zlib header → inflate;
 * anything else under a compression label is taken as sent. An unknown label is refused.
 */
function decodeBody(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  if (!encoding || encoding === 'identity' || raw.length === 0) return raw;
  if (encoding !== 'deflate' && encoding !== 'gzip') throw new ParleyError('INVALID_PARAM', `unsupported Content-Encoding "${encoding.slice(0, 40)}"`);
  const gzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  // RFC 1950: CM = 8 (deflate), and the 16-bit header is a multiple of 31.
  const zlib = raw.length >= 2 && (raw[0] & 0x0f) === 8 && (raw[0] * 256 + raw[1]) % 31 === 0;
  if (!gzip && !zlib) return raw;
  try {
    return gzip ? gunzipSync(raw, { maxOutputLength: limit + 1 }) : inflateSync(raw, { maxOutputLength: limit + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ParleyError('PAYLOAD_TOO_LARGE');
    throw new ParleyError('INVALID_PARAM', `body is not valid ${gzip ? 'gzip' : 'zlib'} data`);
  }
}

const SUBSCRIBE_ROUTE_PATH = '/v2/subscribe/:sub/:channels/0';
const SUBSCRIBE_PREFIX = '/v2/subscribe/';

/** `/v2/subscribe/:sub/:channels/0` with both captures non-empty: the one route the subscribe lane serves. */
export function isSubscribePath(rawPath: string): boolean {
  if (!rawPath.startsWith(SUBSCRIBE_PREFIX) || !rawPath.endsWith('/0')) return false;
  const a = rawPath.indexOf('/', SUBSCRIBE_PREFIX.length);
  if (a <= SUBSCRIBE_PREFIX.length) return false;
  const b = rawPath.indexOf('/', a + 1);
  return b > a + 1 && b === rawPath.length - 2;
}

/**
 * `/publish/:pub/:sub/0/:channel/0/:payload` or `/signal/…` (the message in the path), captures non-empty:
 * the publish and signal GET routes, whose handlers answer with sendJson.
 */
export function isPathPublish(rawPath: string): boolean {
  const start = rawPath.startsWith('/publish/') ? 9 : rawPath.startsWith('/signal/') ? 8 : -1;
  if (start < 0) return false;
  // pub / sub / 0 / channel / 0 / payload: six non-empty segments, the third and fifth "0".
  let from = start;
  for (let i = 0; i < 6; i++) {
    let end = rawPath.indexOf('/', from);
    if (i === 5) {
      if (end >= 0) return false;
      end = rawPath.length;
    } else if (end < 0) return false;
    if (end === from) return false;
    if ((i === 2 || i === 4) && (end !== from + 1 || rawPath.charCodeAt(from) !== 48)) return false;
    from = end + 1;
  }
  return true;
}

/**
 * The GET routes the lane serves, matched by their shape (isSubscribePath, isPathPublish) without the
 * router: what Router.match answers for those paths (test/unit/protocol/route-index.test.ts checks it).
 */
export class LaneRoutes {
  private readonly subscribe: Route | undefined;
  private readonly publish: Route | undefined;
  private readonly signal: Route | undefined;

  constructor(routes: readonly Route[]) {
    const get = (path: string): Route | undefined => routes.find((r) => r.method === 'GET' && r.path === path);
    this.subscribe = get(SUBSCRIBE_ROUTE_PATH);
    this.publish = get('/publish/:pub/:sub/0/:channel/0/:payload');
    this.signal = get('/signal/:pub/:sub/0/:channel/0/:payload');
  }

  /** The match for a GET of `rawPath` if it is a lane path, else null. */
  match(rawPath: string): { route: Route; params: Record<string, string> } | null {
    if (this.subscribe !== undefined && isSubscribePath(rawPath)) {
      const a = rawPath.indexOf('/', SUBSCRIBE_PREFIX.length);
      const b = rawPath.indexOf('/', a + 1);
      return { route: this.subscribe, params: { sub: rawPath.slice(SUBSCRIBE_PREFIX.length, a), channels: rawPath.slice(a + 1, b) } };
    }
    const route = rawPath.startsWith('/publish/') ? this.publish : rawPath.startsWith('/signal/') ? this.signal : undefined;
    if (route === undefined || !isPathPublish(rawPath)) return null;
    // /kind/pub/sub/0/channel/0/payload
    const s1 = rawPath.indexOf('/', 1);
    const s2 = rawPath.indexOf('/', s1 + 1);
    const s3 = rawPath.indexOf('/', s2 + 1);
    const s4 = rawPath.indexOf('/', s3 + 1);
    const s5 = rawPath.indexOf('/', s4 + 1);
    const s6 = rawPath.indexOf('/', s5 + 1);
    return {
      route,
      params: { pub: rawPath.slice(s1 + 1, s2), sub: rawPath.slice(s2 + 1, s3), channel: rawPath.slice(s4 + 1, s5), payload: rawPath.slice(s6 + 1) },
    };
  }
}

/** Reads and decodes a request body (limits as in readBody and decodeBody). */
async function readRequestBody(req: IncomingMessage, maxBodyBytes: number, idleMs: number): Promise<Buffer> {
  return decodeBody(await readBody(req, maxBodyBytes, idleMs), req.headers['content-encoding'], maxBodyBytes);
}

/**
 * The routes split by a path's number of segments and first segment, so a request is matched against
 * only the routes that could match it (Router.match tries them all, building params for each). Each
 * part keeps the routes in their order, so it answers exactly as one Router over all of them.
 */
export class RouteIndex {
  private readonly parts = new Map<number, Map<string, Router>>();
  private readonly whole: Router | null;

  constructor(routes: readonly Route[]) {
    const segments = (path: string): string[] => path.split('/').slice(1);
    // A route whose first segment is a capture could match any first segment: then no split.
    this.whole = routes.some((r) => segments(r.path)[0].startsWith(':')) ? new Router(routes) : null;
    if (this.whole !== null) return;
    const groups = new Map<number, Map<string, Route[]>>();
    for (const r of routes) {
      const parts = segments(r.path);
      let byFirst = groups.get(parts.length);
      if (byFirst === undefined) groups.set(parts.length, (byFirst = new Map()));
      const list = byFirst.get(parts[0]);
      if (list === undefined) byFirst.set(parts[0], [r]);
      else list.push(r);
    }
    for (const [count, byFirst] of groups) this.parts.set(count, new Map([...byFirst].map(([first, list]) => [first, new Router(list)])));
  }

  match(method: string, rawPath: string): ReturnType<Router['match']> {
    if (this.whole !== null) return this.whole.match(method, rawPath);
    // As Router splits it: segments are what follows each '/', the first between the first two.
    const first = rawPath.indexOf('/');
    if (first < 0) return NO_ROUTE;
    const second = rawPath.indexOf('/', first + 1);
    let count = 1;
    for (let i = second; i >= 0; i = rawPath.indexOf('/', i + 1)) count++;
    const router = this.parts.get(count)?.get(second < 0 ? rawPath.slice(first + 1) : rawPath.slice(first + 1, second));
    return router === undefined ? NO_ROUTE : router.match(method, rawPath);
  }
}

const NO_ROUTE = Object.freeze({ route: null, pathMatched: false });

/** A request the lane serves: its route match, made when the lane read the path. */
interface LaneMatched {
  laneMatch: { route: Route; params: Record<string, string> };
}

/** What serving a request needs of its server. */
interface ServingEnv {
  s: Services;
  router: RouteIndex;
  fallbacks: readonly Fallback[];
  maxUrl: number;
  laneRoutes: LaneRoutes;
  requestLog(): Logger;
}

/**
 * One request from routing to answer. serve() runs synchronously as far as it can and returns a promise
 * only for what must wait (a body, a fallback, an asynchronous handler), so a request whose handler
 * finishes at once (a subscribe answered or parked: DONE) costs no async frame. Every error, thrown
 * or rejected, ends in fail(), which answers in the endpoint's own shape.
 */
class RequestRun {
  private family: ErrorFamily = 'generic';
  private service = 'Parley';
  private ctx: ServerRequestContext | null = null;
  /** performance.now() at the request's arrival, for parley_request_duration_seconds. */
  private readonly arrivedMs = performance.now();
  /** The matched route's label; null until a route matches (fallbacks are neither counted nor timed). */
  private label: RouteLabels | null = null;
  /** Whether its duration was observed (settled() or the context's timeAnswer(), once). */
  private isTimed = false;
  private readonly rawPath: string;
  private readonly rawQuery: string;
  private readonly method: string;

  constructor(
    private readonly env: ServingEnv,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.rawPath = q < 0 ? url : url.slice(0, q);
    this.rawQuery = q < 0 ? '' : url.slice(q + 1);
    this.method = req.method ?? 'GET';
  }

  serve(): Promise<void> | undefined {
    const { env, req, res, method, rawPath } = this;
    const s = env.s;
    // Refused at accept time: its 429 is already written and the socket is closing.
    if (s.clientLimits.isRefused(req.socket)) return undefined;
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
        'Access-Control-Max-Age': '86400',
      });
      res.end();
      return undefined;
    }
    if ((req.url ?? '/').length > env.maxUrl) throw new ParleyError(rawPath.startsWith('/publish/') ? 'PAYLOAD_TOO_LARGE' : 'URI_TOO_LONG');
    // A request the lane serves carries its match already (lane.ts matchPath).
    const laned = (req as Partial<LaneMatched>).laneMatch;
    const match = laned ?? (method === 'GET' ? (env.laneRoutes.match(rawPath) ?? env.router.match(method, rawPath)) : env.router.match(method, rawPath));
    if (!match.route) return this.fallback(match.pathMatched);
    const route = match.route;
    this.family = route.family;
    this.service = route.service;
    this.label = routeLabel(route);
    s.m.requests(this.label.count);
    const query = parseQuery(this.rawQuery);
    const hasBody = method === 'POST' || method === 'PATCH' || method === 'DELETE';
    const maxBodyBytes = route.maxBodyBytes?.(s.config) ?? MAX_BODY_BYTES;
    const ctx = (this.ctx = new ServerRequestContext(req, res, method, rawPath, query, match.params, env.requestLog, this));
    if (!isGuarded(route)) {
      if (route.readsOwnBody !== true && hasBody) return this.readBodyThen(maxBodyBytes, () => route.handler(ctx, s));
      return route.handler(ctx, s);
    }
    // Declared access (route.ts): keyset, then the route's own parse, then the Access Manager, and
    // only then the handler. The body is read after the decision unless the decision needs it: the
    // route's checks name resources from the body, or a signature covers it (§9 step 4).
    const keyset = keysetFor(s, match.params.sub, match.params.pub);
    const bodyFirst = hasBody && (route.access.readsBody || (query.has('signature') && signatureCoversBody(method, rawPath)));
    if (bodyFirst) return this.readBodyThen(maxBodyBytes, () => this.authorizeAndRun(route, keyset, false, maxBodyBytes));
    return this.authorizeAndRun(route, keyset, hasBody, maxBodyBytes);
  }

  private authorizeAndRun(route: GuardedRoute, keyset: Keyset, bodyAfter: boolean, maxBodyBytes: number): Promise<void> {
    const ctx = this.ctx as ServerRequestContext;
    const s = this.env.s;
    const prepared = route.prepare(ctx, s, keyset);
    for (const check of prepared.checks) {
      if (!route.access.operations.includes(check.operation)) {
        throw new ParleyError('INTERNAL', `route ${route.method} ${route.path} asked for undeclared operation ${check.operation}`);
      }
    }
    const granted = authorizeChecks(ctx, s, keyset, prepared.checks);
    if (bodyAfter) return this.readBodyThen(maxBodyBytes, () => prepared.run(granted));
    return prepared.run(granted);
  }

  private async readBodyThen(maxBodyBytes: number, next: () => Promise<void>): Promise<void> {
    (this.ctx as ServerRequestContext).body = await readRequestBody(this.req, maxBodyBytes, this.env.s.config.limits.bodyIdleTimeoutMs);
    await next();
  }

  private async fallback(pathMatched: boolean): Promise<void> {
    for (const fb of this.env.fallbacks) if (await fb(this.req, this.res, this.rawPath)) return;
    throw new ParleyError(pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', pathMatched ? `${this.method} is not allowed here` : 'Resource not found');
  }

  fail(err: unknown): void {
    const { env, req, res, rawPath } = this;
    const s = env.s;
    const perr = isParleyError(err) ? err : new ParleyError(isClientGone(err, req) ? 'CLIENT_CLOSED_REQUEST' : 'INTERNAL', undefined, { cause: err });
    const log = (): Logger => (this.ctx !== null ? this.ctx.log : env.requestLog());
    if (perr.code === 'INTERNAL' || perr.code === 'STORE_UNAVAILABLE') log().error({ err, path: redactPath(rawPath) }, 'request failed');
    else if (s.log.isLevelEnabled('debug')) log().debug({ code: perr.code, path: redactPath(rawPath) }, 'request rejected');
    s.m.errors({ code: perr.code });
    const cap = capOf(perr);
    if (typeof cap === 'string') s.m.capRefusals({ cap });
    // A body refused before it was read is not read afterwards either (Node would read and drop
    // it to keep the connection): the answer closes the connection instead.
    if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
    const { status, body, contentType } = errorBody(perr, this.family, this.service);
    sendJson(res, status, body, contentType);
    this.settled();
  }

  /**
   * The handler has settled: a routed request whose answer is written by now is timed. A parked
   * long-poll's handler settles before its answer, whose wait is the hold, not latency: it is not
   * (parley_publish_to_deliver_seconds covers what it delivers).
   */
  settled(): void {
    if (this.label === null || !this.res.writableEnded || this.isTimed) return;
    this.isTimed = true;
    this.env.s.m.requestDuration(this.label.time, (performance.now() - this.arrivedMs) / 1000);
  }
}

/** One request's context; its logger (a child with a request id) is made on first use. */
class ServerRequestContext implements RequestContext {
  body: Buffer = EMPTY_BODY;
  readonly uuid: string;
  private child: Logger | null = null;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    readonly rawPath: string,
    readonly query: ParsedQuery,
    public params: Record<string, string>,
    private readonly makeLog: () => Logger,
    private readonly run: { settled(): void },
  ) {
    this.uuid = query.get('uuid') ?? '';
  }

  timeAnswer(): void {
    this.run.settled();
  }

  get log(): Logger {
    return (this.child ??= this.makeLog());
  }
}

/**
 * node:http server + router. Every request runs inside one wrapper that maps errors to the
 * endpoint's own shape; nothing a client sends can crash the process.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const { services: s } = options;
  const router = new RouteIndex(options.routes);
  const maxUrl = s.config.limits.maxMessageBytes + 16_384;

  const maxHeaderSize = maxUrl + 16_384;
  const server = createServer(
    // §0.15: raise Node's 16 KiB header limit so a 32 KiB GET publish reaches the route's own check.
    { maxHeaderSize, keepAlive: true, noDelay: true, requestTimeout: 0 },
    handle,
  );
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 20_000;
  const laneRoutes = new LaneRoutes(options.routes);
  // Subscribe long-polls and GET publishes are read and answered on the socket; everything else is
  // node:http's (lane.ts). `fastLane: false` leaves every request to node:http.
  if (s.config.fastLane) {
    new Lane(server, {
      matchPath: (rawPath) => laneRoutes.match(rawPath),
      maxHeaderBytes: maxHeaderSize,
      isRefused: (socket) => s.clientLimits.isRefused(socket),
      onRequest: () => s.m.laneRequests(),
    });
  }
  // Connection caps (client-limits.ts): over a cap, one 429 is written at accept time and the socket closed.
  server.on('connection', (socket: Socket) => s.clientLimits.admit(socket));

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ status: tooLarge ? 414 : 400, message: tooLarge ? 'Request URI Too Long' : 'Bad Request', error: true, service: 'Parley' });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '414 URI Too Long' : '400 Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\n\r\n${body}`,
    );
  });

  // A child logger per request costs an allocation on the hot path; one is made only if something logs.
  let requestSeq = 0;
  const env: ServingEnv = {
    s,
    router,
    fallbacks: options.fallbacks ?? [],
    maxUrl,
    laneRoutes,
    requestLog: () => s.log.child({ reqId: (++requestSeq).toString(36) }),
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const run = new RequestRun(env, req, res);
    let pending: Promise<void> | undefined;
    try {
      pending = run.serve();
    } catch (err) {
      run.fail(err);
      return;
    }
    if (pending === DONE) run.settled();
    else if (pending !== undefined)
      pending.then(
        () => run.settled(),
        (err: unknown) => run.fail(err),
      );
  }

  return server;
}
