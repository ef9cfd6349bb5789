import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WholeAnswerResponse } from './request.ts';

/**
 * The lane: the hottest requests, subscribe long-polls and publishes by GET, read and answered straight
 * on the socket (docs/performance.md "The lane").
 *
 * node:http builds a parser state, an IncomingMessage, a ServerResponse, stream states and a dozen
 * listeners and timers for every request. For a long-poll that is most of the cost of a delivery, and
 * all of it stays alive while the poll is parked, so the young generation cannot hold the parked set
 * and the GC grows with the number of subscribers. The lane takes every new connection first and reads
 * its requests itself while they are plain GETs of the routes it is given: a request line, a header
 * block, no body. It hands them to the server's `request` listeners as small request/response objects
 * that implement what those routes use, so the same router, access checks, caps and handlers answer
 * them, and writes each answer as node:http would (same status line, headers in the same order, Date,
 * keep-alive).
 *
 * Anything else, at any point of a connection (another method or path, a body, an upgrade, HTTP/1.0,
 * `Connection: close`, a missing Host, a header node:http would refuse, a head over the size limit), is
 * handed to node:http with the bytes read so far, and node:http serves that connection from then on:
 * every request the lane does not recognise meets node:http's own parser and answers.
 * The lane also keeps node:http's timeouts (headersTimeout for a head that stops arriving, keepAliveTimeout
 * for an idle connection) and takes part in closeIdleConnections / closeAllConnections; it reads at most
 * one head's worth of pipelined bytes behind an unanswered request, then stops reading until it answers;
 * a client's FIN ends the connection as node:http's default does.
 *
 * Why hand-written, when node:http is the well-kept parser: it is the whole cost of a delivery here
 * (docs/performance.md: about 1.4x deliveries per CPU-second, and 7 KiB instead of 10.5 KiB per parked
 * poll at 10,000). Why it is safe: it never frames a body, and it takes only what node:http would read
 * the same way. test/property/lane-differential.prop.test.ts sends the same random bytes (bare LF,
 * obs-fold, CL/TE spellings, control bytes, pipelining, half-close) to a server with the lane and to one
 * without, and requires the same answers. `fastLane: false` in the configuration turns it off.
 */
export interface LaneOptions {
  /**
   * Whether a GET of this target (path without the query) is one the lane serves: its route must answer
   * with sendJson (whole answers) and read nothing of the request but what LaneRequest has. Anything
   * but null means yes, and is handed to the request listeners as `req.laneMatch` (the server's route
   * match, so the path is not matched twice).
   */
  matchPath(rawPath: string): unknown;
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

/**
 * A header block node:http accepts as it is: lines of a token name, a colon and a value of HTAB,
 * visible ASCII, space or obs-text, each ended by CRLF (llhttp's strict rules). One linear test: the
 * value class has no CR, so nothing backtracks.
 */
const HEADER_BLOCK = /^(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*(?:\r\n|$))*$/;
/** Request-target characters the lane accepts (visible ASCII); anything else goes to node:http. */
const BAD_TARGET = /[^\x21-\x7e]/;
/**
 * The header lines that matter to the lane, found in one pass: Host (required), Connection (only
 * `keep-alive` is kept, as fetch sends it), and those that frame a body or change the connection.
 */
const SPECIAL_HEADERS = /(?:^|\r\n)(host|connection|content-length|transfer-encoding|expect|upgrade|te|trailer):([^\r]*)/gi;
const KEEP_ALIVE = /^[ \t]*keep-alive[ \t]*$/i;
/** node:http keeps the first of these when a request repeats them (IncomingMessage._addHeaderLine). */
const FIRST_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
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

/**
 * The little of EventEmitter the routes use on a request or response: on/once/off and emit. Listeners
 * are kept flat, [event, fn, once, event, fn, once, ...], so registering one allocates nothing.
 */
class Emitter {
  private listeners: unknown[] | null = null;

  on(event: string | symbol, fn: Listener): this {
    (this.listeners ??= []).push(event, fn, false);
    return this;
  }

  addListener(event: string | symbol, fn: Listener): this {
    return this.on(event, fn);
  }

  once(event: string | symbol, fn: Listener): this {
    (this.listeners ??= []).push(event, fn, true);
    return this;
  }

