/**
 * Minting v3 tokens: sig = HMAC-SHA256(secretKey, CBOR of the map without sig) (§8.5
 * recommendation), appended as the last map entry so verification can HMAC the raw bytes
 * (codec.ts header comment).
 */
import { createHash, createHmac } from 'node:crypto';
import { assembleToken, encodeUnsignedToken, type TokenClaims } from './codec.ts';

/** HMAC over the signed slice. `bytes[0]` must already hold the unsigned map header. */
export function tokenHmac(secretKey: string, signed: Uint8Array): Buffer {
  return createHmac('sha256', secretKey).update(signed).digest();
}

/** Token bytes (CBOR, signature included). */
export function signTokenBytes(secretKey: string, claims: TokenClaims): Buffer {
  const unsigned = encodeUnsignedToken(claims);
  return assembleToken(unsigned, tokenHmac(secretKey, unsigned));
}

/** The token string the SDK's setToken/parseToken take: base64url without padding (§8.5). */
export function signToken(secretKey: string, claims: TokenClaims): string {
  return signTokenBytes(secretKey, claims).toString('base64url');
}

/** Denylist identifier of a token: hex SHA-256 of its signature bytes (store/types.ts DenyListEntry). */
export function tokenIdOf(signature: Uint8Array): string {
  return createHash('sha256').update(signature).digest('hex');
}
