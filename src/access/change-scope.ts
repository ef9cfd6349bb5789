import type { AccessChange, Credential } from './types.ts';

/**
 * Which parked polls an access change can concern, so a change re-checks those and passes the rest by
 * (app/cluster-sync.ts). A poll carries the key of the credential it was allowed with
 * (Waiter.accessKey); a change names the keys it can affect:
 * - a v2 grant or withdrawal changes what its auth keys may do, and a grant for every auth key ('')
 *   what every v2 credential may do; a token is decided without v2 grants (authorize.ts);
 * - a token revocation concerns the polls allowed by that token;
 * - a kick concerns its uuid's token polls (tokens issued before it are refused);
 * - a grants change without targets (a large grant, a resync, a new revocation epoch) concerns all.
 * The secret key and an open keyset decide without grants or tokens: no change concerns them.
 * Anything this does not know re-checks every poll.
 */

/** The key of a credential: what a poll is re-checked under. */
export function accessKeyOf(credential: Credential): string | null {
  switch (credential.kind) {
    case 'authKey':
      return `a:${credential.authKey}`;
    case 'token':
      return `t:${credential.tokenId}`;
    case 'secret':
    case 'open':
      return null;
  }
}

/** Whether the change can concern a poll of this accessKey (undefined: unknown, so yes) and uuid. */
export function changeConcerns(change: AccessChange): (accessKey: string | null | undefined, uuid: string) => boolean {
  switch (change.kind) {
    case 'grants-changed': {
      const targets = change.targets;
      if (targets === undefined) return () => true;
      const keys = new Set(targets.map((t) => `a:${t.authKey}`));
      if (keys.has('a:')) return (key) => key === undefined || key?.startsWith('a:') === true;
      return (key) => key === undefined || (key !== null && keys.has(key));
    }
    case 'token-revoked': {
      const key = `t:${change.tokenId}`;
      return (k) => k === undefined || k === key;
    }
    case 'uuid-kicked':
      return (k, uuid) => k === undefined || (uuid === change.uuid && k?.startsWith('t:') === true);
    default: {
      const unknown: never = change;
      void unknown;
      return () => true;
    }
  }
}
