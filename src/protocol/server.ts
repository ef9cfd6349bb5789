import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { inflateSync, gunzipSync } from 'node:zlib';
import { ParleyError, isParleyError } from '../errors.ts';
import { errorBody, type ErrorFamily } from './error-response.ts';
import { signatureCoversBody } from '../access/signature.ts';
import { redactPath } from '../log.ts';
import { authorizeChecks, keysetFor } from './guard.ts';
import { parseQuery } from './query.ts';
import { sendJson, type RequestContext } from './request.ts';
import { isGuarded, Router, type Route } from './route.ts';
import type { Services } from './services.ts';

/** Extra handlers outside the PubNub surface (the demo's static files and app-server API). */
export type Fallback = (req: IncomingMessage, res: ServerResponse, rawPath: string) => boolean | Promise<boolean>;

export interface HttpServerOptions {
  routes: readonly Route[];
  services: Services;
  fallbacks?: Fallback[];
}

const routeLabels = new WeakMap<Route, { route: string }>();
function routeLabel(route: Route): { route: string } {
  let label = routeLabels.get(route);
  if (!label) routeLabels.set(route, (label = { route: route.path.split('/')[1] || '/' }));
  return label;
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
  return (code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') && (req.destroyed || req.socket.destroyed);
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

/**
 * node:http server + router. Every request runs inside one wrapper that maps errors to the
 * endpoint's own shape; nothing a client sends can crash the process.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const { services: s } = options;
  const router = new Router(options.routes);
  const maxUrl = s.config.limits.maxMessageBytes + 16_384;

  const server = createServer(
    // §0.15: raise Node's 16 KiB header limit so a 32 KiB GET publish reaches the route's own check.
    { maxHeaderSize: maxUrl + 16_384, keepAlive: true, noDelay: true, requestTimeout: 0 },
    (req, res) => void handle(req, res),
  );
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 20_000;
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

  let requestSeq = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    let family: ErrorFamily = 'generic';
    let service = 'Parley';
    // A child logger per request costs an allocation on the hot path; build it only if something logs.
    let child: typeof s.log | null = null;
    const log = (): typeof s.log => (child ??= s.log.child({ reqId: (++requestSeq).toString(36) }));
    // Refused at accept time: its 429 is already written and the socket is closing.
    if (s.clientLimits.isRefused(req.socket)) return;
    try {
      if (method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
          'Access-Control-Max-Age': '86400',
        });
        res.end();
        return;
      }
      if (url.length > maxUrl) throw new ParleyError(rawPath.startsWith('/publish/') ? 'PAYLOAD_TOO_LARGE' : 'URI_TOO_LONG');
      const match = router.match(method, rawPath);
      if (!match.route) {
        for (const fb of options.fallbacks ?? []) if (await fb(req, res, rawPath)) return;
        throw new ParleyError(match.pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', match.pathMatched ? `${method} is not allowed here` : 'Resource not found');
      }
      const route = match.route;
      family = route.family;
      service = route.service;
      s.m.requests(routeLabel(route));
      const query = parseQuery(rawQuery);
      const hasBody = method === 'POST' || method === 'PATCH' || method === 'DELETE';
      const maxBodyBytes = route.maxBodyBytes?.(s.config) ?? MAX_BODY_BYTES;
      const readRequestBody = async (): Promise<Buffer> =>
        hasBody ? decodeBody(await readBody(req, maxBodyBytes, s.config.limits.bodyIdleTimeoutMs), req.headers['content-encoding'], maxBodyBytes) : EMPTY_BODY;
      const ctx: RequestContext = { req, res, method, rawPath, query, params: match.params, body: EMPTY_BODY, get log() { return log(); }, uuid: query.get('uuid') ?? '' };
      if (!isGuarded(route)) {
        if (route.readsOwnBody !== true) ctx.body = await readRequestBody();
        await route.handler(ctx, s);
        return;
      }
      // Declared access (route.ts): keyset, then the route's own parse, then the Access Manager, and
      // only then the handler. The body is read after the decision unless the decision needs it: the
      // route's checks name resources from the body, or a signature covers it (§9 step 4).
      const keyset = keysetFor(s, match.params.sub, match.params.pub);
      const bodyFirst = hasBody && (route.access.readsBody || (query.has('signature') && signatureCoversBody(method, rawPath)));
      if (bodyFirst) ctx.body = await readRequestBody();
      const prepared = route.prepare(ctx, s, keyset);
      for (const check of prepared.checks) {
        if (!route.access.operations.includes(check.operation)) {
          throw new ParleyError('INTERNAL', `route ${route.method} ${route.path} asked for undeclared operation ${check.operation}`);
        }
      }
      const granted = authorizeChecks(ctx, s, keyset, prepared.checks);
      if (hasBody && !bodyFirst) ctx.body = await readRequestBody();
      await prepared.run(granted);
    } catch (err) {
      const perr = isParleyError(err)
        ? err
        : new ParleyError(isClientGone(err, req) ? 'CLIENT_CLOSED_REQUEST' : 'INTERNAL', undefined, { cause: err });
      if (perr.code === 'INTERNAL' || perr.code === 'STORE_UNAVAILABLE') log().error({ err, path: redactPath(rawPath) }, 'request failed');
      else if (s.log.isLevelEnabled('debug')) log().debug({ code: perr.code, path: redactPath(rawPath) }, 'request rejected');
      s.m.errors({ code: perr.code });
      const cap = perr.details?.cap;
      if (typeof cap === 'string') s.m.capRefusals({ cap });
      // A body refused before it was read is not read afterwards either (Node would read and drop
      // it to keep the connection): the answer closes the connection instead.
      if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
      const { status, body, contentType } = errorBody(perr, family, service);
      sendJson(res, status, body, contentType);
    }
  }

  return server;
}
