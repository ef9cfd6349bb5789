import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrantTokenBody, type GrantBodyResult } from '../../../src/access/token/grant-body.ts';

/** The body exactly as the SDK serialises it (wire-protocol.md §8.1, captured). */
const SDK_BODY = {
  ttl: 15,
  permissions: {
    uuid: 'user-1',
    resources: { channels: { ch1: 3 }, groups: { cg1: 1 }, uuids: { 'user-1': 96 }, users: {}, spaces: {} },
    patterns: { channels: { '^chat-.*$': 1 }, groups: {}, uuids: {}, users: {}, spaces: {} },
    meta: { role: 'tester' },
  },
};

function issues(result: GrantBodyResult): Array<{ message: string; location: string }> {
  assert.equal(result.ok, false);
  return result.ok ? [] : result.details;
}

function withPermissions(patch: Record<string, unknown>, ttl: unknown = 15): Record<string, unknown> {
  return { ttl, permissions: { ...SDK_BODY.permissions, ...patch } };
}

test('the SDK body parses into maps, uuid and meta', () => {
  const result = parseGrantTokenBody(SDK_BODY);
  assert.ok(result.ok);
  const v = result.value;
  assert.equal(v.ttlMinutes, 15);
  assert.equal(v.authorizedUuid, 'user-1');
  assert.deepEqual([...v.resources.channels], [['ch1', 3]]);
  assert.deepEqual([...v.resources.groups], [['cg1', 1]]);
  assert.deepEqual([...v.resources.uuids], [['user-1', 96]]);
  assert.deepEqual([...v.patterns.channels], [['^chat-.*$', 1]]);
  assert.deepEqual([...v.meta], [['role', 'tester']]);
});

test('users and spaces fold onto uuids and channels as the SDK does', () => {
  const result = parseGrantTokenBody(withPermissions({ resources: { spaces: { sp1: 1 }, users: { us1: 32 }, channels: { sp1: 2 } } }));
  assert.ok(result.ok);
  assert.deepEqual([...result.value.resources.channels], [['sp1', 3]]);
  assert.deepEqual([...result.value.resources.uuids], [['us1', 32]]);
});

test('ttl is required and must be an integer 1..43200', () => {
  const { ttl: _omitted, ...withoutTtl } = withPermissions({});
  assert.deepEqual(issues(parseGrantTokenBody(withoutTtl)), [{ message: 'ttl is required', location: 'ttl' }]);
  for (const ttl of [0, 43201, 1.5, '15', null, -1]) {
    const found = issues(parseGrantTokenBody(withPermissions({}, ttl)));
    assert.equal(found[0].location, 'ttl', String(ttl));
  }
  const bad = parseGrantTokenBody(withPermissions({}, 0));
  assert.ok(!bad.ok && bad.message === 'Invalid ttl');
  assert.ok(parseGrantTokenBody(withPermissions({}, 1)).ok);
  assert.ok(parseGrantTokenBody(withPermissions({}, 43200)).ok);
});

test('at least one non-empty resource or pattern map', () => {
  const found = issues(parseGrantTokenBody({ ttl: 5, permissions: { resources: { channels: {} }, patterns: {}, meta: {} } }));
  assert.deepEqual(found, [{ message: 'at least one resource or pattern permission is required', location: 'permissions' }]);
  assert.equal(issues(parseGrantTokenBody({ ttl: 5 }))[0].location, 'permissions');
});

test('permission values are integers 0..255; names non-empty; every problem listed with its path', () => {
  const found = issues(
    parseGrantTokenBody(withPermissions({ resources: { channels: { ok: 1, big: 256, neg: -1, '': 1, frac: 0.5 }, gadgets: {} }, patterns: {} }, 0)),
  );
  const locations = found.map((i) => i.location);
  assert.deepEqual(locations, [
    'ttl',
    'permissions.resources.channels["big"]',
    'permissions.resources.channels["neg"]',
    'permissions.resources.channels[""]',
    'permissions.resources.channels["frac"]',
    'permissions.resources.gadgets',
  ]);
});

test('patterns must compile and be safe', () => {
  const found = issues(parseGrantTokenBody(withPermissions({ patterns: { channels: { '(a+)+$': 1, '(': 1, 'ok-.*': 1 } } })));
  assert.deepEqual(
    found.map((i) => i.location),
    ['permissions.patterns.channels["(a+)+$"]', 'permissions.patterns.channels["("]'],
  );
  assert.match(found[0].message, /nested quantifiers/);
});

test('meta holds scalars only; authorized uuid is a non-empty string', () => {
  const found = issues(parseGrantTokenBody(withPermissions({ meta: { ok: 1, s: 'x', b: true, n: null, obj: { a: 1 }, arr: [1] }, uuid: '' })));
  assert.deepEqual(
    found.map((i) => i.location),
    ['permissions.uuid', 'permissions.meta["obj"]', 'permissions.meta["arr"]'],
  );
  assert.equal(issues(parseGrantTokenBody(withPermissions({ meta: 'x' })))[0].location, 'permissions.meta');
});

test('not an object at all', () => {
  for (const body of [null, 'x', [1], 3]) assert.equal(issues(parseGrantTokenBody(body))[0].location, 'body');
});

test('a __proto__ resource or meta key is data, not a prototype', () => {
  const body = JSON.parse('{"ttl":5,"permissions":{"resources":{"channels":{"__proto__":3}},"meta":{"__proto__":"x"}}}');
  const result = parseGrantTokenBody(body);
  assert.ok(result.ok);
  assert.deepEqual([...result.value.resources.channels], [['__proto__', 3]]);
  assert.deepEqual([...result.value.meta], [['__proto__', 'x']]);
});

test("one token's patterns of a kind share a cost budget (RE2 instructions), refused at grant time with the kind named", () => {
  const heavy = (i: number) => `^p${i}${'a{0,30}'.repeat(6)}$`;
  const channels = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [heavy(i), 1]));
  const result = parseGrantTokenBody({ ttl: 5, permissions: { patterns: { channels } } });
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.equal(result.details.length, 1);
    assert.equal(result.details[0].location, 'permissions.patterns.channels');
    assert.match(result.details[0].message, /RE2 instructions together, more than 2000/);
  }
  // Five of them fit.
  const five = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [heavy(i), 1]));
  assert.equal(parseGrantTokenBody({ ttl: 5, permissions: { patterns: { channels: five } } }).ok, true);
});
