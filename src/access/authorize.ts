/**
 * THE decision: requirements × grants (v2 index or a verified v3 token) → Decision. Pure: no I/O,
 * no clock reads (nowMs comes in), no logging. Deny by default: a requirement is met only by a
 * live grant or token entry carrying its bit; denials list every unmet resource.
 *
 * Credential checks that come before this (signature, token signature, denylist) live in
 * AccessManager; token-level rules that need only the token and the clock (expiry, authorized
 * uuid) live here so recheck() of parked subscribers applies them too.
 */
import type { DenialCode } from '../errors.ts';
import type { Credential, Decision, Missing, Requirement, ResourceKind } from './types.ts';
import { describePermissions } from './permissions.ts';
import { KEYSET_LEVEL } from './enforcement.ts';
import type { GrantEntry, KeysetGrants } from './grant-index.ts';
import { patternMatches, type CompiledPattern } from './patterns.ts';
import { permissionMapOf } from './token/codec.ts';
import { isTokenExpired, type VerifiedToken } from './token/verify.ts';

export interface AuthorizeContext {
  nowMs: number;
  /** The request's uuid (checked against a token's authorized uuid). */
  uuid: string;
  /** Echoed in an allow decision. */
  credential: Credential;
}

export type GrantSource = { kind: 'v2'; grants: KeysetGrants; authKey: string } | { kind: 'v3'; token: VerifiedToken };

/** Names listed per kind in a denial message before "and N more". */
const MESSAGE_NAMES_PER_KIND = 10;

export function emptyMissing(): Missing {
  return { channels: [], groups: [], uuids: [] };
}

/**
 * Every named resource of `requirements` (deduplicated), for denials that refuse the whole request
 * (bad credential) and for the unmet ones of a denial. Keyset-level requirements name no resource and
 * are left out; the message says so.
 */
export function missingAll(requirements: readonly Requirement[]): Missing {
  // Each name once, in order. A request may name tens of thousands (groups expanded; heartbeat and
  // here-now take long lists): deduplicated through sets, so a denial costs what it named, not its square.
  const missing = emptyMissing();
  const seen: Record<ResourceKind, Set<string>> = { channels: new Set(), groups: new Set(), uuids: new Set() };
  for (const r of requirements) {
    if (r.name === KEYSET_LEVEL || seen[r.kind].has(r.name)) continue;
    seen[r.kind].add(r.name);
    missing[r.kind].push(r.name);
  }
  return missing;
}

const KIND_SINGULAR: Readonly<Record<ResourceKind, string>> = { channels: 'channel', groups: 'channel group', uuids: 'uuid' };

/** "read on channels a, b; manage on channel groups (keyset level)": names are never secrets. */
export function describeUnmet(unmet: readonly Requirement[]): string {
  // Names per "permission on kind", each once (a set: a request may name tens of thousands).
  const groups = new Map<string, Set<string>>();
  for (const r of unmet) {
    const key = `${describePermissions(r.perm)} on ${KIND_SINGULAR[r.kind]}${r.name === KEYSET_LEVEL ? ' (keyset level)' : ''}`;
    let names = groups.get(key);
    if (names === undefined) groups.set(key, (names = new Set()));
    if (r.name !== KEYSET_LEVEL) names.add(r.name);
  }
  const parts: string[] = [];
  for (const [key, nameSet] of groups) {
    if (nameSet.size === 0) {
      parts.push(key);
      continue;
    }
    const names = [...nameSet];
    const shown = names.slice(0, MESSAGE_NAMES_PER_KIND).join(', ');
    const more = names.length > MESSAGE_NAMES_PER_KIND ? ` and ${names.length - MESSAGE_NAMES_PER_KIND} more` : '';
    parts.push(`${key} ${shown}${more}`);
  }
  return parts.join('; ');
}

export function deny(code: DenialCode, missing: Missing, message: string): Decision {
  return { allowed: false, code, missing, message };
}

function denyUnmet(unmet: readonly Requirement[], source: string): Decision {
  const missing = missingAll(unmet);
  return deny('ACCESS_DENIED', missing, `Forbidden: ${source} does not grant ${describeUnmet(unmet)}`);
}

// ---------------------------------------------------------------------------------------------
// v2

/**
 * v2: each requirement must be met by a live grant at subkey, exact-resource or wildcard level,
 * for the caller's auth key or for every auth key (''). authKey '' means the request carried none:
 * then only grants made for every auth key apply (§7.1: a grant without auth covers everyone).
 */
export function authorizeV2(requirements: readonly Requirement[], grants: KeysetGrants, authKey: string, ctx: AuthorizeContext): Decision {
  let unmet: Requirement[] | undefined;
  for (let i = 0; i < requirements.length; i++) {
    const r = requirements[i];
    if (grants.find(r.kind, r.name, authKey, r.perm, ctx.nowMs) === undefined) (unmet ??= []).push(r);
  }
  if (unmet === undefined) return { allowed: true, credential: ctx.credential };
  return denyUnmet(unmet, authKey === '' ? 'no grant for requests without an auth key' : 'no grant for this auth key');
}

// ---------------------------------------------------------------------------------------------
// v3

