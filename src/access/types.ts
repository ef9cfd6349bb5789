import type { DenialCode, MissingResources } from '../errors.ts';
import type { Keyset } from '../keyset.ts';
import type { GrantTarget } from '../store/types.ts';

export type ResourceKind = 'channels' | 'groups' | 'uuids';

/** One thing a request needs: a permission bit (access/permissions.ts) on one named resource. */
export interface Requirement {
  kind: ResourceKind;
  name: string;
  perm: number;
}

/** The denied resources, as PubNub's 403 payload lists them. */
export type Missing = MissingResources;

/** Who the caller proved to be; kept by parked long-polls so they can be re-checked later. */
export type Credential =
  | { kind: 'open' } // keyset without a secret key: Access Manager off
  | { kind: 'secret' } // request signed with the secret key: acts as the server
  | { kind: 'authKey'; authKey: string } // v2
  | { kind: 'token'; tokenId: string; token: string }; // v3 (token string kept for cache lookups)

export type Decision = { allowed: true; credential: Credential; reason?: string } | { allowed: false; code: DenialCode; missing: Missing; message: string };

/** A parsed query as the Access Manager reads it. */
export interface RequestQuery {
  get(name: string): string | undefined;
  has(name: string): boolean;
  readonly pairs: readonly { readonly name: string; readonly value: string }[];
}

/** What the protocol layer hands to the Access Manager for every request. */
export interface AccessRequest {
  keyset: Keyset;
  /** Real HTTP method; signature rules map POST publish to GET themselves. */
  method: string;
  /** Path exactly as received, still percent-encoded. */
  path: string;
  /**
   * The request's one parsed query (protocol/query.ts): `get` for a parameter's value, `pairs` in
   * wire order for the signature. No reader decodes the raw query string again.
   */
  query: RequestQuery;
  /** Uncompressed body text for POST/PATCH (signature input), else ''. */
  body: string;
  /** The caller's uuid (the `uuid` query parameter). */
  uuid: string;
  requirements: readonly Requirement[];
  /** grant, audit, grant-token, revoke-token: only a valid secret-key signature may do these. */
  adminOnly: boolean;
}

/** Change notifications so parked subscribers can be re-checked at once. */
export type AccessChange =
  | { kind: 'token-revoked'; subscribeKey: string; tokenId: string }
  /**
   * `targets`: the grants that changed, when there are at most MAX_CHANGED_TARGETS of them; other nodes
   * then re-read only those. Without it they re-read the keyset's whole list.
   */
  | { kind: 'grants-changed'; subscribeKey: string; targets?: readonly GrantTarget[] }
  | { kind: 'uuid-kicked'; subscribeKey: string; uuid: string; kickedAtMs: number };
