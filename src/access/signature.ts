/**
 * v2 request signature (wire-protocol.md §9): the signer mirrors the SDK's RequestSignature
 * (transport/middleware.ts); the verifier rebuilds the canonical query from the request's one parse
 * (protocol/query.ts), never from a second reading of the raw query.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';
import { acceptedSecrets, type SecretHolder } from './keyset-secrets.ts';

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
  /** The value as sent, still percent-encoded; absent in requests built in code. */
  readonly raw?: string;
}

export interface ParsedSignedQuery {
  /** Canonical query rebuilt from the parsed pairs (the SDK's encodeString), `signature` dropped. */
  canonicalQuery: string;
  /** The `signature` value; undefined when the parameter is absent. */
  signature: string | undefined;
  /** The `timestamp` value ('' when absent). */
  timestamp: string;
}

/** Plain code-unit order, as JS sort() on keys; values only break ties between repeated keys. */
function byNameThenValue(a: SignedPair, b: SignedPair): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function join(pairs: readonly SignedPair[], encode: (p: SignedPair) => string): string {
  let out = '';
  for (let i = 0; i < pairs.length; i++) out += `${i > 0 ? '&' : ''}${pairs[i].name}=${encode(pairs[i])}`;
  return out;
}

function split(pairs: readonly SignedPair[]): { kept: SignedPair[]; signature: string | undefined; timestamp: string } {
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
  kept.sort(byNameThenValue);
  return { kept, signature, timestamp };
}

/**
 * §9 server-side steps 1–3, over the request's parsed pairs: the same decoded names and values the
 * handlers read, so what verifies is exactly what is applied. Each value is re-encoded with
 * encodeString, so other clients' encoders (which may leave `!` or `*` unescaped) still verify.
 * Repeated names (only MULTI_VALUED ones get this far) keep every value, sorted by value, as the SDK
 * does for array values.
 */
export function canonicalQueryOf(pairs: readonly SignedPair[]): ParsedSignedQuery {
  const { kept, signature, timestamp } = split(pairs);
  return { canonicalQuery: join(kept, (p) => encodeString(p.value)), signature, timestamp };
}

/**
 * Every canonical form an official SDK signs (sdk-differences.md §2), deduplicated: JS, Kotlin,
 * Swift and C# encode with encodeString; Python and Go leave `~` raw; Dart and C# sign the bytes they
 * send. Each is a function of the one parse (or of the bytes that parse came from), so accepting
 * several widens which encoders verify, never what a verified request means.
 */
function canonicalForms(kept: readonly SignedPair[]): string[] {
  const sdk = join(kept, (p) => encodeString(p.value));
  const forms = [sdk];
  const tildeRaw = sdk.includes('%7E') ? join(kept, (p) => encodeString(p.value).replace(/%7E/g, '~')) : sdk;
  if (tildeRaw !== sdk) forms.push(tildeRaw);
  // Ruby signs App Context `sort` values unencoded while sending them encoded (signature.rb).
  if (kept.some((p) => p.name === 'sort')) {
    const rubySort = join(kept, (p) => (p.name === 'sort' ? p.value : encodeString(p.value)));
    if (!forms.includes(rubySort)) forms.push(rubySort);
  }
  if (kept.every((p) => p.raw !== undefined)) {
    const asSent = join(
      [...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.raw as string) < (b.raw as string) ? -1 : 1)),
      (p) => p.raw as string,
    );
    if (!forms.includes(asSent)) forms.push(asSent);
  }
  return forms;
}

export interface SignedRequest {
  method: string;
  path: string;
  /** The request's parsed query (protocol/query.ts). */
  query: { readonly pairs: readonly SignedPair[] };
  body: string;
}

export interface VerifyOptions {
  windowSec?: number;
  /**
   * Accept the older v1 form (`sub\npub\npath\nquery`, no method, no body), which Python, Kotlin and Go
   * send for POST publish. Only on GET requests and POST publish, where a v2 signature would not
   * cover a body either: a v1 signature on any other POST, PATCH or DELETE could be replayed with
   * another body or method. Needs `subscribeKey` in the keys. Default true.
   */
  acceptV1?: boolean;
}

export type SignatureVerdict =
  /** `byPreviousSecret`: the keyset's previous secret verified it, within its rotation window (keyset-secrets.ts). */
  | { ok: true; form: 'v2' | 'v1'; byPreviousSecret?: true }
  | { ok: false; code: Extract<ErrorCode, 'SIGNATURE_MISSING' | 'SIGNATURE_MISMATCH' | 'SIGNATURE_EXPIRED'>; reason: string };

