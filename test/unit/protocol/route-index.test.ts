import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Router } from '../../../src/protocol/route.ts';
import { allRoutes } from '../../../src/protocol/routes/index.ts';
import { isPathPublish, isSubscribePath, LaneRoutes, RouteIndex } from '../../../src/protocol/server.ts';

/**
 * The server matches requests through RouteIndex (the routes split by segment count and first segment)
 * and sends some paths to the lane by shape (isSubscribePath, isPathPublish). Both must agree with one
 * Router over every route: same route, same params, same "path matched another method".
 */

const router = new Router(allRoutes);
const index = new RouteIndex(allRoutes);
const laneRoutes = new LaneRoutes(allRoutes);
const literals = [...new Set(allRoutes.flatMap((r) => r.path.split('/').filter((s) => s !== '' && !s.startsWith(':'))))];
const segment = fc.oneof(
  fc.constantFrom(...literals, '0', '1', '', 'sub-a', 'pub-a', 'ch', '%2F', 'x.y'),
  fc.string({ maxLength: 6 }).filter((s) => !s.includes('/')),
);
const path = fc.oneof(
  fc.array(segment, { minLength: 0, maxLength: 9 }).map((parts) => `/${parts.join('/')}`),
  // Real routes with their captures filled in.
  fc.tuple(fc.constantFrom(...allRoutes.map((r) => r.path)), fc.array(segment, { minLength: 9, maxLength: 9 })).map(([p, fill]) =>
    p
      .split('/')
      .map((s, i) => (s.startsWith(':') ? fill[i] : s))
      .join('/'),
  ),
  fc.constantFrom('', '*', 'http://host/v2/subscribe/a/b/0', '//', '/'),
);
const method = fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD');

test('property: RouteIndex matches every path as one Router over all routes does', () => {
  fc.assert(
    fc.property(method, path, (m, p) => {
      assert.deepEqual(index.match(m, p), router.match(m, p));
      const found = router.match(m, p);
      // identity, not only shape: the index hands out the same Route objects
      if (found.route) assert.equal(index.match(m, p).route, found.route);
    }),
    { numRuns: 5000 },
  );
});

test('property: the lane takes a GET path only when the router finds the subscribe, publish or signal GET route for it, and matches it as the router does', () => {
  const laneRouteSet = new Set(allRoutes.filter((r) => r.method === 'GET' && /^\/(v2\/subscribe|publish|signal)\//.test(r.path)));
  assert.equal(laneRouteSet.size, 3);
  fc.assert(
    fc.property(path, (p) => {
      const found = router.match('GET', p).route;
      const takes = isSubscribePath(p) || isPathPublish(p);
      assert.equal(takes, found !== null && laneRouteSet.has(found), p);
      // and the server's direct match for those paths is the router's
      const direct = laneRoutes.match(p);
      assert.equal(direct !== null, takes, p);
      if (direct !== null) assert.deepEqual(direct, router.match('GET', p));
    }),
    { numRuns: 5000 },
  );
});
