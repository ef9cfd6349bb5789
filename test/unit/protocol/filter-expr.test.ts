import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, MAX_FILTER_EXPR_DEPTH, MAX_FILTER_EXPR_LENGTH, MAX_FILTER_EXPR_TERMS } from '../../../src/protocol/filter-expr.ts';
import { createEnvelope } from '../../../src/realtime/envelope.ts';

const env = (publisher: string, meta: object | null, payload: unknown = {}) =>
  createEnvelope(
    {
      subscribeKey: 's',
      channel: 'ch',
      timetoken: 1n,
      publisher,
      payload: JSON.stringify(payload),
      meta: meta ? JSON.stringify(meta) : null,
      customMessageType: null,
      type: 0,
      stored: true,
    },
    1,
  );

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
  for (const bad of ['uuid == ', "(a == 'b'", "'unterminated", 'a == b )', '#', 'x'.repeat(2000)]) {
    assert.throws(() => compileFilter(bad), { code: 'INVALID_PARAM' }, bad.slice(0, 20));
  }
});

// Issue 9 §3: a filter runs on every message of the subscription; its cost is bounded at compile time.

test('LIKE is linear: the backtracking inputs of issue 9 cost a bounded number of comparisons', () => {
  const value = 'a'.repeat(300);
  for (const pattern of ['*a*a*a*b', '*a*a*a*a*b', '*a*a*a*a*a*a*a*a*a*b']) {
    const meter = { steps: 0 };
    const f = compileFilter(`name LIKE '${pattern}'`, meter);
    assert.equal(f(env('a', { name: value })), false, pattern);
    assert.ok(meter.steps > 0, 'the LIKE comparisons are counted');
    assert.ok(meter.steps <= 2 * value.length + pattern.length, `${pattern}: ${meter.steps} steps`);
    assert.equal(f(env('a', { name: value + 'b' })), true);
  }
  // A pattern read from the message itself is compiled per message, still linear.
  const meter = { steps: 0 };
  const fromMeta = compileFilter('name LIKE meta.pattern', meter);
  assert.equal(fromMeta(env('a', { name: value, pattern: '*a*a*a*a*a*b' })), false);
  assert.ok(meter.steps > 0 && meter.steps <= 2 * value.length + 12);
  assert.equal(fromMeta(env('a', { name: 'Ada', pattern: 'a*' })), true);
  assert.equal(fromMeta(env('a', { name: 'Ada', pattern: 3 })), false, 'only a string is a pattern');
  assert.equal(compileFilter('name LIKE 3')(env('a', { name: '3' })), false);
});

test('LIKE: * spans line breaks, case is ignored, a backslash is an ordinary character', () => {
  assert.equal(compileFilter("text LIKE 'hello*world'")(env('a', { text: 'Hello\nWorld' })), true);
  assert.equal(compileFilter("text LIKE 'a\\*'")(env('a', { text: 'a\\xyz' })), true);
  assert.equal(compileFilter("data.text LIKE '*ÉTÉ*'")(env('a', null, { text: 'un été chaud' })), true);
});

test('filters past a cap are INVALID_PARAM naming the cap', () => {
  const long = 'x'.repeat(MAX_FILTER_EXPR_LENGTH + 1);
  assert.throws(() => compileFilter(long), {
    code: 'INVALID_PARAM',
    message: `filter-expr: longer than ${MAX_FILTER_EXPR_LENGTH} characters (got ${long.length})`,
  });
  // Each `a == 1 ||` adds 4 terms (operand, operator, operand, ||).
  const chain = (n: number) => Array.from({ length: n }, () => 'a==1').join('||');
  assert.doesNotThrow(() => compileFilter(chain(25)), '25 comparisons: 99 terms');
  assert.throws(() => compileFilter(chain(26)), {
    code: 'INVALID_PARAM',
    message: `filter-expr: more than ${MAX_FILTER_EXPR_TERMS} operands and operators (got 103)`,
  });
  const nested = (n: number) => '('.repeat(n) + "a == 'b'" + ')'.repeat(n);
  assert.doesNotThrow(() => compileFilter(nested(MAX_FILTER_EXPR_DEPTH)));
  assert.throws(() => compileFilter(nested(MAX_FILTER_EXPR_DEPTH + 1)), {
    code: 'INVALID_PARAM',
    message: `filter-expr: nested more than ${MAX_FILTER_EXPR_DEPTH} levels deep`,
  });
  assert.throws(() => compileFilter('!'.repeat(MAX_FILTER_EXPR_DEPTH + 1) + 'a'), { code: 'INVALID_PARAM', message: /nested more than/ });
});
