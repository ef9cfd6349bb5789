import { isOperation, operationSpec, requirementsFor, isAdminOperation, KEYSET_LEVEL, type OperationResources } from '../../access/enforcement.ts';
import { newSecretKey } from '../../access/secret-rotation.ts';
import { permissionNames } from '../../access/permissions.ts';
import type { PermissionMaps, TokenClaims } from '../../access/token/codec.ts';
import type { ResourceKind } from '../../access/types.ts';
import { ParleyError } from '../../errors.ts';
import { hasAccessManager, type Keyset } from '../../keyset.ts';
import { sendJson, type RequestContext } from '../request.ts';
import { guarded, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/**
 * Parley's admin API under /v1/admin/{sub}/ (docs/security.md "Operator console, kick and rotation"):
 * what the operator console needs beyond PubNub's own API, open to app servers as well. Every operation
 * is admin-only in the enforcement table, so the server refuses a request without a valid secret-key
 * signature before any of this runs, exactly as for grant or audit; a POST's signature covers its body.
 * Answers are `{"status":200,"service":"Admin","data":{…}}`; errors take the generic shape.
 */

/** What the admin API uses (route.ts). */
export type AdminDeps = Pick<Services, 'admin' | 'secrets' | 'nodeStats' | 'hub' | 'presence'>;

const SERVICE = 'Admin';
/** Admin bodies are small JSON objects. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;
/** Names per kind one explain may list. */
const MAX_EXPLAIN_NAMES = 100;

const none = () => ({ value: undefined, resources: {} });

function ok(ctx: RequestContext, data: unknown): void {
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, service: SERVICE, data }));
}

function jsonObject(ctx: RequestContext): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'the body must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ParleyError('INVALID_PARAM', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string, what: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ParleyError('INVALID_PARAM', `${what}.${key}: must be a string`);
  return v;
}

