import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Subscribe long-polls served straight on the socket (docs/performance.md "The subscribe lane").
 *
 * node:http builds a parser state, an IncomingMessage, a ServerResponse, stream states and a dozen
 * listeners and timers for every request. For a long-poll that is most of the cost of a delivery, and
 * all of it stays alive while the poll is parked, so the young generation cannot hold the parked set
 * and the GC grows with the number of subscribers. The lane takes every new connection first and reads
 * its requests itself while they are plain subscribe GETs: a request line, a header block, no body.
 * It hands them to the server's `request` listeners as small request/response objects that implement
 * what the routes use, so the same router, access checks, caps and subscribe route answer them, and
 * writes the answer as node:http would (same status line, headers in the same order, Date, keep-alive).
 *
 * Anything else, at any point of a connection (another method or path, a body, an upgrade, HTTP/1.0,
 * `Connection: close`, a missing Host, a header node:http would refuse, a head over the size limit), is
 * handed to node:http with the bytes read so far, and node:http serves that connection from then on:
 * every request the lane does not recognise meets node:http's own parser and answers.
 * The lane also keeps node:http's timeouts (headersTimeout for a head that stops arriving, keepAliveTimeout
 * for an idle connection) and takes part in closeIdleConnections / closeAllConnections.
 */
export interface SubscribeLaneOptions {
  /** Whether a request target (path without the query) is one the lane serves. */
  isLanePath(rawPath: string): boolean;
  /** The server's maxHeaderSize: a longer head goes to node:http, which refuses it its own way. */
  maxHeaderBytes: number;
  /** Connections refused at accept time (client-limits.ts): their 429 is written, nothing they send is read. */
  isRefused(socket: Socket): boolean;
  /** Told of every request the lane serves (a metric). */
  onRequest?: () => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** More header lines than this: node:http decides (it counts and limits them itself). */
const MAX_LANE_HEADERS = 64;
/** RFC 9110 token characters, as llhttp checks a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header value characters llhttp accepts: HTAB, visible ASCII, space, obs-text. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Request-target characters the lane accepts (visible ASCII); anything else goes to node:http. */
const BAD_TARGET = /[^\x21-\x7e]/;
/** Headers that frame a body or change the connection: the lane leaves such requests to node:http. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer']);
/** node:http keeps the first of these when a request repeats them (IncomingMessage._addHeaderLine). */
const FIRST_WINS = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

let utcCache: string | undefined;
let utcCacheUntilMs = 0;
/** The Date header, as node:http caches it: recomputed once per second. */
function utcDate(): string {
  const now = Date.now();
  if (utcCache === undefined || now >= utcCacheUntilMs) {
    const d = new Date(now);
    utcCache = d.toUTCString();
    utcCacheUntilMs = now - d.getMilliseconds() + 1000;
  }
  return utcCache;
}

type Listener = (...args: unknown[]) => void;

/** The little of EventEmitter the routes use on a request or response: on/once/off and emit. */
class Emitter {
  private listeners: Array<{ event: string | symbol; fn: Listener; once: boolean }> | null = null;

  on(event: string | symbol, fn: Listener): this {
    (this.listeners ??= []).push({ event, fn, once: false });
    return this;
  }

  addListener(event: string | symbol, fn: Listener): this {
    return this.on(event, fn);
  }

  once(event: string | symbol, fn: Listener): this {
    (this.listeners ??= []).push({ event, fn, once: true });
    return this;
  }

