/**
 * How each SDK's parseToken reads a v3 token, as forms (docs/compat.md "token decoding"): which
 * base64 alphabet and padding rule it applies, then which CBOR shape it requires. A grant-token case
 * runs its SDK's form on `data.token`, so a token Parley issues is one that SDK can parse.
 */
import assert from 'node:assert/strict';
import { Decoder } from 'cbor-x';

const cbor = new Decoder({ mapsAsObjects: false, useRecords: false });

/** url-safe → standard alphabet, as Python, Swift and C# do before decoding. */
const toStandard = (token: string): string => token.replace(/-/g, '+').replace(/_/g, '/');

/**
 * A strict standard-base64 decoder (Python base64.b64decode, Swift Data(base64Encoded:), C#
 * Convert.FromBase64String): the length must be a multiple of 4, padding included.
 */
export function strictBase64(text: string): Buffer {
  assert.match(text, /^[A-Za-z0-9+/]*={0,2}$/, 'standard base64 alphabet');
  assert.equal(text.length % 4, 0, `a padded length (got ${text.length}, length mod 4 = ${text.length % 4}): strict decoders refuse it`);
  return Buffer.from(text, 'base64');
}

/** Decoders that add the missing padding themselves (JS, Kotlin, Go, Dart, Ruby urlsafe_decode64). */
export function lenientBase64(token: string): Buffer {
  const std = toStandard(token).replace(/=+$/, '');
  return Buffer.from(std + '='.repeat((4 - (std.length % 4)) % 4), 'base64');
}

/** The CBOR map with keys turned into strings, remembering which keys were byte strings. */
export interface DecodedMap {
  readonly entries: Map<string, unknown>;
  readonly byteKeys: Set<string>;
}

export function decodeMap(value: unknown, what: string): DecodedMap {
  assert.ok(value instanceof Map, `${what} is a CBOR map`);
  const entries = new Map<string, unknown>();
  const byteKeys = new Set<string>();
  for (const [k, v] of value as Map<unknown, unknown>) {
    if (typeof k === 'string') entries.set(k, v);
    else if (k instanceof Uint8Array) {
      const name = Buffer.from(k).toString('utf8');
      entries.set(name, v);
      byteKeys.add(name);
    } else assert.fail(`${what}: a key that is neither a text nor a byte string`);
  }
  return { entries, byteKeys };
}

export function decodeToken(bytes: Buffer): DecodedMap {
  return decodeMap(cbor.decode(bytes), 'token');
}

/** Python managers.py parse_token L400-447: strict b64decode, then v t ttl res pat meta read unguarded. */
export function pythonParse(token: string): DecodedMap {
  const top = decodeToken(strictBase64(toStandard(token)));
  for (const key of ['v', 't', 'ttl', 'res', 'pat', 'meta']) assert.ok(top.entries.has(key), `Python reads token["${key}"]`);
  return top;
}

/** Swift PAMToken.swift L44-57 + Codable: strict Data(base64Encoded:), every key and the res/pat maps required. */
export function swiftParse(token: string): DecodedMap {
  const top = decodeToken(strictBase64(toStandard(decodeURIComponent(token))));
  for (const key of ['v', 't', 'ttl', 'res', 'pat', 'meta', 'sig']) assert.ok(top.entries.has(key), `Swift decodes "${key}"`);
  for (const section of ['res', 'pat']) {
    const m = decodeMap(top.entries.get(section), section);
    for (const kind of ['chan', 'grp', 'uuid']) assert.ok(m.entries.has(kind), `Swift PAMTokenResource needs ${section}.${kind}`);
  }
  return top;
}

/** C# TokenManager.cs L58-70: strict Convert.FromBase64String; `sig` read as a byte string. */
export function csharpParse(token: string): DecodedMap {
  const top = decodeToken(strictBase64(toStandard(token)));
  assert.ok(top.entries.get('sig') instanceof Uint8Array, 'C# reads sig as bytes');
  return top;
}

/** Kotlin TokenParser.kt: url-safe decode (padding optional); `uuid` a text string; maps at most 3 deep. */
export function kotlinParse(token: string): DecodedMap {
  const top = decodeToken(lenientBase64(token));
  for (const key of ['v', 't', 'ttl', 'res', 'pat']) assert.ok(top.entries.has(key), `Kotlin needs "${key}"`);
  if (top.entries.has('uuid')) assert.equal(typeof top.entries.get('uuid'), 'string', 'Kotlin reads uuid as text');
  return top;
}

/** Dart cbor.dart L5-30: re-pads, then casts top-level keys to byte lists. */
export function dartParse(token: string): DecodedMap {
  const top = decodeToken(lenientBase64(token));
  for (const key of top.entries.keys()) assert.ok(top.byteKeys.has(key), `Dart casts top-level key "${key}" to a byte list`);
  return top;
}

/** JS, Go (grant_common.go L181-199, re-pads) and Ruby (urlsafe_decode64): res/pat chan and grp maps. */
export function lenientParse(token: string): DecodedMap {
  const top = decodeToken(lenientBase64(token));
  for (const section of ['res', 'pat']) {
    const m = decodeMap(top.entries.get(section), section);
    for (const kind of ['chan', 'grp']) assert.ok(m.entries.has(kind), `${section}.${kind}`);
  }
  return top;
}
