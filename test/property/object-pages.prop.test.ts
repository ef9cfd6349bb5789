import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, type ListQuery, parseListQuery, runListQuery } from '../../src/app-context/list-query.ts';
import { ObjectService } from '../../src/app-context/object-service.ts';
import { metadataView, relationView } from '../../src/app-context/records.ts';
import { createLogger } from '../../src/log.ts';
import { createMemoryStores } from '../../src/store/memory/index.ts';
import { createSqliteStores } from '../../src/store/sqlite/index.ts';
import type { ObjectStore, Stores } from '../../src/store/types.ts';
import { objectRecord as record } from '../helpers/object-records.ts';
import { compareCodePoints } from '../../src/text-order.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';

/**
 * ObjectService.list pages unfiltered, unsorted lists through ObjectStore.page instead of reading every
 * record: the answers must be exactly runListQuery's over every record (items, totalCount, next, prev),
 * on the memory engine and on SQLite (whose BINARY order must be text-order.ts's), whatever the ids
 * (BMP-high characters against astral ones, prefixes) and whatever cursors a client walks with or makes up.
 */

const unit = fc.constantFrom('a', 'b', 'B', 'é', '\uFF5E', '\uE000', '😀', '𐐀', '0', '-');
const id = fc.string({ unit, minLength: 1, maxLength: 4 });
type Step =
  | { kind: 'next'; limit: number }
  | { kind: 'prev'; limit: number }
  | { kind: 'made-up'; after: boolean; id: string; limit: number }
  | { kind: 'first'; limit: number; count: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('next' as const), limit: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('prev' as const), limit: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('made-up' as const), after: fc.boolean(), id, limit: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('first' as const), limit: fc.integer({ min: 0, max: 4 }), count: fc.boolean() }),
);

/** The list query a step asks for, walking from the last `next` and `prev` cursors seen. */
function queryFor(s: Step, next: string | null, prev: string | null): ListQuery {
  if (s.kind === 'next') return parseListQuery({ sort: [], limit: s.limit, start: next ?? undefined, count: true });
  if (s.kind === 'prev') return parseListQuery({ sort: [], limit: s.limit, end: prev ?? undefined });
  if (s.kind === 'made-up') return parseListQuery({ sort: [], limit: s.limit, [s.after ? 'start' : 'end']: encodeCursor(s.after, [s.id]) });
  return parseListQuery({ sort: [], limit: s.limit, count: s.count });
}

const serviceOn = (store: ObjectStore): ObjectService =>
  new ObjectService({ store, publish: async () => 1n, clock: createFakeClock(), log: createLogger({ level: 'silent' }) });

/** A fresh SQLite database per call, in one temporary folder removed after the file's tests. */
const sqliteDir = mkdtempSync(join(tmpdir(), 'parley-pages-'));
after(() => rmSync(sqliteDir, { recursive: true, force: true }));
let sqliteFiles = 0;
const sqliteStores = (): Stores => createSqliteStores({ file: join(sqliteDir, `p${sqliteFiles++}.db`) });

async function check(stores: Stores, ids: string[], steps: Step[]): Promise<void> {
  const service = serviceOn(stores.objects);
  for (const i of ids) await stores.objects.put('sub', 'uuid', record(i));
  const all = [...new Set(ids)].sort(compareCodePoints).map((i) => record(i));
  let next: string | null = null;
  let prev: string | null = null;
  for (const s of steps) {
    const q = queryFor(s, next, prev);
    const got = await service.list('sub', 'uuid', q);
    const want = runListQuery(all, (r) => metadataView('uuid', r), q, ['id']);
    const label = `${JSON.stringify(s)} over ${JSON.stringify(all.map((r) => r.id))}`;
    assert.deepEqual(
      got.items.map((r) => r.id),
      want.items.map((r) => r.id),
      label,
    );
    assert.equal(got.next, want.next, `next: ${label}`);
    assert.equal(got.prev, want.prev, `prev: ${label}`);
    if (q.includeTotalCount) assert.equal(got.totalCount, want.totalCount, `totalCount: ${label}`);
    if (got.next !== null) decodeCursor(got.next);
    next = got.next ?? next;
    prev = got.prev ?? prev;
  }
}

test('unfiltered pages from the store answer as runListQuery over every record (memory)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(id, { maxLength: 12 }), fc.array(step, { minLength: 1, maxLength: 8 }), async (ids, steps) => {
      await check(createMemoryStores(), ids, steps);
    }),
    { numRuns: 300 },
  );
});

test('unfiltered pages from the store answer as runListQuery over every record (sqlite)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(id, { maxLength: 12 }), fc.array(step, { minLength: 1, maxLength: 8 }), async (ids, steps) => {
      const stores = sqliteStores();
      try {
        await check(stores, ids, steps);
      } finally {
        await stores.close();
      }
    }),
    { numRuns: 100 },
  );
});

/**
 * Filters that name ids (`id == 'a' || …`, `channel.id == 'c'`, in any mix of `&&`, `||`, `!` with other
 * comparisons) make ObjectService read only the named records or pairs: the answers must still be
 * exactly runListQuery's over everything the full read returns.
 */
