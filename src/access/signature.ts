/**
 * v2 request signature (wire-protocol.md §9): the signer mirrors the SDK's RequestSignature
 * (transport/middleware.ts); the verifier rebuilds the canonical query from the request's one parse
 * (protocol/query.ts), never from a second reading of the raw query.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';

/** Default accepted clock skew between the signer's `timestamp` and server time (§9 step 4). */
export const DEFAULT_SIGNATURE_WINDOW_SEC = 60;

/** The SDK's encodeString (§1.1): encodeURIComponent plus `! ~ * ' ( )`. */
export function encodeString(value: string): string {
  return encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** §9 step 2: `/publish…` is signed as GET even when sent as POST. */
export function signingMethod(method: string, path: string): string {
  return path.startsWith('/publish') ? 'GET' : method.toUpperCase();
}

/** Whether a v2 signature over this request includes its body (§9 step 4: POST and PATCH, not publish). */
export function signatureCoversBody(method: string, path: string): boolean {
  const m = signingMethod(method, path);
  return m === 'POST' || m === 'PATCH';
}

export interface SignatureInput {
  method: string;
  publishKey: string;
  path: string;
  canonicalQuery: string;
  body: string;
}

/** §9 step 4; the body only for POST/PATCH (which excludes publish, signed as GET). */
export function stringToSign(input: SignatureInput): string {
  const method = signingMethod(input.method, input.path);
  const head = `${method}\n${input.publishKey}\n${input.path}\n${input.canonicalQuery}\n`;
  return method === 'POST' || method === 'PATCH' ? head + input.body : head;
}

/** HMAC-SHA256, base64 → `v2.` + base64url without padding (§9 steps 5–6). */
export function computeSignature(secretKey: string, signed: string): string {
  return `v2.${createHmac('sha256', secretKey).update(signed, 'utf8').digest('base64url')}`;
}

/**
 * Canonical query as the SDK builds it from an object (used by clients and tests): keys sorted,
 * values encoded with encodeString, array values sorted and repeated, `signature` left out.
 */
export function canonicalQueryFromParams(params: Readonly<Record<string, string | number | readonly string[]>>): string {
  return Object.keys(params)
    .filter((key) => key !== 'signature')
    .sort()
    .map((key) => {
      const value = params[key];
      if (!Array.isArray(value)) return `${key}=${encodeString(String(value))}`;
      return [...(value as readonly string[])]
        .sort()
        .map((v) => `${key}=${encodeString(v)}`)
        .join('&');
    })
    .join('&');
}

/** Signs a request exactly as the SDK would; returns the `signature` parameter value. */
export function signRequest(
  keys: { publishKey: string; secretKey: string },
  request: { method: string; path: string; params: Readonly<Record<string, string | number | readonly string[]>>; body?: string },
): string {
  const canonicalQuery = canonicalQueryFromParams(request.params);
  return computeSignature(
    keys.secretKey,
    stringToSign({ method: request.method, publishKey: keys.publishKey, path: request.path, canonicalQuery, body: request.body ?? '' }),
  );
}

/** One decoded query parameter, as protocol/query.ts parses it (the one parse every reader shares). */
export interface SignedPair {
  readonly name: string;
  readonly value: string;
}

export interface ParsedSignedQuery {
  /** Canonical query rebuilt from the parsed pairs, `signature` dropped. */
  canonicalQuery: string;
  /** The `signature` value; undefined when the parameter is absent. */
  signature: string | undefined;
  /** The `timestamp` value ('' when absent). */
  timestamp: string;
}

/**
 * §9 server-side steps 1–3, over the request's parsed pairs: the same decoded names and values the
 * handlers read, so what verifies is exactly what is applied. Each value is re-encoded with
 * encodeString, so other clients' encoders (which may leave `!` or `*` unescaped) still verify.
 * Repeated names (only MULTI_VALUED ones get this far) keep every value, sorted by value, as the SDK
 * does for array values.
 */
export function canonicalQueryOf(pairs: readonly SignedPair[]): ParsedSignedQuery {
  const kept: SignedPair[] = [];
  let signature: string | undefined;
  let timestamp = '';
  for (const pair of pairs) {
    if (pair.name === 'signature') {
      signature = pair.value;
      continue;
    }
    if (pair.name === 'timestamp') timestamp = pair.value;
    kept.push(pair);
  }
  // Plain code-unit order, as JS sort() on keys; values only break ties between repeated keys.
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  let canonicalQuery = '';
  for (let i = 0; i < kept.length; i++) {
    if (i > 0) canonicalQuery += '&';
    canonicalQuery += `${kept[i].name}=${encodeString(kept[i].value)}`;
  }
  return { canonicalQuery, signature, timestamp };
}

export interface SignedRequest {
  method: string;
  path: string;
  /** The request's parsed query (protocol/query.ts). */
  query: { readonly pairs: readonly SignedPair[] };
  body: string;
}

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; code: Extract<ErrorCode, 'SIGNATURE_MISSING' | 'SIGNATURE_MISMATCH' | 'SIGNATURE_EXPIRED'>; reason: string };

/**
 * Verifies a signed request against one keyset. The HMAC is checked first, so only a holder of
 * the secret ever learns that the timestamp was the problem (a clock-skew hint, not an oracle).
 */
export function verifyRequestSignature(
  request: SignedRequest,
  keys: { publishKey: string; secretKey: string },
  nowMs: number,
  windowSec: number = DEFAULT_SIGNATURE_WINDOW_SEC,
): SignatureVerdict {
  const parsed = canonicalQueryOf(request.query.pairs);
  if (parsed.signature === undefined) return { ok: false, code: 'SIGNATURE_MISSING', reason: 'no signature parameter' };
  const expected = computeSignature(
    keys.secretKey,
    stringToSign({
      method: request.method,
      publishKey: keys.publishKey,
      path: request.path,
      canonicalQuery: parsed.canonicalQuery,
      body: request.body,
    }),
  );
  if (!constantTimeEqual(expected, parsed.signature)) {
    return { ok: false, code: 'SIGNATURE_MISMATCH', reason: 'signature does not match' };
  }
  if (!/^\d{1,12}$/.test(parsed.timestamp)) {
    return { ok: false, code: 'SIGNATURE_EXPIRED', reason: 'timestamp missing or not a number of seconds' };
  }
  const skewSec = Math.abs(nowMs / 1000 - Number(parsed.timestamp));
  if (skewSec > windowSec) {
    return { ok: false, code: 'SIGNATURE_EXPIRED', reason: `timestamp is ${Math.round(skewSec)} s from server time (window ${windowSec} s)` };
  }
  return { ok: true };
}

/** timingSafeEqual needs equal lengths; a length difference reveals nothing secret. */
function constantTimeEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