function stringList(body: Record<string, unknown>, key: string, what: string, max: number): string[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ParleyError('INVALID_PARAM', `${what}.${key}: must be a list of strings`);
  if (v.length > max) throw new ParleyError('INVALID_PARAM', `${what}.${key}: at most ${max} entries (got ${v.length})`);
  return v as string[];
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

/** `{name: {bits, permissions}}` per kind, as the console shows a token. */
function mapsJson(maps: PermissionMaps): Record<ResourceKind, Record<string, { bits: number; permissions: string[] }>> {
  const out = { channels: {}, groups: {}, uuids: {} } as Record<ResourceKind, Record<string, { bits: number; permissions: string[] }>>;
  for (const kind of ['channels', 'groups', 'uuids'] as const) {
    for (const [name, bits] of maps[kind]) {
      Object.defineProperty(out[kind], name, { value: { bits, permissions: permissionNames(bits) }, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function claimsJson(claims: TokenClaims): Record<string, unknown> {
  return {
    version: claims.version,
    issuedAt: iso(claims.issuedAtSec * 1000),
    ttlMinutes: claims.ttlMinutes,
    expiresAt: iso((claims.issuedAtSec + claims.ttlMinutes * 60) * 1000),
    authorizedUuid: claims.authorizedUuid ?? null,
    resources: mapsJson(claims.resources),
    patterns: mapsJson(claims.patterns),
    meta: Object.fromEntries(claims.meta),
  };
}

function keysetJson(s: AdminDeps, keyset: Keyset): Record<string, unknown> {
  return {
    subscribeKey: keyset.subscribeKey,
    publishKey: keyset.publishKey,
    previousSecretValidUntil: iso(s.secrets.status(keyset).previousValidUntilMs),
  };
}

async function kick(ctx: RequestContext, s: AdminDeps, keyset: Keyset): Promise<void> {
  const body = jsonObject(ctx);
  const uuid = optionalString(body, 'uuid', 'kick') ?? '';
  const tokens = body.tokens ?? true;
  if (typeof tokens !== 'boolean') throw new ParleyError('INVALID_PARAM', 'kick.tokens: must be true or false');
  const authKeys = stringList(body, 'authKeys', 'kick', 1000);
  const parkedBefore = s.hub.waitersOf(keyset.subscribeKey, uuid).size;
  const result = await s.admin.kick(keyset, { uuid, tokens, authKeys });
  // The change listeners re-checked this node's parked polls synchronously (other nodes on the event);
  // what is still parked here kept a credential the kick did not touch.
  const parkedAfter = s.hub.waitersOf(keyset.subscribeKey, uuid).size;
  const channels = await s.presence.whereNow(keyset.subscribeKey, uuid);
  await s.presence.leave(keyset.subscribeKey, uuid, channels);
  ok(ctx, {
    uuid,
    kickedAt: iso(result.kickedAtMs),
    withdrawnGrants: result.withdrawnGrants,
    endedLongPolls: parkedBefore - parkedAfter,
    stillParked: parkedAfter,
    left: channels,
  });
}

function explain(ctx: RequestContext, s: AdminDeps, keyset: Keyset): void {
  const body = jsonObject(ctx);
  const operation = optionalString(body, 'operation', 'explain') ?? '';
  if (!isOperation(operation))
    throw new ParleyError('INVALID_PARAM', `explain.operation: unknown operation "${operation.slice(0, 40)}" (docs/access-matrix.md lists them)`);
  const spec = operationSpec(operation);
  const resources: OperationResources = {
    channels: stringList(body, 'channels', 'explain', MAX_EXPLAIN_NAMES),
    groups: stringList(body, 'groups', 'explain', MAX_EXPLAIN_NAMES),
    uuids: stringList(body, 'uuids', 'explain', MAX_EXPLAIN_NAMES),
  };
  for (const kind of ['channels', 'groups', 'uuids'] as const) {
    if ((resources[kind]?.length ?? 0) > 0 && spec.resources[kind] === undefined) {
      throw new ParleyError('INVALID_PARAM', `explain.${kind}: operation "${operation}" takes no ${kind}`);
    }
  }
  const auth = optionalString(body, 'auth', 'explain') ?? '';
  const uuid = optionalString(body, 'uuid', 'explain') ?? '';
  if (isAdminOperation(operation)) {
    ok(ctx, {
      operation,
      admin: true,
      checks: [],
      decision: { allowed: false, code: 'SIGNATURE_MISSING', message: 'only a request signed with the secret key may do this; grants and tokens do not apply' },
    });
    return;
  }
  const { decision, checks } = s.admin.explain(keyset, auth, uuid, requirementsFor(operation, resources));
  ok(ctx, {
    operation,
    admin: false,
    credential: auth === '' ? 'none' : auth.length > 40 ? 'token' : 'auth key',
    decision: decision.allowed ? { allowed: true } : { allowed: false, code: decision.code, message: decision.message },
    checks: checks.map((c) => ({
      kind: c.requirement.kind,
      name: c.requirement.name === KEYSET_LEVEL ? null : c.requirement.name,
      permissions: permissionNames(c.requirement.perm),
      allowed: c.allowed,
      detail: c.detail,
    })),
  });
}

async function rotate(ctx: RequestContext, s: AdminDeps, keyset: Keyset): Promise<void> {
  const body = jsonObject(ctx);
  const given = optionalString(body, 'secretKey', 'rotate');
  const overlap = body.overlapMinutes ?? 60;
  if (typeof overlap !== 'number') throw new ParleyError('INVALID_PARAM', 'rotate.overlapMinutes: must be a whole number of minutes');
  const secretKey = given ?? newSecretKey();
  const result = await s.secrets.rotate(keyset, { secretKey, overlapMinutes: overlap });
  ok(ctx, {
    rotatedAt: iso(result.rotatedAtMs),
    previousSecretValidUntil: iso(result.previousValidUntilMs),
    // A secret the server drew is told once, to the caller who signed with the current one.
    ...(given === undefined ? { secretKey } : {}),
  });
}

const maxBodyBytes = () => MAX_ADMIN_BODY_BYTES;

/**
 * A keyset without a secret key has no Access Manager, so the server lets every request through: the
 * admin API refuses to act on one rather than hand its figures or controls to anyone.
 */
function secured(handler: (ctx: RequestContext, s: AdminDeps, keyset: Keyset) => Promise<void> | void) {
  return async (ctx: RequestContext, s: AdminDeps, _value: undefined, { keyset }: { keyset: Keyset }): Promise<void> => {
    if (!hasAccessManager(keyset)) throw new ParleyError('INVALID_PARAM', 'the admin API needs a keyset with a secret key (this one has no Access Manager)');
    await handler(ctx, s, keyset);
  };
}

export const adminRoutes: Route<AdminDeps>[] = [
  guarded({
    method: 'GET',
    path: '/v1/admin/:sub/stats',
    family: 'generic',
    service: SERVICE,
    operation: 'admin_stats',
    parse: none,
    handler: secured((ctx, s, keyset) => ok(ctx, { ...s.nodeStats.view(), keyset: keysetJson(s, keyset) })),
  }),
  guarded({
    method: 'POST',
    path: '/v1/admin/:sub/token/inspect',
    family: 'generic',
    service: SERVICE,
    operation: 'admin_inspect_token',
    maxBodyBytes,
    parse: none,
    handler: secured((ctx, s, keyset) => {
      const token = optionalString(jsonObject(ctx), 'token', 'inspect');
      if (token === undefined || token.length === 0) throw new ParleyError('INVALID_PARAM', 'inspect.token: required');
      const found = s.admin.inspectToken(keyset, token.trim());
      ok(ctx, {
        state: found.state,
        reason: found.reason,
        verified: found.signedWith !== undefined,
        signedWith: found.signedWith ?? null,
        tokenId: found.tokenId ?? null,
        token: found.claims === undefined ? null : claimsJson(found.claims),
      });
    }),
  }),
  guarded({
    method: 'POST',
    path: '/v1/admin/:sub/explain',
    family: 'generic',
    service: SERVICE,
    operation: 'admin_explain',
    maxBodyBytes,
    parse: none,
    handler: secured(explain),
  }),
  guarded({
    method: 'POST',
    path: '/v1/admin/:sub/kick',
    family: 'generic',
    service: SERVICE,
    operation: 'admin_kick',
    maxBodyBytes,
    parse: none,
    handler: secured(kick),
  }),
  guarded({
    method: 'POST',
    path: '/v1/admin/:sub/secret/rotate',
    family: 'generic',
    service: SERVICE,
    operation: 'admin_rotate_secret',
    maxBodyBytes,
    parse: none,
    handler: secured(rotate),
  }),
];