/** The exact entry or pattern of `token` that gives `perm` on (kind, name). */
export function findInToken(
  token: VerifiedToken,
  kind: ResourceKind,
  name: string,
  perm: number,
): { via: 'resource'; name: string; perms: number } | { via: 'pattern'; pattern: CompiledPattern } | undefined {
  const list: readonly CompiledPattern[] = token.patterns[kind];
  if (name === KEYSET_LEVEL) {
    for (const p of list) if (p.isUniversal && (p.perms & perm) === perm) return { via: 'pattern', pattern: p };
    return undefined;
  }
  const exact = permissionMapOf(token.claims.resources, kind).get(name);
  if (exact !== undefined && (exact & perm) === perm) return { via: 'resource', name, perms: exact };
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if ((p.perms & perm) === perm && patternMatches(p, name)) return { via: 'pattern', pattern: p };
  }
  return undefined;
}

/** findInToken without allocating a result: the request-path form. */
function tokenAllows(token: VerifiedToken, r: Requirement): boolean {
  const list: readonly CompiledPattern[] = token.patterns[r.kind];
  const perm = r.perm;
  if (r.name === KEYSET_LEVEL) {
    for (let i = 0; i < list.length; i++) if (list[i].isUniversal && (list[i].perms & perm) === perm) return true;
    return false;
  }
  const exact = permissionMapOf(token.claims.resources, r.kind).get(r.name);
  if (exact !== undefined && (exact & perm) === perm) return true;
  for (let i = 0; i < list.length; i++) {
    if ((list[i].perms & perm) === perm && patternMatches(list[i], r.name)) return true;
  }
  return false;
}

/** Token-level refusals that do not depend on the resources (expiry, authorized uuid). */
export function tokenStateDenial(requirements: readonly Requirement[], token: VerifiedToken, ctx: AuthorizeContext): Decision | undefined {
  if (isTokenExpired(token, ctx.nowMs)) {
    return deny('TOKEN_EXPIRED', missingAll(requirements), 'Forbidden: the token has expired');
  }
  const authorized = token.claims.authorizedUuid;
  if (authorized !== undefined && authorized !== ctx.uuid) {
    return deny('TOKEN_WRONG_UUID', missingAll(requirements), 'Forbidden: the token is authorized for another uuid');
  }
  return undefined;
}

/** v3: expiry and authorized uuid first, then every requirement by exact entry or pattern. */
export function authorizeToken(requirements: readonly Requirement[], token: VerifiedToken, ctx: AuthorizeContext): Decision {
  const refused = tokenStateDenial(requirements, token, ctx);
  if (refused !== undefined) return refused;
  let unmet: Requirement[] | undefined;
  for (let i = 0; i < requirements.length; i++) {
    const r = requirements[i];
    if (!tokenAllows(token, r)) (unmet ??= []).push(r);
  }
  if (unmet === undefined) return { allowed: true, credential: ctx.credential };
  return denyUnmet(unmet, 'the token');
}

export function authorize(requirements: readonly Requirement[], source: GrantSource, ctx: AuthorizeContext): Decision {
  return source.kind === 'v2' ? authorizeV2(requirements, source.grants, source.authKey, ctx) : authorizeToken(requirements, source.token, ctx);
}

// ---------------------------------------------------------------------------------------------
// explain (for the CLI and debugging; never on the request path)

export interface RequirementExplanation {
  requirement: Requirement;
  allowed: boolean;
  /** What met it, or why nothing did; never contains auth keys or token strings. */
  detail: string;
}

export interface Explanation {
  decision: Decision;
  checks: RequirementExplanation[];
}

function describeGrant(entry: GrantEntry, ownKey: boolean): string {
  const who = entry.authKey === '' ? 'every auth key' : ownKey ? 'this auth key' : 'another auth key';
  const where =
    entry.level === 'subkey'
      ? 'subkey-level grant'
      : `${entry.level} grant on ${JSON.stringify(entry.resource)}${entry.level === 'channel' && entry.resource.endsWith('.*') ? ' (wildcard)' : ''}`;
  const ttl = entry.expiresAtMs === Infinity ? 'no expiry' : `expires at ${new Date(entry.expiresAtMs).toISOString()}`;
  return `${where} for ${who}: ${describePermissions(entry.perms)}, ${ttl}`;
}

export function explain(requirements: readonly Requirement[], source: GrantSource, ctx: AuthorizeContext): Explanation {
  const decision = authorize(requirements, source, ctx);
  const checks: RequirementExplanation[] = [];
  if (source.kind === 'v3') {
    const refused = tokenStateDenial(requirements, source.token, ctx);
    for (const requirement of requirements) {
      if (refused !== undefined && !refused.allowed) {
        checks.push({ requirement, allowed: false, detail: refused.message });
        continue;
      }
      const hit = findInToken(source.token, requirement.kind, requirement.name, requirement.perm);
      checks.push({
        requirement,
        allowed: hit !== undefined,
        detail:
          hit === undefined
            ? `no entry or pattern in the token grants ${describePermissions(requirement.perm)}`
            : hit.via === 'resource'
              ? `token res[${JSON.stringify(hit.name)}] = ${describePermissions(hit.perms)}`
              : `token pattern ${JSON.stringify(hit.pattern.source)} = ${describePermissions(hit.pattern.perms)}`,
      });
    }
    return { decision, checks };
  }
  for (const requirement of requirements) {
    const hit = source.grants.find(requirement.kind, requirement.name, source.authKey, requirement.perm, ctx.nowMs);
    checks.push({
      requirement,
      allowed: hit !== undefined,
      detail:
        hit === undefined
          ? `no live grant gives ${describePermissions(requirement.perm)} (checked subkey, exact and wildcard levels for this auth key and for every auth key)`
          : describeGrant(hit, hit.authKey === source.authKey),
    });
  }
  return { decision, checks };
}