const idLiteral = fc.constantFrom('a', 'b', 'é', '😀', 'none');
const atom = (path: string): fc.Arbitrary<string> =>
  fc.oneof(
    idLiteral.map((v) => `${path} == '${v}'`),
    idLiteral.map((v) => `${path} != '${v}'`),
    fc.constantFrom("name == 'name of a'", "status == 'on'", 'status == null', `${path} LIKE '*'`),
  );
const filterOf = (path: string): fc.Arbitrary<string> =>
  fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom(path),
      fc.tuple(tie('e'), tie('e')).map(([x, y]) => `(${x}) || (${y})`),
      fc.tuple(tie('e'), tie('e')).map(([x, y]) => `(${x}) && (${y})`),
      tie('e').map((x) => `!(${x})`),
    ),
  })).e;

test('a filter naming ids reads just those records, and answers as a full read (uuid lists and memberships)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(idLiteral, { maxLength: 4 }),
      fc.uniqueArray(fc.tuple(fc.constantFrom('u1', 'u2'), idLiteral, fc.constantFrom('on', null)), { maxLength: 6, selector: ([u, c]) => `${u}|${c}` }),
      filterOf('id'),
      filterOf('channel.id'),
      fc.integer({ min: 0, max: 3 }),
      async (ids, pairs, uuidFilter, membershipFilter, limit) => {
        const stores = createMemoryStores();
        const service = serviceOn(stores.objects);
        for (const i of ids) await stores.objects.put('sub', 'uuid', record(i));
        for (const i of ids) await stores.objects.put('sub', 'channel', record(i));
        await stores.objects.putMemberships(
          'sub',
          pairs.map(([uuid, channel, status]) => ({ uuid, channel, status, type: null, custom: null, updated: 'x', eTag: 'm' })),
        );

        const q = parseListQuery({ sort: [], limit, filter: uuidFilter, count: true });
        const got = await service.list('sub', 'uuid', q);
        const want = runListQuery(await stores.objects.list('sub', 'uuid'), (r) => metadataView('uuid', r), q, ['id']);
        assert.deepEqual(
          [got.items.map((r) => r.id), got.totalCount, got.next, got.prev],
          [want.items.map((r) => r.id), want.totalCount, want.next, want.prev],
          uuidFilter,
        );

        const mq = parseListQuery({ sort: [], limit, filter: membershipFilter, count: true });
        // The same store, but a pair lookup fails: the reference answer comes from the full read.
        const fullRead = Object.create(stores.objects) as typeof stores.objects;
        fullRead.membership = async () => assert.fail('the full read must not look up pairs');
        const full = serviceOn(fullRead);
        for (const uuid of ['u1', 'u2']) {
          const a = await service.relations('sub', 'uuid', uuid, mq);
          const b = await full.relations('sub', 'uuid', uuid, { ...mq, keyValues: new Map() });
          const view = (p: typeof a) => [p.items.map((r) => [r.membership.channel, r.other?.id ?? null]), p.totalCount, p.next, p.prev];
          assert.deepEqual(view(a), view(b), `${uuid}: ${membershipFilter}`);
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('unfiltered membership pages from the store answer as runListQuery over every relation (memory, sqlite)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.uniqueArray(fc.tuple(fc.constantFrom('u1', 'u2'), id), { maxLength: 10, selector: ([u, c]) => `${u}|${c}` }),
      fc.uniqueArray(id, { maxLength: 4 }),
      fc.array(step, { minLength: 1, maxLength: 6 }),
      async (onSqlite, pairs, channelsWithMetadata, steps) => {
        const stores = onSqlite ? sqliteStores() : createMemoryStores();
        try {
          const service = serviceOn(stores.objects);
          for (const c of channelsWithMetadata) await stores.objects.put('sub', 'channel', record(c));
          await stores.objects.putMemberships(
            'sub',
            pairs.map(([uuid, channel]) => ({ uuid, channel, status: null, type: null, custom: null, updated: 'x', eTag: `m-${channel}` })),
          );
          for (const [side, sideId] of [
            ['uuid', 'u1'],
            ['channel', pairs[0]?.[1] ?? 'none'],
          ] as const) {
            const otherKind = side === 'uuid' ? 'channel' : 'uuid';
            const all = await Promise.all(
              (await stores.objects.memberships('sub', side, sideId)).map(async (membership) => ({
                membership,
                other: await stores.objects.get('sub', otherKind, side === 'uuid' ? membership.channel : membership.uuid),
              })),
            );
            let next: string | null = null;
            let prev: string | null = null;
            for (const s of steps) {
              const q = queryFor(s, next, prev);
              const got = await service.relations('sub', side, sideId, q);
              const want = runListQuery(all, (r) => relationView(side, r.membership, r.other), q, [otherKind, 'id']);
              const view = (p: typeof got) => [p.items.map((r) => [r.membership.uuid, r.membership.channel, r.other?.id ?? null]), p.next, p.prev];
              assert.deepEqual(view(got), view(want), `${side} ${sideId}: ${JSON.stringify(s)}`);
              if (q.includeTotalCount) assert.equal(got.totalCount, want.totalCount);
              next = got.next ?? next;
              prev = got.prev ?? prev;
            }
          }
        } finally {
          await stores.close();
        }
      },
    ),
    { numRuns: 200 },
  );
});
