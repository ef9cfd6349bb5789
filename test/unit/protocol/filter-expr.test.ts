import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/protocol/filter-expr.ts';
import { createEnvelope } from '../../../src/realtime/envelope.ts';

const env = (publisher: string, meta: object | null, payload: unknown = {}) =>
  createEnvelope({ subscribeKey: 's', channel: 'ch', timetoken: 1n, publisher, payload: JSON.stringify(payload), meta: meta ? JSON.stringify(meta) : null, customMessageType: null, type: 0, stored: true }, 1);

test('filter expressions select on uuid, meta and payload', () => {
  const notMe = compileFilter("uuid != 'sub-user'");
  assert.equal(notMe(env('sub-user', null)), false);
  assert.equal(notMe(env('other', null)), true);
  const prio = compileFilter("priority > 3 && (region == 'eu' || meta.vip == 'true')");
  assert.equal(prio(env('a', { priority: 5, region: 'eu' })), true);
  assert.equal(prio(env('a', { priority: 5, region: 'us' })), false);
  assert.equal(prio(env('a', { priority: 5, region: 'us', vip: 'true' })), true);
  assert.equal(prio(env('a', { priority: 2, region: 'eu' })), false);
  assert.equal(compileFilter("name LIKE 'ad*'")(env('a', { name: 'Ada' })), true);
  assert.equal(compileFilter("tags CONTAINS 'x'")(env('a', { tags: ['y', 'x'] })), true);
  assert.equal(compileFilter("data.kind == 'chat'")(env('a', null, { kind: 'chat' })), true);
  assert.equal(compileFilter("!(uuid == 'a')")(env('a', null)), false);
});

test('malformed expressions are INVALID_PARAM', () => {
  for (const bad of ["uuid == ", "(a == 'b'", "'unterminated", 'a == b )', '#', 'x'.repeat(2000)]) {
    assert.throws(() => compileFilter(bad), { code: 'INVALID_PARAM' }, bad.slice(0, 20));
  }
});
