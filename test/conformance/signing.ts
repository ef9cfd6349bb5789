/**
 * The request-signature FORMS of the official SDKs, implemented from the facts recorded in
 * docs/compat.md (not from their code): what string each one signs, how it encodes the query it
 * signs, and how it encodes the HMAC. The runner signs each replayed request in its SDK's own form.
 */
import { createHmac } from 'node:crypto';
import { VALUELESS, type Signer, type SignInput } from './types.ts';

/** JS encodeString (wire-protocol.md §1.1): encodeURIComponent plus `! ~ * ' ( )`. */
export function encodeString(value: string): string {
  return encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Dart's Uri.encodeQueryComponent, then `+` → `%20`: `~` stays raw, `! * ' ( )` are encoded. */
export function dartQueryComponent(value: string): string {
  return encodeURIComponent(value).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A query value as a server decodes it (`+` is a space, as Dart sends it). */
export function decodeWire(value: string): string {
  if (value === VALUELESS) return '';
  return decodeURIComponent(value.replace(/\+/g, '%20'));
}

function hmacBase64(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64');
}

/** `v2.` + url-safe base64 without padding (JS, Python, Kotlin, Go, C#, Dart, Ruby v2). */
function v2Digest(secret: string, text: string): string {
  return `v2.${hmacBase64(secret, text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** v1: url-safe base64 keeping its `=` padding, no prefix (Python, Kotlin, Go for POST /publish; Dart getFileUrl). */
function v1Digest(secret: string, text: string): string {
  return hmacBase64(secret, text).replace(/\+/g, '-').replace(/\//g, '_');
}

type Encoder = (decoded: string) => string;

/** Sorted `name=value` pairs, each value decoded from the wire and re-encoded by the SDK's encoder (or signed as sent). */
function canonical(input: SignInput, encode: Encoder, exclude: ReadonlySet<string> = new Set()): string {
  return input.query
    .filter(([name]) => name !== 'signature' && !exclude.has(name))
    .map(([name, wire]) => [name, input.signsEncoded.has(name) ? wire : encode(decodeWire(wire))] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

const isPostPublish = (i: SignInput) => i.method === 'POST' && i.path.startsWith('/publish');

/**
 * JavaScript (node_modules/pubnub src/transport/middleware.ts RequestSignature): method GET for any
 * path starting `/publish`, else the real one; the body only for POST and PATCH; always a `\n` after
 * the query. Ruby's form is the same string (lib/pubnub/event/signature.rb), with its own raw params.
 */
export const signJavaScript: Signer = (i) => {
  const method = i.path.startsWith('/publish') ? 'GET' : i.method;
  const head = `${method}\n${i.keys.publishKey}\n${i.path}\n${canonical(i, encodeString)}\n`;
  return v2Digest(i.keys.secretKey, method === 'POST' || method === 'PATCH' ? head + i.body : head);
};

/**
 * The v1 form: `sub\npub\npath\nquery` (no method, no body, no trailing newline), padding kept.
 * Python utils.py sign_request, Kotlin PubNubUtil.generateSignature, Go endpoints.go buildURL use it
 * for POST /publish; Go for every request when UsePAMV3 is false.
 */
export function signV1(i: SignInput, encode: Encoder = encodeString): string {
  return v1Digest(i.keys.secretKey, `${i.keys.subscribeKey}\n${i.keys.publishKey}\n${i.path}\n${canonical(i, encode)}`);
}

/**
 * Python (pubnub/utils.py sign_request L190-218): v1 for POST /publish, else v2 with the real method
 * (no GET-for-publish rule needed: GET publish is GET) and the body when there is one.
 */
export const signPython: Signer = (i) => {
  if (isPostPublish(i)) return signV1(i);
  return v2Digest(i.keys.secretKey, `${i.method}\n${i.keys.publishKey}\n${i.path}\n${canonical(i, encodeString)}\n${i.body}`);
};

/**
 * Kotlin (PubNubUtil.kt generateSignature L85-133): v1 for POST /publish; otherwise v2 with the real
 * method, the body text of any request that has one (POST /v2/publish included).
 */
export const signKotlin: Signer = signPython;

/**
 * Go (endpoints.go buildURL L178-194, createSignatureV2 L275-308): v1 for a POST publish; otherwise
 * v2 with the real method and buildBody() (so POST fire, POST signal and POST publish-file sign
 * `POST` and their body, unlike JS).
 */
export const signGo: Signer = signPython;

/**
 * C# (Transport/Middleware.cs L79-96): the query string exactly as sent (the SDK pre-encodes values
 * and sorts by key, ordinal) and the path exactly as sent; GET for a publish that is not /v2/publish;
 * the body when non-empty and not a v1 publish.
 */
export const signCSharp: Signer = (i) => {
  const v1Publish = i.path.startsWith('/publish/');
  const method = v1Publish ? 'GET' : i.method;
  const query = i.query
    .filter(([name]) => name !== 'signature')
    .slice()
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
  const body = i.body !== '' && !v1Publish ? i.body : '';
  return v2Digest(i.keys.secretKey, `${method}\n${i.keys.publishKey}\n${i.path}\n${query}\n${body}`);
};

/**
 * Dart (lib/src/dx/_utils/signature.dart computeV2Signature L30-57, default_flow.dart L55-75): v2 on
 * every request with the real method (POST /publish signs `POST` and its body), the query encoded
 * with Uri.encodeQueryComponent (`~` raw), the path re-encoded from its segments.
 */
export const signDart: Signer = (i) =>
  v2Digest(i.keys.secretKey, `${i.method}\n${i.keys.publishKey}\n${i.path}\n${canonical(i, dartQueryComponent)}\n${i.body}`);

/**
 * Ruby (lib/pubnub/event/signature.rb L9-54): the JS string (GET for publish POST, body for POST and
 * PATCH); `t`, `state` and `filter-expr` are signed as sent (raw), `sort` signed raw while sent
 * encoded (`signsEncoded` names the raw-as-sent ones; `sort` is handled here).
 */
export const signRuby: Signer = (i) => {
  const method = isPostPublish(i) ? 'GET' : i.method;
  const raw = new Set(['t', 'state', 'filter-expr', ...i.signsEncoded]);
  const query = i.query
    .filter(([name]) => name !== 'signature')
    .map(([name, wire]) => [name, raw.has(name) ? wire : name === 'sort' ? decodeWire(wire) : encodeString(decodeWire(wire))] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
  const head = `${method}\n${i.keys.publishKey}\n${i.path}\n${query}\n`;
  return v2Digest(i.keys.secretKey, method === 'POST' || method === 'PATCH' ? head + i.body : head);
};

/** JS getFileUrl (core/pubnub-common.ts L4403-4420): the middleware signs the LOCAL request: method `LOCAL`. */
export const signJavaScriptFileUrl: Signer = (i) => v2Digest(i.keys.secretKey, `LOCAL\n${i.keys.publishKey}\n${i.path}\n${canonical(i, encodeString)}\n`);

/** Dart getFileUrl (lib/src/dx/files/files.dart L344-379): v1 over the unencoded path segments. */
export function signDartFileUrl(i: SignInput, rawPath: string): string {
  return v1Digest(i.keys.secretKey, `${i.keys.subscribeKey}\n${i.keys.publishKey}\n${rawPath}\n${canonical(i, dartQueryComponent)}`);
}
