import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../../src/app-context/filter.ts';

const alice = { id: 'alice', name: 'Alice Smith', status: 'active', type: null, updated: '2024-05-01T10:00:00.000Z', custom: { role: 'admin', level: 3, vip: true } };
const bob = { id: 'bob', name: "Bob O'Neil *star*", status: 'away', type: 'bot', updated: '2023-01-01T00:00:00.000Z', custom: { role: 'member', level: 1, vip: false } };
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
  for (const bad of ["name ==", "name 'x'", "(id == 'a'", "id == 'a')", "id == 'unterminated", 'id ~= 1', "&& id == 'a'", "name LIKE 3", 'name < true', '('.repeat(100) + "id == 'a'" + ')'.repeat(100)]) {
    assert.throws(() => compileFilter(bad), { code: 'INVALID_PARAM' }, bad);
  }
});
