/** One PubNub-style keyset. The Access Manager is on exactly when secretKey is non-empty. */
export interface Keyset {
  readonly publishKey: string;
  readonly subscribeKey: string;
  readonly secretKey: string;
  /**
   * The secret before the last rotation, still accepted (signatures, tokens, file URLs) while
   * nowMs < validUntilMs; new tokens are always signed with secretKey (docs/security.md "Operator
   * console, kick and rotation"). Set from the config or by a runtime rotation (access/secret-rotation.ts).
   */
  readonly previous?: { readonly secretKey: string; readonly validUntilMs: number };
}

export function hasAccessManager(keyset: Keyset): boolean {
  return keyset.secretKey.length > 0;
}