  off(event: string | symbol, fn: Listener): this {
    const list = this.listeners;
    if (list === null) return this;
    for (let i = 0; i < list.length; i += 3) {
      if (list[i] === event && list[i + 1] === fn) {
        list.splice(i, 3);
        break;
      }
    }
    return this;
  }

  removeListener(event: string | symbol, fn: Listener): this {
    return this.off(event, fn);
  }

  /** Whether any listener waits for `event`. */
  protected hasListener(event: string | symbol): boolean {
    const list = this.listeners;
    if (list === null) return false;
    for (let i = 0; i < list.length; i += 3) if (list[i] === event) return true;
    return false;
  }

  /**
   * Emits an object's last event: every listener is called once and then forgotten, so the list
   * is taken instead of copied (a listener added meanwhile is not called, as with emit()).
   */
  protected emitLast(event: string | symbol): void {
    const list = this.listeners;
    if (list === null) return;
    this.listeners = null;
    for (let i = 0; i < list.length; i += 3) if (list[i] === event) (list[i + 1] as Listener).call(this);
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.listeners;
    if (list === null) return false;
    // A listener may add or remove listeners: call the ones registered when the event was emitted.
    const snapshot = list.slice();
    let called = false;
    for (let i = 0; i < snapshot.length; i += 3) {
      if (snapshot[i] !== event) continue;
      const fn = snapshot[i + 1] as Listener;
      if (snapshot[i + 2] === true) this.off(event, fn);
      called = true;
      fn.apply(this, args);
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
  /**
   * As on node:http: false while the `request` listeners run synchronously (node:http marks a request
   * complete only after its listeners return, even without a body), true afterwards. server.ts closes
   * the connection after an answer given before the request was complete.
   */
  complete = false;
  readonly aborted = false;
  private parsedHeaders: Record<string, string | string[]> | null = null;

  constructor(
    readonly url: string,
    /** The header lines, without the request line. */
    private readonly headerText: string,
    readonly socket: Socket,
    /** What LaneOptions.matchPath answered for this request's path. */
    readonly laneMatch: unknown,
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
 * is written with the body by end() or sendWhole(), in node:http's order: the given headers, then Date,
 * then `Connection: keep-alive` and `Keep-Alive: timeout=…` unless a Connection header was given.
 */
class LaneResponse extends Emitter implements WholeAnswerResponse {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  /** Headers set with setHeader or writeHead, as [name as given, value], in order; made on first use. */
  private headers: Array<[string, string | number | readonly string[]]> | null = null;
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

  private indexOf(name: string): number {
    const key = name.toLowerCase();
    return this.headers === null ? -1 : this.headers.findIndex(([n]) => n.toLowerCase() === key);
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw headersSentError('set');
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    const i = this.indexOf(name);
    // node:http keeps a replaced header where it was first set.
    const headers = (this.headers ??= []);
    if (i >= 0) headers[i] = [headers[i][0], value];
    else headers.push([name, value]);
    return this;
  }

  getHeader(name: string): string | number | readonly string[] | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.headers?.[i][1];
  }

  hasHeader(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  removeHeader(name: string): void {
    if (this.headersSent) throw headersSentError('remove');
    const i = this.indexOf(name);
    if (i >= 0) this.headers?.splice(i, 1);
  }

  getHeaderNames(): string[] {
    return (this.headers ?? []).map(([n]) => n.toLowerCase());
  }

  writeHead(
    status: number,
    reasonOrHeaders?: string | Record<string, string | number | readonly string[]>,
    maybeHeaders?: Record<string, string | number | readonly string[]>,
  ): this {
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

  /**
   * sendJson's answer: the head comes from a template made once per status and content type, unless
   * headers were set before (server.ts sets `Connection: close`): then as writeHead and end would.
   */
  sendWhole(status: number, contentType: string, body: string | Buffer, headers: ReadonlyArray<readonly [string, string]>): void {
    if (this.writableEnded || this.headersSent) return;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (this.headers !== null) {
      const all: Record<string, string | number> = { 'Content-Type': contentType, 'Content-Length': bytes.length };
      for (const [name, value] of headers) all[name] = value;
      this.writeHead(status, all);
      this.end(bytes);
      return;
    }
    this.statusCode = status;
    this.writableEnded = true;
    this.headersSent = true;
    this.conn.respondWith(this, this.conn.lane.answerTemplate(status, contentType, headers), bytes);
    this.ended(null);
  }

  end(body?: string | Buffer | (() => void), encodingOrCallback?: BufferEncoding | (() => void)): this {
    if (this.writableEnded) return this;
    const bytes =
      typeof body === 'string' ? Buffer.from(body, typeof encodingOrCallback === 'string' ? encodingOrCallback : 'utf8') : Buffer.isBuffer(body) ? body : null;
    let head = `HTTP/1.1 ${this.statusCode} ${this.statusMessage || STATUS_CODES[this.statusCode] || 'unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    let connection: string | null = null;
    for (const [name, value] of this.headers ?? []) {
      if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value as string | number}\r\n`;
      const key = name.toLowerCase();
      if (key === 'content-length') hasLength = true;
      else if (key === 'date') hasDate = true;
      else if (key === 'connection') connection = String(value);
    }
    if (!hasDate) head += `Date: ${utcDate()}\r\n`;
    const keepAlive = connection === null || !/(?:^|\W)close(?:$|\W)/i.test(connection);
    if (connection === null) head += this.conn.lane.keepAliveLines();
    if (!hasLength) head += `Content-Length: ${bytes === null ? 0 : bytes.length}\r\n`;
    const callback = typeof body === 'function' ? body : typeof encodingOrCallback === 'function' ? encodingOrCallback : null;
    this.finish(`${head}\r\n`, bytes, keepAlive, callback);
    return this;
  }

  private finish(head: string, body: Buffer | null, keepAlive: boolean, callback: (() => void) | null): void {
    this.writableEnded = true;
    this.headersSent = true;
    this.conn.respond(this, head, body, keepAlive);
    this.ended(callback);
  }

  private ended(callback: (() => void) | null): void {
    if (this.hasListener('finish')) this.emit('finish');
    this.closed();
    callback?.();
  }

  destroy(): this {
    this.conn.socket.destroy();
    return this;
  }

  /** 'close' once: after the answer is written, or when the connection ends first. */
  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.emitLast('close');
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
  /** Whether reading stopped because too many pipelined bytes wait behind the current request. */
  private isPaused = false;
  /** Whether the client has half-closed: what it sent is served, then the connection ends (as node:http). */
  private hasPeerEnded = false;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onEnd = (): void => this.peerEnded();
  private readonly onError = (): void => void this.socket.destroy();
  private readonly onClose = (): void => this.closedSocket();

  constructor(
    readonly lane: Lane,
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
    // Pipelined bytes behind an unanswered request (a parked long-poll) are held up to one head's
    // worth; past that the socket stops being read until the answer is written (TCP pushes back).
    else if (this.buf !== null && this.buf.length > this.lane.maxHeaderBytes && !this.isPaused) {
      this.isPaused = true;
      this.socket.pause();
    }
  }

  /** Reads again after an answer, if pipelined bytes had paused the socket. */
  private resumeReading(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    if (!this.socket.destroyed) this.socket.resume();
  }

  /** Serves the buffered request, if complete; hands the connection over when it is not one for the lane. */
  private next(): void {
    const buf = this.buf;
    if (this.current !== null || this.socket.destroyed) return;
    if (buf === null) {
      // Everything the client sent before half-closing is answered: close our side too.
      if (this.hasPeerEnded) this.socket.end();
      return;
    }
    // A refused connection has its 429 written and is closing: nothing it sends is read (server.ts).
    if (this.lane.isRefused(this.socket)) {
      this.buf = null;
      return;
    }
    const end = buf.indexOf(HEAD_END);
    const maxHead = this.lane.maxHeaderBytes;
    if (end < 0) {
      // Too long, or cut short by the client's end: node:http's parser decides (and answers its 400).
      if (buf.length > maxHead || this.hasPeerEnded) this.handOver();
      return;
    }
    const head = end + 4 <= maxHead ? buf.toString('latin1', 0, end) : null;
    const parsed = head === null ? null : this.lane.parse(head);
    if (parsed === null) {
      this.handOver();
      return;
    }
    this.buf = end + 4 < buf.length ? buf.subarray(end + 4) : null;
    const req = new LaneRequest(parsed.url, parsed.headerText, this.socket, parsed.match);
    const res = new LaneResponse(this);
    this.current = res;
    this.lane.served();
    try {
      this.lane.server.emit('request', req as unknown as IncomingMessage, res as unknown as ServerResponse);
    } catch {
      this.socket.destroy();
    }
    req.complete = true;
  }

  /** Writes an answer (head and body in one write); the next pipelined request, if any, is read on the next tick. */
  respond(res: LaneResponse, head: string, body: Buffer | null, keepAlive: boolean): void {
    if (!this.settle(res)) return;
    const socket = this.socket;
    if (!socket.destroyed) {
      // A head is latin1 (as node:http writes it): one byte per character.
      const bodyLength = body === null ? 0 : body.length;
      const bytes = Buffer.allocUnsafe(head.length + bodyLength);
      bytes.write(head, 0, 'latin1');
      if (body !== null) body.copy(bytes, head.length);
      socket.write(bytes);
      if (!keepAlive) {
        socket.end();
        this.buf = null;
        return;
      }
    }
    this.readOn();
  }

  /** Whether `res` is the request being answered; if so the connection is idle from now. */
  private settle(res: LaneResponse): boolean {
    if (res !== this.current) return false;
    this.current = null;
    this.hasAnswered = true;
    this.sinceMs = Date.now();
    return true;
  }

  /** After an answer: reading resumes, and the next pipelined request is served on the next tick. */
  private readOn(): void {
    this.resumeReading();
    if (this.buf !== null || this.hasPeerEnded) process.nextTick(() => this.next());
  }

  /**
   * Writes a keep-alive answer from its template: the head's fixed bytes, the body's length in
   * digits, the rest of the head (Date included, remade once a second), the body; one buffer, one write.
   */
  respondWith(res: LaneResponse, t: AnswerTemplate, body: Buffer): void {
    if (!this.settle(res)) return;
    const socket = this.socket;
    if (!socket.destroyed) {
      const tail = this.lane.templateTail(t);
      let digits = 1;
      for (let n = body.length; n >= 10; n = Math.floor(n / 10)) digits++;
      const bytes = Buffer.allocUnsafe(t.before.length + digits + tail.length + body.length);
      let at = t.before.copy(bytes, 0);
      for (let i = digits - 1, n = body.length; i >= 0; i--, n = Math.floor(n / 10)) bytes[at + i] = 48 + (n % 10);
      at += digits;
      at += tail.copy(bytes, at);
      body.copy(bytes, at);
      socket.write(bytes);
    }
    this.readOn();
  }

  /**
   * The client's FIN, handled as node:http does by default (httpAllowHalfOpen false): what was read is
   * served (a head cut short goes to node:http, whose parser reports it), then our side ends, so a
   * parked long-poll is released at once, as for a client that went away.
   */
  private peerEnded(): void {
    this.hasPeerEnded = true;
    // Requests already read and answered at once are served, as node:http's parser would have (bounded).
    for (let i = 0; i < 1024 && this.current === null && this.buf !== null && this.lane.owns(this); i++) this.next();
    if (!this.lane.owns(this)) return;
    this.buf = null;
    this.socket.end();
  }

  /**
   * node:http takes the connection, and is handed what the lane has read and not served (and the
   * client's end, if it came: node:http's parser then reports a request cut short, as it would have).
   */
  handOver(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    this.lane.forget(this);
    const pending = this.buf;
    this.buf = null;
    this.resumeReading();
    this.lane.nodeConnectionListener.call(this.lane.server, socket);
    if (pending !== null && !socket.destroyed) socket.emit('data', pending);
    // The stream's 'end' has fired already: node:http's listener (socketOnEnd) is told again, a turn
    // later, as it would have heard it after the data.
    if (this.hasPeerEnded) setImmediate(() => void (socket.destroyed || socket.emit('end')));
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

interface AnswerTemplate {
  headers: ReadonlyArray<readonly [string, string]>;
  before: Buffer;
  after: string;
  tail: Buffer | null;
  tailDate: string;
}

export interface ParsedLaneHead {
  url: string;
  headerText: string;
  /** What matchPath answered for the target. */
  match: unknown;
}

export class Lane {
  readonly nodeConnectionListener: (socket: Socket) => void;
  private readonly connections = new Set<LaneConnection>();
  /** Answer templates by status, then content type (see answerTemplate). */
  private readonly templates = new Map<number, Map<string, AnswerTemplate>>();
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * Takes over `server`'s connections: node:http's own connection listener runs only for connections
   * handed over. Call right after createServer, before any other `connection` listener is added.
   */
  constructor(
    readonly server: Server,
    private readonly options: LaneOptions,
  ) {
    const listeners = server.listeners('connection');
    if (listeners.length !== 1) throw new Error('Lane must be installed on a fresh http.Server');
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

  /** `Connection` and `Keep-Alive` as node:http adds them to a keep-alive answer. */
  keepAliveLines(): string {
    const timeoutMs = this.server.keepAliveTimeout;
    return timeoutMs ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(timeoutMs / 1000)}\r\n` : 'Connection: keep-alive\r\n';
  }

  /**
   * What node:http writes for writeHead(status, {Content-Type, Content-Length, ...headers}) and end(body)
   * on a keep-alive connection, as a template made (and its headers validated) once per status and
   * content type: the bytes before the length, and those after it up to the Date header.
   */
  answerTemplate(status: number, contentType: string, headers: ReadonlyArray<readonly [string, string]>): AnswerTemplate {
    let byType = this.templates.get(status);
    if (byType === undefined) this.templates.set(status, (byType = new Map()));
    let t = byType.get(contentType);
    if (t === undefined || t.headers !== headers) {
      validateHeaderValue('Content-Type', contentType);
      let rest = '';
      for (const [name, value] of headers) {
        validateHeaderName(name);
        validateHeaderValue(name, value);
        rest += `\r\n${name}: ${value}`;
      }
      t = {
        headers,
        before: Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\nContent-Type: ${contentType}\r\nContent-Length: `, 'latin1'),
        after: `${rest}\r\nDate: `,
        tail: null,
        tailDate: '',
      };
      byType.set(contentType, t);
    }
    return t;
  }

  /** A template's bytes after the length: its headers, Date (remade when the second changes), keep-alive, the blank line. */
  templateTail(t: AnswerTemplate): Buffer {
    const date = utcDate();
    if (t.tail === null || t.tailDate !== date) {
      t.tail = Buffer.from(`${t.after}${date}\r\n${this.keepAliveLines()}\r\n`, 'latin1');
      t.tailDate = date;
    }
    return t.tail;
  }

  /** Connections the lane serves now (not those handed to node:http). */
  get size(): number {
    return this.connections.size;
  }

  /** Whether the lane still serves this connection (not handed over, not closed). */
  owns(conn: LaneConnection): boolean {
    return this.connections.has(conn);
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
    // `GET <target> HTTP/1.1`, then at least one header line (Host is required).
    const lineEnd = head.indexOf('\r\n');
    if (lineEnd < 14 || !head.startsWith('GET /') || !head.startsWith(' HTTP/1.1', lineEnd - 9)) return null;
    const url = head.slice(4, lineEnd - 9);
    if (BAD_TARGET.test(url)) return null;
    const q = url.indexOf('?');
    const match = this.options.matchPath(q < 0 ? url : url.slice(0, q));
    if (match === null) return null;
    const headerText = head.slice(lineEnd + 2);
    if (!HEADER_BLOCK.test(headerText)) return null;
    let lines = 1;
    for (let i = headerText.indexOf('\r\n'); i >= 0; i = headerText.indexOf('\r\n', i + 2)) if (++lines > MAX_LANE_HEADERS) return null;
    let hasHost = false;
    SPECIAL_HEADERS.lastIndex = 0;
    for (let m = SPECIAL_HEADERS.exec(headerText); m !== null; m = SPECIAL_HEADERS.exec(headerText)) {
      const name = m[1].length === 4 ? 'host' : m[1].toLowerCase();
      if (name === 'host') hasHost = true;
      else if (name !== 'connection' || !KEEP_ALIVE.test(m[2])) return null;
    }
    // RFC 9112 §3.2: node:http answers an HTTP/1.1 request without Host with its own 400.
    return hasHost ? { url, headerText, match } : null;
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
