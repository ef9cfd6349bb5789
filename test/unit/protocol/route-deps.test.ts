import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guarded, publicRoute, type Granted, type Route } from '../../../src/protocol/route.ts';
import type { RequestContext } from '../../../src/protocol/request.ts';
import type { Services } from '../../../src/protocol/services.ts';
import type { Keyset } from '../../../src/keyset.ts';

/**
 * Route families declare the part of Services they use (route.ts). The type checks below are enforced
 * by `tsc --noEmit` (CI): each @ts-expect-error fails the type check when its line stops being an error.
 */

type NarrowDeps = Pick<Services, 'config' | 'clock'>;

const narrow: Route<NarrowDeps> = guarded({
  method: 'GET',
  path: '/x/:sub',
  family: 'generic',
  service: 'X',
  operation: 'history',
  parse: (_ctx, s: NarrowDeps) => ({ value: s.clock.nowMs(), resources: { channels: ['c'] } }),
  handler: async (_ctx, s: NarrowDeps, value) => {
    // @ts-expect-error a handler cannot reach a dependency its family did not declare
    void s.pipeline;
    void value;
  },
});

// The server hands every route the whole Services: a family's routes go where the server's do.
const all: readonly Route[] = [narrow];

const unservable: readonly Route[] = [
  // @ts-expect-error a family that needs something Services does not hold cannot be served
  publicRoute<{ missing: string }>({
    method: 'GET',
    path: '/y',
    family: 'generic',
    service: 'Y',
    why: 'a public route for the type check only',
    handler: async () => {},
  }),
];

test('a guarded route hands its parse and handler the object the server passes, narrowed only in type', async () => {
  const seen: unknown[] = [];
  const route = guarded({
    method: 'GET',
    path: '/x/:sub',
    family: 'generic',
    service: 'X',
    operation: 'history',
    parse: (_ctx, s: NarrowDeps) => {
      seen.push(s);
      return { value: 42, resources: { channels: ['c'] } };
    },
    handler: async (_ctx, s: NarrowDeps, value) => {
      seen.push(s, value);
    },
  });
  const s = { config: {}, clock: { nowMs: () => 1 } } as unknown as NarrowDeps;
  const keyset: Keyset = { subscribeKey: 'sub', publishKey: 'pub', secretKey: '' };
  const prepared = route.prepare({} as RequestContext, s, keyset);
  assert.deepEqual(prepared.checks, [{ operation: 'history', resources: { channels: ['c'] } }]);
  await prepared.run({ keyset } as Granted);
  assert.equal(seen.length, 3);
  assert.equal(seen[0], s);
  assert.equal(seen[1], s);
  assert.equal(seen[2], 42);
  assert.equal(all.length + unservable.length, 2);
});
