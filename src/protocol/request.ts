import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import { ParleyError } from '../errors.ts';
import { parseTimetoken } from '../realtime/timetoken.ts';
import type { ParsedQuery } from './query.ts';

/**
 * One HTTP request as the routes see it. The path stays raw (still percent-encoded): list segments
 * are split on literal `,` before decoding, and the signature covers the path exactly as sent (§1.1, §9).
 */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly rawPath: string;
  /** The one parse of the query (query.ts); nothing reads the raw query string again. */
  readonly query: ParsedQuery;
  /** Raw path segments of the matched route's `:name` placeholders. */
  params: Record<string, string>;
  /**
   * Request body after Content-Encoding is undone; empty for GET, and empty until the server has read
   * it (after the access decision, unless the decision needed it: server.ts).
   */
  body: Buffer;
  readonly log: Logger;
  readonly uuid: string;
  /**
   * For an answer written after the handler settled that is not a hold: a subscribe that found
   * messages waiting answers at the turn's end (realtime/hub.ts). Times it as a request
   * (parley_request_duration_seconds), once; an answer written before the handler settled is timed
   * by the server, and this does nothing for it.
   */
  timeAnswer(): void;
}

export function decodeComponent(raw: string, what: string): string {
  // Nothing to decode (decodeURIComponent would return the same text).
  if (raw.indexOf('%') < 0) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ParleyError('INVALID_PARAM', `${what} is not valid percent-encoding`);
  }
}

/**
 * A path list segment (§1.1): split on literal commas, then decode each piece; `,` alone is empty.
 * Names are deduplicated: a name given twice means it once (and costs once).
 */
export function decodeList(raw: string, what: string): string[] {
  if (raw === ',' || raw === '') return [];
  // One name with nothing to decode (a subscriber's usual channel): no split, no set.
  if (raw.indexOf(',') < 0 && raw.indexOf('%') < 0) return [raw];
  return unique(raw.split(',').map((p) => decodeComponent(p, what)));
}

/** A query list (§1.1): decoded first, then split on commas; deduplicated, empty names dropped. */
export function queryList(query: ReadonlyMap<string, string>, key: string): string[] {
  const v = query.get(key);
  if (!v) return [];
  return unique(v.split(','));
}

function unique(names: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    if (n.length === 0 || seen.has(n)) continue;
    seen.add(n);
    out.push(n);
  }
  return out;
}

export function queryFlag(query: ReadonlyMap<string, string>, key: string): boolean | undefined {
  const v = query.get(key);
  if (v === undefined || v === 'null') return undefined;
  // Python sends its booleans as `True` / `False`.
  if (v === '1' || v === 'true' || v === 'True') return true;
  if (v === '0' || v === 'false' || v === 'False' || v === '') return false;
  throw new ParleyError('INVALID_PARAM', `${key} must be true or false (got "${v}")`);
}

export function queryInt(query: ReadonlyMap<string, string>, key: string, min: number, max: number): number | undefined {
  const v = query.get(key);
  // pubnub 11 (the Chat SDK's) sends `ttl=null` for an unset option: treat it as absent.
  if (v === undefined || v === '' || v === 'null') return undefined;
  if (!/^-?\d+$/.test(v)) throw new ParleyError('INVALID_PARAM', `${key} must be an integer (got "${v}")`);
  const n = Number(v);
  if (n < min || n > max) throw new ParleyError('INVALID_PARAM', `${key} must be between ${min} and ${max} (got ${n})`);
  return n;
}

/** A timetoken value; undefined when absent or empty, INVALID_TIMETOKEN when malformed. */
export function timetokenValue(raw: string | undefined, what: string): bigint | undefined {
  if (raw === undefined || raw === '') return undefined;
  const v = parseTimetoken(raw);
  if (v === undefined) throw new ParleyError('INVALID_TIMETOKEN', `${what} must be a timetoken (got "${raw.slice(0, 40)}")`);
  return v;
}

export function queryTimetoken(query: ReadonlyMap<string, string>, key: string): bigint | undefined {
  return timetokenValue(query.get(key), key);
}

/**
 * Parses JSON text that must be an object (meta, state); undefined when absent, empty or JSON `null`
 * (the Python SDK's send_file sends `meta=null` when the app gives none; PubNub treats it as no meta).
 */
export function queryJsonObject(query: ReadonlyMap<string, string>, key: string): Record<string, unknown> | undefined {
  const v = query.get(key);
  if (v === undefined || v === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new ParleyError('INVALID_JSON', `${key} is not valid JSON`);
  }
  if (parsed === null) return undefined;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ParleyError('INVALID_PARAM', `${key} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** The headers every JSON answer carries after Content-Type and Content-Length (CORS is part of the protocol, §1.3). */
export const ANSWER_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Access-Control-Allow-Origin', '*'],
  ['Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE, OPTIONS'],
  ['Access-Control-Allow-Headers', '*'],
  ['Cache-Control', 'no-cache'],
];

/**
 * A response that writes a whole answer at once with the bytes node:http would send for writeHead
 * (Content-Type, Content-Length, then `headers`) and end(body): the subscribe lane's (lane.ts).
 */
export interface WholeAnswerResponse {
  sendWhole(status: number, contentType: string, body: string | Buffer, headers: ReadonlyArray<readonly [string, string]>): void;
}

/** Writes a whole JSON answer; `body` may be bytes already encoded (and shared between answers: it is not modified). */
export function sendJson(res: ServerResponse, status: number, body: string | Buffer, contentType = 'application/json; charset=UTF-8'): void {
  if (res.headersSent || res.destroyed) return;
  const whole = (res as Partial<WholeAnswerResponse>).sendWhole;
  if (whole !== undefined) {
    whole.call(res, status, contentType, body, ANSWER_HEADERS);
    return;
  }
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
  };
  for (const [name, value] of ANSWER_HEADERS) headers[name] = value;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * An already-settled promise a handler may return when it finished synchronously: the server then
 * skips awaiting it (no promise, reaction or microtask per request). Shared, never rejected.
 */
export const DONE: Promise<void> = Promise.resolve();

/** Publish-family answers are `text/javascript` in PubNub's service; the SDK accepts either. */
export const JS_CONTENT_TYPE = 'text/javascript; charset="UTF-8"';
