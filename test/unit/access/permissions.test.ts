import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_PERMISSIONS,
  bitsToFlags,
  bitsToTokenPermissions,
  describePermissions,
  flagsToBits,
  isPermissionValue,
  permissionNames,
  V2_FLAGS,
} from '../../../src/access/permissions.ts';

test('v2 flags map onto the §8.3 bits', () => {
  assert.equal(flagsToBits({ r: 1 }), 1);
  assert.equal(flagsToBits({ w: true }), 2);
  assert.equal(flagsToBits({ m: 1 }), 4);
  assert.equal(flagsToBits({ d: 1 }), 8);
  assert.equal(flagsToBits({ g: 1 }), 32);
  assert.equal(flagsToBits({ u: 1 }), 64);
  assert.equal(flagsToBits({ j: 1 }), 128);
  assert.equal(flagsToBits({ r: 1, w: 1, m: 1, d: 1, g: 1, u: 1, j: 1 }), ALL_PERMISSIONS);
  assert.equal(ALL_PERMISSIONS, 239);
  assert.equal(flagsToBits({ r: 0, w: false }), 0);
});

test('bits → flags round-trips for every mask of the seven bits', () => {
  for (let bits = 0; bits <= 255; bits++) {
    const meaningful = bits & ALL_PERMISSIONS;
    assert.equal(flagsToBits(bitsToFlags(bits)), meaningful);
  }
  assert.deepEqual(Object.keys(bitsToFlags(3)), [...V2_FLAGS]);
  assert.deepEqual(bitsToFlags(5, ['r', 'm']), { r: 1, m: 1 });
});

test('names for explain output and the SDK parseToken form', () => {
  assert.deepEqual(permissionNames(3), ['read', 'write']);
  assert.deepEqual(permissionNames(16), []);
  assert.equal(describePermissions(104), 'delete+get+update');
  assert.equal(describePermissions(0), 'none');
  assert.deepEqual(bitsToTokenPermissions(5), { read: true, write: false, manage: true, delete: false, get: false, update: false, join: false });
});

test('permission values are integers 0..255', () => {
  for (const ok of [0, 1, 239, 255]) assert.equal(isPermissionValue(ok), true);
  for (const bad of [-1, 256, 1.5, '3', null, NaN]) assert.equal(isPermissionValue(bad), false);
});
