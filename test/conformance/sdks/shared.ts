/**
 * Small builders the SDK records share. They only shorten the records; every fact (path, query,
 * body, source lines) stays written out in the SDK's own module.
 */
import assert from 'node:assert/strict';
import { VALUELESS, type Case, type Context, type Method, type RecordedBody, type Reply } from '../types.ts';
import { TIMETOKEN, ok, okObject, published } from '../expect.ts';

export type Pairs = ReadonlyArray<readonly [string, string]>;

/** Query pairs from `name=value&…` (wire text; `{x}` templates allowed). A name without `=` is valueless. */
export function qs(text: string): Pairs {
  if (text === '') return [];
  return text.split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? ([part, VALUELESS] as const) : ([part.slice(0, eq), part.slice(eq + 1)] as const);
  });
}

export function req(method: Method, path: string, query = '', extra: { headers?: Record<string, string>; body?: RecordedBody } = {}): Case['request'] {
  return { method, path, query: qs(query), ...extra };
}

export const json = (text: string): RecordedBody => ({ kind: 'text', text });

/** Saves the publish timetoken under `key`. */
export function savePublish(key: string) {
  return (reply: Reply, ctx: Context): void => {
    ctx[key] = published(reply);
  };
}

/** Saves id, name, upload path and form fields from a generate-upload-url answer. */
export function saveUpload(reply: Reply, ctx: Context): void {
  const body = reply.json;
  ctx.fileId = body.data.id;
  ctx.fileName = body.data.name;
  ctx.uploadPath = new URL(body.file_upload_request.url).pathname;
  ctx.uploadFields = JSON.stringify(body.file_upload_request.form_fields);
}

/** What every SDK reads from generate-upload-url (Python, Kotlin, Swift, Go, C#, Dart, Ruby, JS). */
export function uploadTicket(reply: Reply): void {
  const body = okObject(reply);
  assert.equal(typeof body.data?.id, 'string');
  assert.equal(typeof body.data?.name, 'string');
  const r = body.file_upload_request;
  assert.equal(typeof r?.url, 'string');
  assert.equal(r.method, 'POST');
  assert.equal(typeof r.expiration_date, 'string');
  assert.ok(Array.isArray(r.form_fields));
  for (const f of r.form_fields) {
    assert.equal(typeof f.key, 'string');
    assert.equal(typeof f.value, 'string');
  }
}

/** A list answer `{status, data: [...]}` (App Context, files) with the optional paging fields typed. */
export function list(reply: Reply): any[] {
  const body = okObject(reply);
  assert.ok(Array.isArray(body.data), 'data is an array');
  if ('totalCount' in body) assert.equal(typeof body.totalCount, 'number');
  if ('next' in body) assert.equal(typeof body.next, 'string');
  if ('prev' in body) assert.equal(typeof body.prev, 'string');
  return body.data;
}

/** `{status, data: {id, …}}` of one App Context object. */
export function objectData(reply: Reply, id: string): any {
  const body = okObject(reply);
  assert.equal(body.data?.id, id);
  assert.equal(typeof body.data.updated, 'string');
  assert.equal(typeof body.data.eTag, 'string');
  return body.data;
}

/** fetch v3 `{status, error, error_message, channels: {ch: [{message, timetoken (string)…}]}}`. */
export function fetched(reply: Reply, channel: string): any[] {
  const body = ok(reply);
  assert.equal(typeof body.channels, 'object');
  const items = body.channels[channel];
  assert.ok(Array.isArray(items) && items.length > 0, `messages of ${channel}`);
  for (const m of items) {
    assert.ok('message' in m);
    assert.equal(typeof m.timetoken, 'string');
    assert.match(m.timetoken, TIMETOKEN);
  }
  return items;
}

/** The data of a message action: every field Python, Kotlin, Swift, Go, C# and JS read. */
export function actionData(a: any): void {
  assert.equal(typeof a.type, 'string');
  assert.equal(typeof a.value, 'string');
  assert.equal(typeof a.uuid, 'string');
  assert.match(String(a.actionTimetoken), TIMETOKEN);
  assert.match(String(a.messageTimetoken), TIMETOKEN);
}

/** A grant-token answer: `data.token` (every SDK). */
export function grantedToken(reply: Reply): string {
  const body = okObject(reply);
  assert.equal(typeof body.data?.token, 'string');
  return body.data.token;
}

/**
 * The Access Manager denial as every parser reads it (wire-protocol.md §1.5): HTTP 403 with a JSON
 * type; `status`, `error`, `message`, `service` (JS takes statusCode from `status` only when all four
 * are there); `payload.channels` an array of strings (Kotlin reads it, Swift fails on anything else).
 */
export function deniedCase(source: string, request: Case['request']): Case {
  return {
    feature: 'access denied (403 body)',
    source,
    request,
    runs: 'signed',
    unsigned: true,
    expect: (r, ctx) => {
      assert.equal(r.status, 403, r.text.slice(0, 200));
      assert.match(r.headers['content-type'] ?? '', /json|javascript/);
      const body = r.json;
      assert.equal(body.status, 403);
      assert.equal(body.error, true);
      assert.equal(typeof body.message, 'string');
      assert.equal(typeof body.service, 'string');
      assert.ok(Array.isArray(body.payload?.channels) && body.payload.channels.every((c: unknown) => typeof c === 'string'));
      assert.ok(body.payload.channels.includes(ctx.ch));
      // Swift GenericServicePayloadResponse.swift L281-284: payload (and a top-level channels) decode as [String: [String]].
      for (const v of Object.values(body.payload)) assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), 'payload values are arrays of strings');
      if ('channels' in body) for (const v of Object.values(body.channels)) assert.ok(Array.isArray(v));
    },
  };
}

/** The presence routes under `sub_key` (underscore): one gap, several SDKs. */
export const SUB_KEY_GAP =
  'route /v2/presence/sub_key/… (underscore) is not routed; Kotlin and Go send here_now there, C# every presence call, Dart heartbeat/leave/here_now, Ruby get state';

/** /v2/publish takes bodies up to 2 MiB on PubNub; the SDKs switch to it above 32 KiB. */
export const V2_PUBLISH_GAP =
  'POST /v2/publish with a body over 32 KiB: PubNub accepts up to 2 MiB there; Parley holds every message to limits.maxMessageBytes (32 KiB by default, up to 1 MiB by configuration), deliberately: every stored and buffered message costs memory on every node';

/** Strict base64 decoders need PubNub's padded form; with three token lengths one parses by chance. */
export const PADDING_GAP = 'token padding (issue 10 item 1): Parley issues unpadded tokens; a strict base64 decoder refuses two lengths in three';
