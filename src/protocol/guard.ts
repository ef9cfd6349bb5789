import { hasAccessManager, type Keyset } from '../keyset.ts';
import type { Credential, Requirement, ResourceKind } from '../access/types.ts';
import type { Operation } from '../access/enforcement.ts';
import { ParleyError } from '../errors.ts';
import { channelNameProblem } from '../realtime/channel-name.ts';
import { decodeComponent, type RequestContext } from './request.ts';
import type { Services } from './services.ts';

/** What an allowed request proved, and what it needed (kept by parked polls for re-checks). */
export interface Authorization {
  credential: Credential;
  requirements: readonly Requirement[];
}

const OPEN: Authorization = { credential: { kind: 'open' }, requirements: [] };

/** The keyset named by a raw subscribe-key segment; INVALID_KEY when unknown. */
export function keysetFor(s: Services, rawSubscribeKey: string, publishKey?: string): Keyset {
  const keyset = s.keysets.get(decodeComponent(rawSubscribeKey, 'subscribe key'));
  if (!keyset) throw new ParleyError('INVALID_KEY', 'Invalid Subscribe Key');
  if (publishKey !== undefined && keyset.publishKey !== decodeComponent(publishKey, 'publish key')) {
    throw new ParleyError('INVALID_KEY', 'Invalid Key');
  }
  return keyset;
}

/**
 * Asks the Access Manager before anything is read, stored or delivered. A denial becomes a
 * ParleyError carrying the denied resources, which error-response.ts turns into PubNub's 403.
 */
export function authorize(
  ctx: RequestContext,
  s: Services,
  keyset: Keyset,
  operation: Operation,
  resources: Partial<Record<ResourceKind, readonly string[]>>,
  adminOnly = false,
): Authorization {
  // Access Manager off: nothing to decide, and the open path stays free of per-request allocations.
  if (!hasAccessManager(keyset)) return OPEN;
  const requirements = s.access.requirementsFor(operation, resources);
  const decision = s.access.check({
    keyset,
    method: ctx.method,
    path: ctx.rawPath,
    rawQuery: ctx.rawQuery,
    query: ctx.query,
    body: ctx.method === 'POST' || ctx.method === 'PATCH' ? ctx.body.toString('utf8') : '',
    uuid: ctx.uuid,
    requirements,
    adminOnly,
  });
  if (decision.allowed) return { credential: decision.credential, requirements };
  s.m.denials({ code: decision.code, operation });
  ctx.log.debug({ operation, code: decision.code, missing: decision.missing }, 'access denied');
  throw new ParleyError(decision.code, decision.message, { details: { missing: decision.missing } });
}

/** Validates channel names from a request; INVALID_CHANNEL names the first bad one. */
export function checkChannels(s: Services, names: readonly string[], what: string, allowWildcard = false): void {
  for (const n of names) {
    const problem = channelNameProblem(n, s.config.limits.maxChannelLength, allowWildcard);
    if (problem) throw new ParleyError('INVALID_CHANNEL', `${what} "${n.slice(0, 100)}": ${problem}`);
  }
}
