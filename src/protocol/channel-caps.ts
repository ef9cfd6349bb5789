import { ParleyError } from '../errors.ts';
import { stripPresence } from '../realtime/channel-name.ts';
import type { Services } from './services.ts';

/**
 * The per-request caps on channel groups, shared by subscribe and the presence calls that expand
 * groups (docs/security.md "Limits"). Each refusal is a 400 naming its limits.* setting; the server
 * counts it in parley_cap_refusals_total by `details.cap`.
 */

/** At most limits.maxGroupsPerSubscribe distinct groups; `g` and `g-pnpres` count once. */
export function checkGroupCount(s: Pick<Services, 'config'>, groups: readonly string[]): void {
  const max = s.config.limits.maxGroupsPerSubscribe;
  if (groups.length <= max) return;
  const distinct = new Set(groups.map(stripPresence)).size;
  if (distinct > max) {
    throw new ParleyError('INVALID_PARAM', `${distinct} channel groups named; at most ${max} per request (limits.maxGroupsPerSubscribe)`, {
      details: { cap: 'maxGroupsPerSubscribe' },
    });
  }
}

/** Refuses a request whose channels, once its groups are expanded, pass limits.maxChannelsPerSubscription. */
export function checkExpandedCount(s: Pick<Services, 'config'>, count: number): void {
  const max = s.config.limits.maxChannelsPerSubscription;
  if (count > max) {
    throw new ParleyError(
      'INVALID_PARAM',
      `this request reaches ${count} or more channels once its channel groups are expanded; at most ${max} (limits.maxChannelsPerSubscription)`,
      { details: { cap: 'maxChannelsPerSubscription' } },
    );
  }
}
