/**
 * Minting v3 tokens: sig = HMAC-SHA256(secretKey, CBOR of the map without sig) (§8.5
 * recommendation), appended as the last map entry so verification can HMAC the raw bytes
 * (codec.ts header comment).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
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

/**
 * The token string the SDKs' setToken/parseToken take: base64url WITH `=` padding, as PubNub issues
 * it (§8.5): the Python, Swift and C# parsers decode strictly and fail on an unpadded token whose
 * length mod 4 is 2 or 3. Every spelling is accepted on input as the same token (verify.ts
 * tokenBytes); the denylist keys on the signature bytes, so revoking one spelling revokes all.
 */
export function signToken(secretKey: string, claims: TokenClaims): string {
  return paddedBase64Url(signTokenBytes(secretKey, claims));
}

export function paddedBase64Url(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

/** Random bytes in a token's nonce: 128 bits, so two tokens never share a denylist id by chance. */
export const TOKEN_NONCE_BYTES = 16;

/**
 * A fresh nonce for TokenClaims.nonce: base64url text (22 characters), not raw bytes, because the
 * Python SDK's parse_token decodes every byte-string value but `sig` as UTF-8 (codec.ts header).
 */
export function newTokenNonce(): string {
  return randomBytes(TOKEN_NONCE_BYTES).toString('base64url');
}

/** Denylist identifier of a token: hex SHA-256 of its signature bytes (store/types.ts DenyListEntry). */
export function tokenIdOf(signature: Uint8Array): string {
  return createHash('sha256').update(signature).digest('hex');
}
