import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isOperation, isAdminOperation } from '../../../src/access/enforcement.ts';
import { isGuarded } from '../../../src/protocol/route.ts';
import { allRoutes } from '../../../src/protocol/routes/index.ts';

/**
 * Issue 9 §5: every route declares the operation it performs or why it is public, and the server, not
 * the handler, enforces it. These checks fail when a route declares nothing or bypasses the server.
 */

test('every route declares its access: operations from the enforcement table, or a public reason', () => {
  assert.ok(allRoutes.length > 30);
  for (const route of allRoutes) {
    const name = `${route.method} ${route.path}`;
    assert.ok(route.access !== undefined, `${name} declares no access`);
    if (isGuarded(route)) {
      assert.ok(route.access.operations.length > 0, `${name} names no operation`);
      for (const op of route.access.operations) assert.ok(isOperation(op), `${name}: unknown operation ${op}`);
      assert.ok(route.path.includes('/:sub'), `${name} is guarded but has no :sub segment to name its keyset`);
    } else {
      assert.ok(route.access.public.length >= 20, `${name}: a public route says why it needs no credential`);
    }
  }
});

test('the public routes are exactly the ones meant to be public', () => {
  const open = allRoutes
    .filter((r) => !isGuarded(r))
    .map((r) => `${r.method} ${r.path}`)
    .sort();
  assert.deepEqual(
    open,
    ['GET /health', 'GET /health/live', 'GET /metrics', 'GET /time/0', 'GET /v1/files/:sub/download/:token/:name', 'POST /v1/files/:sub/upload'].sort(),
  );
});

test('admin operations are declared only by the Access Manager routes and the admin API (/v1/admin/)', () => {
  for (const route of allRoutes) {
    if (!isGuarded(route)) continue;
    const admin = route.access.operations.some(isAdminOperation);
    const adminPath = route.path.startsWith('/v2/auth/') || route.path.startsWith('/v3/pam/') || route.path.startsWith('/v1/admin/');
    assert.equal(admin, adminPath, `${route.method} ${route.path}`);
    // An admin route performs admin operations only: no grant or token can open any part of it.
    if (adminPath) assert.ok(route.access.operations.every(isAdminOperation), `${route.method} ${route.path} mixes admin and ordinary operations`);
  }
});

test('no route handler asks the Access Manager itself: only the server authorizes', () => {
  const dir = new URL('../../../src/protocol/routes/', import.meta.url);
  for (const file of readdirSync(dir)) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    assert.doesNotMatch(text, /authorizeChecks|s\.access\.check\(/, `${file} authorizes by itself`);
  }
});
