/**
 * Permission bits shared by Access Manager v2 grants and v3 tokens (wire-protocol.md §8.3).
 * v2 flags (`r w m d g u j`) map onto the same bits, so one bitmask type serves both.
 */

export const READ = 1;
export const WRITE = 2;
export const MANAGE = 4;
export const DELETE = 8;
/** Bit 4 (16) is unused by the SDK (historically "create"); it is carried but grants nothing. */
export const GET = 32;
export const UPDATE = 64;
export const JOIN = 128;

/** Every meaningful bit: all channel permissions together are 239 (§8.3). */
export const ALL_PERMISSIONS = READ | WRITE | MANAGE | DELETE | GET | UPDATE | JOIN;
/** Largest value a permission byte may carry on the wire (grant-token bodies, tokens). */
export const MAX_PERMISSION_VALUE = 255;

export type V2Flag = 'r' | 'w' | 'm' | 'd' | 'g' | 'u' | 'j';

/** The v2 flags in the order PubNub prints them in grant and audit payloads. */
export const V2_FLAGS: readonly V2Flag[] = ['r', 'w', 'm', 'd', 'g', 'u', 'j'];

const FLAG_BITS: Readonly<Record<V2Flag, number>> = {
  r: READ,
  w: WRITE,
  m: MANAGE,
  d: DELETE,
  g: GET,
  u: UPDATE,
  j: JOIN,
};

/** Names as the SDK's parseToken spells them; used in explain output and denial messages. */
const BIT_NAMES: ReadonlyArray<readonly [number, string]> = [
  [READ, 'read'],
  [WRITE, 'write'],
  [MANAGE, 'manage'],
  [DELETE, 'delete'],
  [GET, 'get'],
  [UPDATE, 'update'],
  [JOIN, 'join'],
];

export type PermissionName = 'read' | 'write' | 'manage' | 'delete' | 'get' | 'update' | 'join';

export function flagBit(flag: V2Flag): number {
  return FLAG_BITS[flag];
}

/** `{r:1, w:true}` → 3. Missing flags and falsy values count as 0. */
export function flagsToBits(flags: Partial<Record<V2Flag, boolean | 0 | 1>>): number {
  let bits = 0;
  for (const flag of V2_FLAGS) {
    if (flags[flag]) bits |= FLAG_BITS[flag];
  }
  return bits;
}

/** 3 → `{r:1, w:1, m:0, …}` restricted to `flags` (defaults to all seven, in PubNub's order). */
export function bitsToFlags(bits: number, flags: readonly V2Flag[] = V2_FLAGS): Record<string, 0 | 1> {
  const out: Record<string, 0 | 1> = {};
  for (const flag of flags) out[flag] = (bits & FLAG_BITS[flag]) !== 0 ? 1 : 0;
  return out;
}

/** 3 → ['read', 'write']; unknown bits (16) are not named. */
export function permissionNames(bits: number): PermissionName[] {
  const names: PermissionName[] = [];
  for (const [bit, name] of BIT_NAMES) if ((bits & bit) !== 0) names.push(name as PermissionName);
  return names;
}

/** Human form of a mask for messages: 'read', 'read+write', or 'none'. */
export function describePermissions(bits: number): string {
  const names = permissionNames(bits);
  return names.length === 0 ? 'none' : names.join('+');
}

/** The SDK's parseToken object form: every flag present, true or false. */
export function bitsToTokenPermissions(bits: number): Record<PermissionName, boolean> {
  return {
    read: (bits & READ) !== 0,
    write: (bits & WRITE) !== 0,
    manage: (bits & MANAGE) !== 0,
    delete: (bits & DELETE) !== 0,
    get: (bits & GET) !== 0,
    update: (bits & UPDATE) !== 0,
    join: (bits & JOIN) !== 0,
  };
}

export function isPermissionValue(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_PERMISSION_VALUE;
}