  off(event: string | symbol, fn: Listener): this {
    const list = this.listeners;
    if (list === null) return this;
    const i = list.findIndex((l) => l.event === event && l.fn === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  removeListener(event: string | symbol, fn: Listener): this {
    return this.off(event, fn);
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.listeners;
    if (list === null) return false;
    let called = false;
    for (const l of [...list]) {
      if (l.event !== event) continue;
      if (l.once) this.off(event, l.fn);
      called = true;
      l.fn.apply(this, args);
    }
    return called;
  }
}

/** A lane request: what server.ts and the subscribe route read of an IncomingMessage. */
class LaneRequest extends Emitter {
  readonly method = 'GET';
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** A GET without a body is complete once its head is read. */
  readonly complete = true;
  readonly aborted = false;
  private parsedHeaders: Record<string, string | string[]> | null = null;

  constructor(
    readonly url: string,
    /** The header lines, without the request line. */
    private readonly headerText: string,
    readonly socket: Socket,
  ) {
    super();
  }

  get connection(): Socket {
    return this.socket;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get rawHeaders(): string[] {
    const out: string[] = [];
    forEachHeader(this.headerText, (name, value) => void out.push(name, value));
    return out;
  }

  /** Parsed on first use, with node:http's rules for repeated names. */
  get headers(): Record<string, string | string[]> {
    if (this.parsedHeaders !== null) return this.parsedHeaders;
    const headers: Record<string, string | string[]> = {};
    forEachHeader(this.headerText, (name, value) => {
      const key = name.toLowerCase();
      const prev = headers[key];
      if (prev === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
      else if (key === 'set-cookie') (prev as string[]).push(value);
      else if (FIRST_WINS.has(key)) return;
      else headers[key] = `${prev as string}${key === 'cookie' ? '; ' : ', '}${value}`;
    });
    return (this.parsedHeaders = headers);
  }
}

/** Calls `fn` with each `name: value` line of a header block (already checked by the lane). */
function forEachHeader(text: string, fn: (name: string, value: string) => void): void {
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\r\n', from);
    if (to < 0) to = text.length;
    const colon = text.indexOf(':', from);
    // Optional whitespace around a value is spaces and tabs only (RFC 9110 §5.6.3), as node:http trims.
    let a = colon + 1;
    let b = to;
    while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
    while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
    fn(text.slice(from, colon), text.slice(a, b));
    from = to + 2;
  }
}

/**
 * A lane response: what server.ts, sendJson and the subscribe route call on a ServerResponse. The head
 * is written with the body by end(), in node:http's order: the given headers, then Date, then
 * `Connection: keep-alive` and `Keep-Alive: timeout=…` unless a Connection header was given.
 */
class LaneResponse extends Emitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  /** lower-case name → [name as given, value] */
  private readonly headers = new Map<string, [string, string | number | readonly string[]]>();
  private isClosed = false;

  constructor(private readonly conn: LaneConnection) {
    super();
  }

  get destroyed(): boolean {
    return this.conn.socket.destroyed;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  get socket(): Socket {
    return this.conn.socket;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw headersSentError('set');
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    this.headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  getHeader(name: string): string | number | readonly string[] | undefined {
    return this.headers.get(name.toLowerCase())?.[1];
  }

  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError('remove');
    this.headers.delete(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return [...this.headers.keys()];
  }

  writeHead(status: number, reasonOrHeaders?: string | Record<string, string | number | readonly string[]>, maybeHeaders?: Record<string, string | number | readonly string[]>): this {
    if (this.headersSent) throw headersSentError('set');
    const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    this.statusCode = status;
    if (headers) for (const name of Object.keys(headers)) this.setHeader(name, headers[name]);
    // node:http fixes the head here; the lane writes it with the body, which follows at once.
    this.headersSent = true;
    return this;
  }

  write(): boolean {
    throw new Error('the subscribe lane writes whole answers only (end with the body)');
  }

  end(body?: string | Buffer | (() => void), encodingOrCallback?: BufferEncoding | (() => void)): this {
    if (this.writableEnded) return this;
    const bytes = typeof body === 'string' ? Buffer.from(body, typeof encodingOrCallback === 'string' ? encodingOrCallback : 'utf8') : Buffer.isBuffer(body) ? body : null;
    this.writableEnded = true;
    this.headersSent = true;
    let head = `HTTP/1.1 ${this.statusCode} ${this.statusMessage || STATUS_CODES[this.statusCode] || 'unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    let connection: string | null = null;
    for (const [key, [name, value]] of this.headers) {
      if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value as string | number}\r\n`;
      if (key === 'content-length') hasLength = true;
      else if (key === 'date') hasDate = true;
      else if (key === 'connection') connection = String(value);
    }
    if (!hasDate) head += `Date: ${utcDate()}\r\n`;
    const length = bytes === null ? 0 : bytes.length;
    let keepAlive: boolean;
    if (connection !== null) keepAlive = !/(?:^|\W)close(?:$|\W)/i.test(connection);
    else {
      keepAlive = true;
      const timeoutMs = this.conn.lane.server.keepAliveTimeout;
      head += timeoutMs ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(timeoutMs / 1000)}\r\n` : 'Connection: keep-alive\r\n';
    }
    if (!hasLength) head += `Content-Length: ${length}\r\n`;
    this.conn.respond(this, `${head}\r\n`, bytes, keepAlive);
    const callback = typeof body === 'function' ? body : typeof encodingOrCallback === 'function' ? encodingOrCallback : null;
    this.emit('finish');
    this.closed();
    callback?.();
    return this;
  }

  destroy(): this {
    this.conn.socket.destroy();
    return this;
  }

  /** 'close' once: after the answer is written, or when the connection ends first. */
  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.emit('close');
  }
}

function headersSentError(what: string): Error {
  return Object.assign(new Error(`Cannot ${what} headers after they are sent to the client`), { code: 'ERR_HTTP_HEADERS_SENT' });
}

/** One connection while the lane serves it. */
class LaneConnection {
  /** Bytes of a request not yet complete (or of pipelined ones waiting for the current answer). */
  private buf: Buffer | null = null;
  /** The request whose answer is not written yet. */
  private current: LaneResponse | null = null;
  /** When the connection became idle, or when the pending request's first bytes arrived. */
  sinceMs: number;
  /**
   * Whether it has been answered once. node:http times out an idle keep-alive connection only after a
   * response (keepAliveTimeout); a connection that never sent a byte has no timeout there either.
   */
  hasAnswered = false;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onEnd = (): void => void this.socket.end();
  private readonly onError = (): void => void this.socket.destroy();
  private readonly onClose = (): void => this.closedSocket();

  constructor(
    readonly lane: SubscribeLane,
    readonly socket: Socket,
  ) {
    this.sinceMs = Date.now();
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  get isIdle(): boolean {
    return this.current === null && this.buf === null;
  }

  get isWaitingForHead(): boolean {
    return this.current === null;
  }

  private received(chunk: Buffer): void {
    if (this.buf === null) {
      this.buf = chunk;
      if (this.current === null) this.sinceMs = Date.now();
    } else this.buf = Buffer.concat([this.buf, chunk]);
    if (this.current === null) this.next();
  }

  /** Serves the buffered request, if complete; hands the connection over when it is not one for the lane. */
  private next(): void {
    const buf = this.buf;
    if (buf === null || this.current !== null || this.socket.destroyed) return;
    // A refused connection has its 429 written and is closing: nothing it sends is read (server.ts).
    if (this.lane.isRefused(this.socket)) {
      this.buf = null;
      return;
    }
    const end = buf.indexOf(HEAD_END);
    const maxHead = this.lane.maxHeaderBytes;
    if (end < 0) {
      if (buf.length > maxHead) this.handOver();
      return;
    }
    const head = end + 4 <= maxHead ? buf.toString('latin1', 0, end) : null;
    const parsed = head === null ? null : this.lane.parse(head);
    if (parsed === null) return this.handOver();
    this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : null;
    const req = new LaneRequest(parsed.url, parsed.headerText, this.socket);
    const res = new LaneResponse(this);
    this.current = res;
    this.lane.served();
    try {
      this.lane.server.emit('request', req as unknown as IncomingMessage, res as unknown as ServerResponse);
    } catch {
      this.socket.destroy();
    }
  }

  /** Writes an answer; the next pipelined request, if any, is read on the next tick. */
  respond(res: LaneResponse, head: string, body: Buffer | null, keepAlive: boolean): void {
    if (res !== this.current) return;
    this.current = null;
    this.hasAnswered = true;
    this.sinceMs = Date.now();
    const socket = this.socket;
    if (!socket.destroyed) {
      socket.cork();
      socket.write(head, 'latin1');
      if (body !== null && body.length > 0) socket.write(body);
      socket.uncork();
      if (!keepAlive) {
        socket.end();
        this.buf = null;
        return;
      }
    }
    if (this.buf !== null) process.nextTick(() => this.next());
  }

  /** node:http takes the connection, and is handed what the lane has read and not served. */
  handOver(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    this.lane.forget(this);
    const pending = this.buf;
    this.buf = null;
    this.lane.nodeConnectionListener.call(this.lane.server, socket);
    if (pending !== null && !socket.destroyed) socket.emit('data', pending);
  }

  private closedSocket(): void {
    this.lane.forget(this);
    this.buf = null;
    const res = this.current;
    this.current = null;
    res?.closed();
  }

  /** headersTimeout passed with a request head still incomplete: the server's clientError answers it. */
  headersTimedOut(): void {
    this.buf = null;
    const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    // As node:http does: the server's clientError listener answers (and closes), else a bare 408.
    if (!this.lane.server.emit('clientError', err, this.socket)) {
      this.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      this.socket.destroySoon();
    }
  }
}

export interface ParsedLaneHead {
  url: string;
  headerText: string;
}

export class SubscribeLane {
  readonly nodeConnectionListener: (socket: Socket) => void;
  private readonly connections = new Set<LaneConnection>();
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * Takes over `server`'s connections: node:http's own connection listener runs only for connections
   * handed over. Call right after createServer, before any other `connection` listener is added.
   */
  constructor(
    readonly server: Server,
    private readonly options: SubscribeLaneOptions,
  ) {
    const listeners = server.listeners('connection');
    if (listeners.length !== 1) throw new Error('SubscribeLane must be installed on a fresh http.Server');
    this.nodeConnectionListener = listeners[0] as (socket: Socket) => void;
    server.removeListener('connection', this.nodeConnectionListener);
    server.on('connection', (socket: Socket) => void this.connections.add(new LaneConnection(this, socket)));
    // Idle lane connections close with node:http's (server.close() calls closeIdleConnections).
    const closeIdle = server.closeIdleConnections.bind(server);
    const closeAll = server.closeAllConnections.bind(server);
    server.closeIdleConnections = () => {
      closeIdle();
      for (const c of [...this.connections]) if (c.isIdle) c.socket.destroy();
    };
    server.closeAllConnections = () => {
      closeAll();
      for (const c of [...this.connections]) c.socket.destroy();
    };
    server.on('listening', () => {
      this.sweeper ??= setInterval(() => this.sweep(), 1000);
      this.sweeper.unref();
    });
    server.on('close', () => {
      if (this.sweeper) clearInterval(this.sweeper);
      this.sweeper = null;
    });
  }

  get maxHeaderBytes(): number {
    return this.options.maxHeaderBytes;
  }

  isRefused(socket: Socket): boolean {
    return this.options.isRefused(socket);
  }

  served(): void {
    this.options.onRequest?.();
  }

  /** Connections the lane serves now (not those handed to node:http). */
  get size(): number {
    return this.connections.size;
  }

  forget(conn: LaneConnection): void {
    this.connections.delete(conn);
  }

  /**
   * The request line and headers of one request, if the lane serves it: `GET <target> HTTP/1.1`, a
   * target on a lane path, a Host header, well-formed header lines that node:http would accept, none
   * that frame a body or change the connection. null: node:http serves it.
   */
  parse(head: string): ParsedLaneHead | null {
    const lineEnd = head.indexOf('\r\n');
    const requestLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    if (!requestLine.startsWith('GET ') || !requestLine.endsWith(' HTTP/1.1')) return null;
    const url = requestLine.slice(4, -9);
    if (url.length === 0 || url[0] !== '/' || BAD_TARGET.test(url)) return null;
    const q = url.indexOf('?');
    if (!this.options.isLanePath(q < 0 ? url : url.slice(0, q))) return null;
    const headerText = lineEnd < 0 ? '' : head.slice(lineEnd + 2);
    let hasHost = false;
    let count = 0;
    let from = 0;
    while (from < headerText.length) {
      let to = headerText.indexOf('\r\n', from);
      if (to < 0) to = headerText.length;
      if (++count > MAX_LANE_HEADERS) return null;
      const line = headerText.slice(from, to);
      const colon = line.indexOf(':');
      if (colon <= 0) return null;
      const name = line.slice(0, colon);
      if (!TOKEN.test(name) || BAD_VALUE.test(line.slice(colon + 1)) || line.includes('\n')) return null;
      const key = name.toLowerCase();
      if (FRAMING.has(key)) return null;
      // `Connection: keep-alive` (fetch sends it) changes nothing for HTTP/1.1; any other value is node:http's.
      if (key === 'connection' && !/^[ \t]*keep-alive[ \t]*$/i.test(line.slice(colon + 1))) return null;
      if (key === 'host') hasHost = true;
      from = to + 2;
    }
    // RFC 9112 §3.2: node:http answers an HTTP/1.1 request without Host with its own 400.
    return hasHost ? { url, headerText } : null;
  }

  /** node:http's timeouts for the lane's connections: headersTimeout, then keepAliveTimeout when idle. */
  private sweep(): void {
    const now = Date.now();
    const headersTimeout = this.server.headersTimeout;
    const keepAlive = this.server.keepAliveTimeout;
    for (const c of [...this.connections]) {
      if (!c.isWaitingForHead) continue;
      if (!c.isIdle) {
        if (headersTimeout > 0 && now - c.sinceMs > headersTimeout) c.headersTimedOut();
      } else if (c.hasAnswered && keepAlive > 0 && now - c.sinceMs > keepAlive + 1000) c.socket.destroy();
    }
  }
}
