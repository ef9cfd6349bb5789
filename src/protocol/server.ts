import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { inflateSync, gunzipSync } from 'node:zlib';
import { ParleyError, isParleyError } from '../errors.ts';
import { errorBody, type ErrorFamily } from './error-response.ts';
import { parseQuery, sendJson, type RequestContext } from './request.ts';
import { Router, type Route } from './route.ts';
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

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        if (size > limit + DRAIN_BYTES) {
          reject(new ParleyError('PAYLOAD_TOO_LARGE'));
          req.destroy();
        }
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (size > limit ? reject(new ParleyError('PAYLOAD_TOO_LARGE')) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function decodeBody(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  if (!encoding || encoding === 'identity' || raw.length === 0) return raw;
  try {
    // wire-protocol.md §1.3: publish POST bodies are zlib-wrapped deflate, not raw deflate.
    if (encoding === 'deflate') return inflateSync(raw, { maxOutputLength: limit + 1 });
    if (encoding === 'gzip') return gunzipSync(raw, { maxOutputLength: limit + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ParleyError('PAYLOAD_TOO_LARGE');
    throw new ParleyError('INVALID_PARAM', `body is not valid ${encoding} data`);
  }
  throw new ParleyError('INVALID_PARAM', `unsupported Content-Encoding "${encoding}"`);
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
      family = match.route.family;
      service = match.route.service;
      s.m.requests(routeLabel(match.route));
      const query = parseQuery(rawQuery);
      const hasBody = method === 'POST' || method === 'PATCH' || method === 'DELETE';
      const maxBodyBytes = match.route.maxBodyBytes?.(s.config) ?? MAX_BODY_BYTES;
      const body = hasBody
        ? decodeBody(await readBody(req, maxBodyBytes), req.headers['content-encoding'], maxBodyBytes)
        : Buffer.alloc(0);
      const ctx: RequestContext = { req, res, method, rawPath, rawQuery, query, params: match.params, body, get log() { return log(); }, uuid: query.get('uuid') ?? '' };
      await match.route.handler(ctx, s);
    } catch (err) {
      const perr = isParleyError(err) ? err : new ParleyError('INTERNAL', undefined, { cause: err });
      if (perr.code === 'INTERNAL' || perr.code === 'STORE_UNAVAILABLE') log().error({ err, path: rawPath }, 'request failed');
      else if (s.log.isLevelEnabled('debug')) log().debug({ code: perr.code, path: rawPath }, 'request rejected');
      s.m.errors({ code: perr.code });
      const { status, body, contentType } = errorBody(perr, family, service);
      sendJson(res, status, body, contentType);
    }
  }

  return server;
}
