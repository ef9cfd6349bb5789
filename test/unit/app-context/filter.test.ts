import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, compileListFilter, MAX_FILTER_LENGTH, MAX_FILTER_TERMS } from '../../../src/app-context/filter.ts';

const alice = {
  id: 'alice',
  name: 'Alice Smith',
  status: 'active',
  type: null,
  updated: '2024-05-01T10:00:00.000Z',
  custom: { role: 'admin', level: 3, vip: true },
};
const bob = {
  id: 'bob',
  name: "Bob O'Neil *star*",
  status: 'away',
  type: 'bot',
  updated: '2023-01-01T00:00:00.000Z',
  custom: { role: 'member', level: 1, vip: false },
};
const carl = { id: 'carl', name: null, status: null, type: null, updated: '2022-01-01T00:00:00.000Z', custom: null };
const all = [alice, bob, carl];

function ids(filter: string): string[] {
  const p = compileFilter(filter);
  return all.filter((r) => p(r)).map((r) => r.id);
}

test('comparisons on fields, custom fields and ISO times', () => {
  assert.deepEqual(ids("id == 'alice'"), ['alice']);
  assert.deepEqual(ids('id != "alice"'), ['bob', 'carl']);
  assert.deepEqual(ids("custom.role == 'admin'"), ['alice']);
  assert.deepEqual(ids('custom.level >= 1 && custom.level < 3'), ['bob']);
  assert.deepEqual(ids('custom.vip == true'), ['alice']);
  assert.deepEqual(ids("updated > '2023-06-01T00:00:00Z'"), ['alice']);
  assert.deepEqual(ids('type == null'), ['alice', 'carl'], 'null matches missing and null values');
  assert.deepEqual(ids('custom.missing == null'), ['alice', 'bob', 'carl']);
  assert.deepEqual(ids("custom.level > '2'"), [], 'a number never orders against a string');
});

test('LIKE: * wildcards, escaped \\*, any case, strings only', () => {
  assert.deepEqual(ids("name LIKE 'al*'"), ['alice']);
  assert.deepEqual(ids("name LIKE '*smith'"), ['alice']);
  assert.deepEqual(ids("name LIKE '*\\*star\\**'"), ['bob']);
  assert.deepEqual(ids("name LIKE 'bob o\\'neil*'"), ['bob']);
  assert.deepEqual(ids("name LIKE '*'"), ['alice', 'bob'], 'null is not a string');
  assert.deepEqual(ids("name like 'a.*'"), [], 'regex characters are literal');
});

test('! binds tightest, then &&, then ||; parentheses group', () => {
  assert.deepEqual(ids("id == 'carl' || id == 'alice' && status == 'away'"), ['carl']);
  assert.deepEqual(ids("(id == 'carl' || id == 'alice') && status == 'active'"), ['alice']);
  assert.deepEqual(ids("!(id == 'alice') && !id == 'carl'"), ['bob']);
  assert.deepEqual(ids(''), ['alice', 'bob', 'carl']);
});

test('malformed filters are INVALID_PARAM', () => {
  for (const bad of [
    'name ==',
    "name 'x'",
    "(id == 'a'",
    "id == 'a')",
    "id == 'unterminated",
    'id ~= 1',
    "&& id == 'a'",
    'name LIKE 3',
    'name < true',
    '('.repeat(100) + "id == 'a'" + ')'.repeat(100),
  ]) {
    assert.throws(() => compileFilter(bad), { code: 'INVALID_PARAM' }, bad);
  }
});

// Issue 9 §3: one list call with `name LIKE "*a*a*a*a*b"` and one 140-character name blocked the node.

test('LIKE is linear: the backtracking input of issue 9 costs a bounded number of comparisons', () => {
  for (const length of [140, 300, 10_000]) {
    const user = { id: 'u', name: 'a'.repeat(length) };
    const meter = { steps: 0 };
    const p = compileFilter('name LIKE "*a*a*a*a*b"', meter);
    assert.equal(p(user), false);
    assert.ok(meter.steps > 0, 'the LIKE comparisons are counted');
    assert.ok(meter.steps <= 2 * length + 10, `${length}: ${meter.steps} steps`);
    assert.equal(p({ ...user, name: user.name + 'B' }), true);
  }
});

test('filters past a cap are INVALID_PARAM naming the cap', () => {
  const long = 'x'.repeat(MAX_FILTER_LENGTH + 1);
  assert.throws(() => compileFilter(long), { code: 'INVALID_PARAM', message: `filter: longer than ${MAX_FILTER_LENGTH} characters (got ${long.length})` });
  // The Chat SDK joins a page of memberships with ||: 100 comparisons, 99 operators.
  const page = Array.from({ length: 100 }, (_, i) => `channel.id == 'c${i}'`).join(' || ');
  assert.deepEqual(ids(`id == 'bob' || ${page}`), ['bob']);
  const chain = (n: number) => Array.from({ length: n }, () => 'id==1').join('||');
  assert.doesNotThrow(() => compileFilter(chain(MAX_FILTER_TERMS / 2)), 'n comparisons and n - 1 operators');
  assert.throws(() => compileFilter(chain(MAX_FILTER_TERMS / 2 + 1)), {
    code: 'INVALID_PARAM',
    message: new RegExp(`^filter: more than ${MAX_FILTER_TERMS} comparisons and logical operators \\(at \\d+\\)$`),
  });
});

test('keyValues: the exact values a filter allows, per path', () => {
  const keys = (f: string) => Object.fromEntries([...compileListFilter(f).keyValues].map(([path, values]) => [path, [...values].sort()]));
  assert.deepEqual(keys("id == 'a'"), { id: ['a'] });
  assert.deepEqual(keys("id == 'a' || id == 'b' || (id == 'c')"), { id: ['a', 'b', 'c'] }, 'the Chat SDK joins a page of ids with ||');
  assert.deepEqual(keys("channel.id == 'c' && status == 'on'"), { 'channel.id': ['c'], status: ['on'] }, "&& keeps every conjunct's");
  assert.deepEqual(keys("space.id == 'c'"), { 'channel.id': ['c'] }, 'space is channel');
  assert.deepEqual(keys("(id == 'a' || id == 'b') && id == 'b'"), { id: ['b'] }, 'intersected on a shared path');
  assert.deepEqual(keys("id == 'a' && id == 'b'"), { id: [] }, 'nothing can match');
  assert.deepEqual(keys("id == 'a' || name == 'x'"), {}, '|| needs every side to constrain the path');
  assert.deepEqual(keys("!(id == 'a')"), {});
  assert.deepEqual(keys("id != 'a'"), {});
  assert.deepEqual(keys("id LIKE 'a*'"), {});
  assert.deepEqual(keys('id == 1'), {}, 'ids are strings');
  assert.deepEqual(keys(''), {});
});