/** Whether a v1 signature may stand for this request (VerifyOptions.acceptV1). */
export function v1Applies(method: string, path: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || (m === 'POST' && path.startsWith('/publish/'));
}

/**
 * Verifies a signed request against one keyset. The HMAC is checked first, so only a holder of
 * the secret ever learns that the timestamp was the problem (a clock-skew hint, not an oracle).
 * Every candidate string is an HMAC under the secret key over the method (v2), the path, the
 * parsed query and (v2 POST/PATCH) the body, so a match proves the request was signed as parsed.
 * After a rotation the previous secret is tried too while its window lasts (keyset-secrets.ts):
 * every candidate is computed and compared in constant time, without stopping at a match.
 */
export function verifyRequestSignature(
  request: SignedRequest,
  keys: SecretHolder & { publishKey: string; subscribeKey?: string },
  nowMs: number,
  options: number | VerifyOptions = {},
): SignatureVerdict {
  const { windowSec = DEFAULT_SIGNATURE_WINDOW_SEC, acceptV1 = true } = typeof options === 'number' ? { windowSec: options } : options;
  const { kept, signature, timestamp } = split(request.query.pairs);
  if (signature === undefined) return { ok: false, code: 'SIGNATURE_MISSING', reason: 'no signature parameter' };
  const forms = canonicalForms(kept);
  const secrets = acceptedSecrets(keys, nowMs);
  let form: 'v2' | 'v1' | undefined;
  let secret: 'current' | 'previous' = 'current';
  if (signature.startsWith('v2.')) {
    // JS signs POST publish as GET without the body; Go signs POST fire/publish with its real method and body.
    const methods = [signingMethod(request.method, request.path)];
    if (methods[0] !== request.method.toUpperCase()) methods.push(request.method.toUpperCase());
    // The JS SDK's getFileUrl signs the download URL it hands out with the method `LOCAL`; that URL
    // can only ever be fetched with GET, and the file download is read-only.
    if (request.method.toUpperCase() === 'GET' && request.path.startsWith('/v1/files/')) methods.push('LOCAL');
    for (const method of methods) {
      for (const canonicalQuery of forms) {
        const input = { method, publishKey: keys.publishKey, path: request.path, canonicalQuery, body: request.body };
        const text = methods.length > 1 && method !== methods[0] ? realMethodString(input) : stringToSign(input);
        for (const candidate of secrets) {
          if (constantTimeEqual(computeSignature(candidate.secretKey, text), signature) && form === undefined) {
            form = 'v2';
            secret = candidate.which;
          }
        }
      }
    }
  } else if (acceptV1 && keys.subscribeKey !== undefined && v1Applies(request.method, request.path)) {
    const provided = signature.replace(/=+$/, '');
    for (const canonicalQuery of forms) {
      const text = `${keys.subscribeKey}\n${keys.publishKey}\n${request.path}\n${canonicalQuery}`;
      for (const candidate of secrets) {
        if (constantTimeEqual(createHmac('sha256', candidate.secretKey).update(text, 'utf8').digest('base64url'), provided) && form === undefined) {
          form = 'v1';
          secret = candidate.which;
        }
      }
    }
  }
  if (form === undefined) return { ok: false, code: 'SIGNATURE_MISMATCH', reason: 'signature does not match' };
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, code: 'SIGNATURE_EXPIRED', reason: 'timestamp missing or not a number of seconds' };
  }
  const skewSec = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skewSec > windowSec) {
    return { ok: false, code: 'SIGNATURE_EXPIRED', reason: `timestamp is ${Math.round(skewSec)} s from server time (window ${windowSec} s)` };
  }
  return secret === 'previous' ? { ok: true, form, byPreviousSecret: true } : { ok: true, form };
}

/** A v2 string to sign with the request's real method, body included for POST/PATCH (Go's POST publish). */
function realMethodString(input: SignatureInput): string {
  const head = `${input.method}\n${input.publishKey}\n${input.path}\n${input.canonicalQuery}\n`;
  return input.method === 'POST' || input.method === 'PATCH' ? head + input.body : head;
}

/** timingSafeEqual needs equal lengths; a length difference reveals nothing secret. */
function constantTimeEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
