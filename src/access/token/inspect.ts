/**
 * What a token is now, for the operator console (POST /v1/admin/{sub}/token/inspect): the signature
 * first, under every secret the keyset accepts at nowMs (after a rotation, the previous one within its
 * window), then revocation, the epoch, expiry and a kick of its authorized uuid, as the Access Manager's
 * check would decide them. A token whose signature fails is decoded all the same and marked unverified.
 */
import type { Keyset } from '../../keyset.ts';
import type { KickList } from '../kick-list.ts';
import type { PatternCache } from '../patterns.ts';
import { decodeTokenClaims, type TokenClaims } from './codec.ts';
import type { TokenResolver } from './token-resolver.ts';
import { checkTokenSignatureForKeyset, isTokenExpired, readVerifiedToken, tokenBytes, tokenIdOfBytes } from './verify.ts';

export type TokenState = 'valid' | 'expired' | 'revoked' | 'kicked' | 'issued_before_epoch' | 'bad_signature' | 'wrong_keyset' | 'malformed';

export interface TokenInspection {
  state: TokenState;
  /** One line for people; names no secret. */
  reason: string;
  /** Which secret verified it (after a rotation, the previous one within its window); absent unless verified. */
  signedWith?: 'current' | 'previous';
  /** The denylist id (hex SHA-256 of the signature bytes), once the signature verified. */
  tokenId?: string;
  /** The decoded claims: verified when signedWith is set, otherwise only what the bytes say. */
  claims?: TokenClaims;
}

export interface InspectionContext {
  nowMs: number;
  tokens: TokenResolver;
  patterns: PatternCache;
  kicks: KickList;
}

export function inspectToken(keyset: Keyset, token: string, { nowMs, tokens, patterns, kicks }: InspectionContext): TokenInspection {
  const bytes = tokenBytes(token);
  if (bytes === null) return { state: 'malformed', reason: 'not base64url text of a token' };
  let claims: TokenClaims;
  try {
    claims = decodeTokenClaims(bytes);
  } catch (err) {
    return { state: 'malformed', reason: `not a token: ${(err as Error).message}` };
  }
  const { check, secret } = checkTokenSignatureForKeyset(bytes, keyset, nowMs);
  if (check === 'malformed') return { state: 'malformed', reason: 'not a Parley token layout', claims };
  if (check === 'bad') {
    return tokens.signedByOtherKeyset(bytes, keyset, nowMs)
      ? { state: 'wrong_keyset', reason: 'the token was issued for another keyset', claims }
      : {
          state: 'bad_signature',
          reason: "the signature does not verify under this keyset's secret key (nor under a previous one still in its window)",
          claims,
        };
  }
  const tokenId = tokenIdOfBytes(bytes);
  const verdict = readVerifiedToken(bytes, patterns, tokenId);
  const signedWith = secret?.which;
  if (!verdict.ok) return { state: 'malformed', reason: verdict.reason, signedWith, tokenId, claims };
  const verified = verdict.token;
  const base = { signedWith, tokenId, claims: verified.claims };
  if (tokens.isRevokedId(keyset.subscribeKey, tokenId, nowMs)) return { state: 'revoked', reason: 'the token has been revoked', ...base };
  if (tokens.issuedBeforeEpoch(verified)) {
    return { state: 'issued_before_epoch', reason: 'issued before the revocation list was last initialized; issue a new token', ...base };
  }
  if (isTokenExpired(verified, nowMs)) return { state: 'expired', reason: `expired at ${new Date(verified.expiresAtMs).toISOString()}`, ...base };
  const authorized = verified.claims.authorizedUuid;
  if (authorized !== undefined && kicks.refuses(keyset.subscribeKey, authorized, verified.claims.issuedAtSec)) {
    const at = new Date(kicks.kickedAt(keyset.subscribeKey, authorized) ?? 0).toISOString();
    return { state: 'kicked', reason: `its authorized uuid was kicked at ${at}, after it was issued`, ...base };
  }
  const until = secret?.which === 'previous' ? ` (signed with the previous secret key, accepted until ${new Date(secret.validUntilMs).toISOString()})` : '';
  return { state: 'valid', reason: `valid until ${new Date(verified.expiresAtMs).toISOString()}${until}`, ...base };
}
