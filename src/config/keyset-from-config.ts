import type { Keyset } from '../keyset.ts';
import type { Config } from './schema.ts';

/**
 * The runtime Keyset of a configured one: a fresh object (the config is frozen; a runtime rotation,
 * access/secret-rotation.ts, updates the keyset's secrets in place), with previousSecretKey and its
 * ISO deadline turned into `previous`.
 */
export function keysetFromConfig(k: Config['keysets'][number]): Keyset {
  const keyset: Keyset = { publishKey: k.publishKey, subscribeKey: k.subscribeKey, secretKey: k.secretKey };
  if (k.previousSecretKey === undefined || k.previousSecretValidUntil === undefined) return keyset;
  return { ...keyset, previous: { secretKey: k.previousSecretKey, validUntilMs: Date.parse(k.previousSecretValidUntil) } };
}
