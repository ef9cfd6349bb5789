/**
 * Assertions shared by the SDK records: each one states what a response parser reads. SDK-specific
 * needs stay in the SDK's own module.
 */
import assert from 'node:assert/strict';
import type { Context, Reply } from './types.ts';

/** A 17-digit timetoken (wire-protocol.md §1.6). */
export const TIMETOKEN = /^\d{17}$/;

export function status(reply: Reply, code: number): void {
  assert.equal(reply.status, code, `HTTP ${reply.status}: ${reply.text.slice(0, 300)}`);
}

/** JS needs `json` or `javascript` in Content-Type on every non-subscribe answer (§0 item 8). */
export function jsonType(reply: Reply): void {
  assert.match(reply.headers['content-type'] ?? '', /json|javascript/, `content-type ${reply.headers['content-type']}`);
}

/** 200 with a JSON body of the given shape. */
export function ok(reply: Reply): any {
  status(reply, 200);
  jsonType(reply);
  assert.notEqual(reply.json, undefined, 'body is JSON');
  return reply.json;
}

/** `[1,"Sent","<tt>"]` with the timetoken as a 17-digit string (JS, Python int(), Kotlin toLong(), Swift). */
export function published(reply: Reply): string {
  const body = ok(reply);
  assert.ok(Array.isArray(body) && body.length === 3, `publish answer ${reply.text}`);
  assert.equal(body[0], 1);
  assert.equal(typeof body[1], 'string');
  assert.equal(typeof body[2], 'string', 'timetoken as a string');
  assert.match(body[2], TIMETOKEN);
  return body[2];
}

/** `{status: 200, …}` objects: Python, Kotlin and Swift read `status` as a number. */
export function okObject(reply: Reply): any {
  const body = ok(reply);
  assert.equal(typeof body, 'object');
  assert.ok(!Array.isArray(body));
  assert.equal(body.status, 200);
  return body;
}

/** Presence/channel-registration answers that Swift decodes with non-optional `message` and `service` strings. */
export function okService(reply: Reply): any {
  const body = okObject(reply);
  assert.equal(typeof body.message, 'string', 'message');
  assert.equal(typeof body.service, 'string', 'service');
  return body;
}

/** The subscribe envelope: `t.t` a string, `t.r` a non-zero integer, `m` an array (Python asserts `r` and `t`). */
export function subscribeEnvelope(reply: Reply): any {
  status(reply, 200);
  const body = reply.json;
  assert.equal(typeof body?.t?.t, 'string', `t.t as a string: ${reply.text.slice(0, 200)}`);
  assert.match(body.t.t, TIMETOKEN);
  assert.ok(Number.isInteger(body.t.r) && body.t.r !== 0, 't.r a non-zero integer');
  assert.ok(Array.isArray(body.m));
  return body;
}

/** Every field of a message envelope that Python (c, d, f, k, p.t, p.r) and Swift (a, f, k, p, c, d) require. */
export function envelopeFields(m: any): void {
  assert.equal(typeof m.a, 'string', 'a');
  assert.equal(typeof m.c, 'string', 'c');
  assert.ok('d' in m, 'd');
  assert.ok(Number.isInteger(m.f), 'f an integer');
  assert.equal(typeof m.k, 'string', 'k');
  assert.equal(typeof m.p?.t, 'string', 'p.t as a string');
  assert.ok(Number.isInteger(m.p?.r), 'p.r an integer');
  assert.notEqual(m.e, 0, 'never e:0');
}

/** A long-poll that found the message published after the handshake. */
export function deliveredAfterHandshake(reply: Reply, ctx: Context): void {
  const body = subscribeEnvelope(reply);
  assert.ok(body.m.length >= 1, 'the message published after the handshake');
  for (const m of body.m) envelopeFields(m);
  assert.ok(BigInt(body.t.t) > BigInt(ctx.subTt), 't.t moved forward');
}

/** The 403 Access Manager body (§1.5): HTTP 403 with error/status/message/service. */
export function denied(reply: Reply): void {
  status(reply, 403);
  jsonType(reply);
  assert.equal(reply.json?.status, 403);
  assert.equal(reply.json?.error, true);
}

/** One less than a timetoken: a `start`/`tt` just before it. */
export function before(tt: string): string {
  return (BigInt(tt) - 1n).toString();
}
