/** One PubNub-style keyset. The Access Manager is on exactly when secretKey is non-empty. */
export interface Keyset {
  readonly publishKey: string;
  readonly subscribeKey: string;
  readonly secretKey: string;
}

export function hasAccessManager(keyset: Keyset): boolean {
  return keyset.secretKey.length > 0;
}
