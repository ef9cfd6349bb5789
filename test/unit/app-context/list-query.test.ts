import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListQuery, runListQuery } from '../../../src/app-context/list-query.ts';

type Row = { id: string; name: string | null; n: number };
const view = (r: Row) => r;
const rows = (names: Array<[string, string | null, number]>): Row[] => names.map(([id, name, n]) => ({ id, name, n }));

test('sorts by several keys, nulls last ascending and first descending, id breaks ties', () => {
  const data = rows([
    ['a', 'x', 2],
    ['b', null, 1],
    ['c', 'x', 1],
    ['d', 'w', 2],
  ]);
  const q = (sort: string[]) => runListQuery(data, view, parseListQuery({ sort }), ['id']).items.map((r) => r.id);
  assert.deepEqual(q([]), ['a', 'b', 'c', 'd']);
  assert.deepEqual(q(['name']), ['d', 'a', 'c', 'b']);
  assert.deepEqual(q(['name:desc']), ['b', 'a', 'c', 'd']);
  assert.deepEqual(q(['n:desc,name:asc']), ['d', 'a', 'c', 'b']);
  assert.deepEqual(q(['n:desc', 'id:desc']), ['d', 'a', 'c', 'b']);
  assert.throws(() => parseListQuery({ sort: ['name:sideways'] }), { code: 'INVALID_PARAM' });
});

test('keyset cursors neither repeat nor skip when records change between pages', () => {
  const data = rows([
    ['a', 'a', 0],
    ['c', 'c', 0],
    ['e', 'e', 0],
    ['g', 'g', 0],
  ]);
  const first = runListQuery(data, view, parseListQuery({ sort: ['name'], limit: 2, count: true }), ['id']);
  assert.deepEqual(
    first.items.map((r) => r.id),
    ['a', 'c'],
  );
  assert.equal(first.totalCount, 4);
  assert.equal(first.prev, null);
  // 'b' arrives before the cursor and 'd' after it; 'e' is deleted.
  const changed = rows([
    ['a', 'a', 0],
    ['b', 'b', 0],
    ['c', 'c', 0],
    ['d', 'd', 0],
    ['g', 'g', 0],
  ]);
  const second = runListQuery(changed, view, parseListQuery({ sort: ['name'], limit: 2, start: first.next! }), ['id']);
  assert.deepEqual(
    second.items.map((r) => r.id),
    ['d', 'g'],
  );
  assert.equal(second.next, null);
  const back = runListQuery(changed, view, parseListQuery({ sort: ['name'], limit: 2, end: second.prev! }), ['id']);
  assert.deepEqual(
    back.items.map((r) => r.id),
    ['b', 'c'],
  );
});

test('limit is clamped to 100; a foreign or mismatched cursor is INVALID_PARAM', () => {
  const many = rows(Array.from({ length: 150 }, (_, i) => [`id-${String(i).padStart(3, '0')}`, null, i] as [string, null, number]));
  const page = runListQuery(many, view, parseListQuery({ sort: [], limit: 1000 }), ['id']);
  assert.equal(page.items.length, 100);
  assert.ok(page.next);
  assert.throws(() => parseListQuery({ sort: [], start: 'not-a-cursor' }), { code: 'INVALID_PARAM' });
  assert.throws(() => runListQuery(many, view, parseListQuery({ sort: ['name', 'n'], start: page.next! }), ['id']), { code: 'INVALID_PARAM' });
});
