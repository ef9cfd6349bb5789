import { hasAccessManager, type Keyset } from '../keyset.ts';
import type { Credential, Requirement } from '../access/types.ts';
import { isAdminOperation } from '../access/enforcement.ts';
import { ParleyError } from '../errors.ts';
import { channelNameProblem } from '../realtime/channel-name.ts';
import { decodeComponent, type RequestContext } from './request.ts';
import type { AccessCheck, Granted } from './route.ts';
import type { Services } from './services.ts';

const OPEN_CREDENTIAL: Credential = Object.freeze({ kind: 'open' });
const NONE: readonly Requirement[] = Object.freeze([]);

/** The keyset named by a raw subscribe-key segment; INVALID_KEY when unknown. */
export function keysetFor(s: Pick<Services, 'keysets'>, rawSubscribeKey: string, publishKey?: string): Keyset {
  const keyset = s.keysets.get(decodeComponent(rawSubscribeKey, 'subscribe key'));
  if (!keyset) throw new ParleyError('INVALID_KEY', 'Invalid Subscribe Key');
  if (publishKey !== undefined && keyset.publishKey !== decodeComponent(publishKey, 'publish key')) {
    throw new ParleyError('INVALID_KEY', 'Invalid Key');
  }
  return keyset;
}

/**
 * Asks the Access Manager before anything is read, stored or delivered: every check of the route at
 * once, so one credential check covers the request. Only the server calls this (route.ts); a denial
 * becomes a ParleyError carrying the denied resources, which error-response.ts turns into PubNub's 403.
 */
export function authorizeChecks(ctx: RequestContext, s: Services, keyset: Keyset, checks: readonly AccessCheck[]): Granted {
  // Access Manager off: nothing to decide.
  if (!hasAccessManager(keyset)) return { keyset, credential: OPEN_CREDENTIAL, requirements: NONE };
  let requirements: Requirement[] = [];
  let adminOnly = false;
  for (const check of checks) {
    const needs = s.access.requirementsFor(check.operation, check.resources);
    requirements = requirements.length === 0 ? needs : requirements.concat(needs);
    if (isAdminOperation(check.operation)) adminOnly = true;
  }
  const decision = s.access.check({
    keyset,
    method: ctx.method,
    path: ctx.rawPath,
    query: ctx.query,
    body: ctx.method === 'POST' || ctx.method === 'PATCH' ? ctx.body.toString('utf8') : '',
    uuid: ctx.uuid,
    requirements,
    adminOnly,
  });
  if (decision.allowed) return { keyset, credential: decision.credential, requirements };
  const operation = checks.length > 0 ? checks[0].operation : 'none';
  s.m.denials({ code: decision.code, operation });
  ctx.log.debug({ operation, code: decision.code, missing: decision.missing }, 'access denied');
  throw new ParleyError(decision.code, decision.message, { details: { missing: decision.missing } });
}

/** Validates channel names from a request; INVALID_CHANNEL names the first bad one. */
export function checkChannels(s: Pick<Services, 'config'>, names: readonly string[], what: string, allowWildcard = false): void {
  for (const n of names) {
    const problem = channelNameProblem(n, s.config.limits.maxChannelLength, allowWildcard);
    if (problem) throw new ParleyError('INVALID_CHANNEL', `${what} "${n.slice(0, 100)}": ${problem}`);
  }
}
