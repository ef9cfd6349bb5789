/**
 * Which secrets of a keyset verify something at a given time (docs/security.md "Operator console,
 * kick and rotation"): the current secret always; the previous one, after a rotation, only while
 * nowMs < its validUntilMs. Signing always uses the current one. Callers compare every candidate in
 * constant time; the number of candidates depends only on the (public) rotation window.
 */
export interface SecretHolder {
  readonly secretKey: string;
  readonly previous?: { readonly secretKey: string; readonly validUntilMs: number };
}

export interface AcceptedSecret {
  readonly secretKey: string;
  readonly which: 'current' | 'previous';
  /** Until when this secret is accepted (ms); Infinity for the current one. */
  readonly validUntilMs: number;
}

export function acceptedSecrets(keys: SecretHolder, nowMs: number): AcceptedSecret[] {
  const out: AcceptedSecret[] = [{ secretKey: keys.secretKey, which: 'current', validUntilMs: Infinity }];
  const previous = keys.previous;
  if (previous !== undefined && previous.secretKey !== '' && nowMs < previous.validUntilMs) {
    out.push({ secretKey: previous.secretKey, which: 'previous', validUntilMs: previous.validUntilMs });
  }
  return out;
}
