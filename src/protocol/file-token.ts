import { createHmac, timingSafeEqual } from 'node:crypto';
import { acceptedSecrets } from '../access/keyset-secrets.ts';
import { ParleyError } from '../errors.ts';
import type { Keyset } from '../keyset.ts';

/**
 * Signed, expiring file tokens. Parley stands in for PubNub's storage bucket, so it issues the two
 * kinds of presigned URL a bucket would: an upload URL (generate-upload-url, after `send_file` was
 * allowed) and a download URL (the 307 of a file download, after `download_file` was allowed). Each
 * token names one file on one channel of one keyset until a deadline; the purpose is part of the MAC
 * key, so an upload token never opens a download or the other way round.
 */
export type FileTokenPurpose = 'upload' | 'download';

/** What the token promises: one file, on one channel, until a deadline. */
export interface FileGrant {
  subscribeKey: string;
  channel: string;
  id: string;
  name: string;
  expiresAtMs: number;
}

/** The form field that carries the token (the SDK posts every form field it was given, verbatim). */
export const UPLOAD_TOKEN_FIELD = 'X-Parley-Upload-Token';
/** The upload URL's query parameter that carries the same token, read before the body. */
export const UPLOAD_TOKEN_PARAM = 'token';

/**
 * The MAC key of a keyset's upload tokens. With a secret key it is derived from it, so only this
 * deployment can mint tokens and every node accepts every other node's. A keyset without one has no
 * Access Manager: anyone may ask for an upload URL anyway, so the public keys suffice; the token
 * still binds channel, id and deadline, and an upload never replaces an existing file.
 */
function macKey(keyset: Keyset, secretKey: string, purpose: FileTokenPurpose): Buffer {
  const root = secretKey !== '' ? secretKey : `open:${keyset.publishKey}:${keyset.subscribeKey}`;
  return createHmac('sha256', root).update(`parley file ${purpose} v1`).digest();
}

/** Signed with the keyset's current secret; after a rotation, verified under the previous one too (its window). */
function mac(keyset: Keyset, purpose: FileTokenPurpose, payload: string, secretKey = keyset.secretKey): Buffer {
  return createHmac('sha256', macKey(keyset, secretKey, purpose))
    .update(payload)
    .digest();
}

/**
 * `<base64url JSON>.<base64url HMAC-SHA256>`: opaque to clients, verified before anything is read
 * from it, and only of the characters `A-Z a-z 0-9 - _ .` (the Python SDK re-sends URL parts it read
 * from a Location header both decoded and raw).
 */
export function signFileToken(keyset: Keyset, purpose: FileTokenPurpose, grant: FileGrant): string {
  const payload = Buffer.from(JSON.stringify([grant.subscribeKey, grant.channel, grant.id, grant.name, grant.expiresAtMs])).toString('base64url');
  return `${payload}.${mac(keyset, purpose, payload).toString('base64url')}`;
}

export const signUploadToken = (keyset: Keyset, grant: FileGrant): string => signFileToken(keyset, 'upload', grant);
export const signDownloadToken = (keyset: Keyset, grant: FileGrant): string => signFileToken(keyset, 'download', grant);

/**
 * Checks the signature first (over the raw payload, constant time) and only then reads the payload:
 * the keyset comes from the upload URL's path, and must match the one inside.
 */
export function verifyFileToken(token: string | undefined, purpose: FileTokenPurpose, keyset: Keyset, nowMs: number): FileGrant {
  const denied = (message: string) => new ParleyError('SIGNATURE_MISMATCH', message);
  if (token === undefined || token === '') {
    throw denied(
      purpose === 'upload'
        ? `the upload token is missing: neither the URL's ${UPLOAD_TOKEN_PARAM} parameter nor the ${UPLOAD_TOKEN_FIELD} form field carries one`
        : 'the download token is missing',
    );
  }
  const dot = token.indexOf('.');
  if (dot < 0) throw denied(`the ${purpose} token is malformed`);
  const payload = token.slice(0, dot);
  // Compared as text, so a token has exactly one valid spelling (base64 padding bits included).
  const signature = Buffer.from(token.slice(dot + 1));
  let verified = false;
  for (const candidate of acceptedSecrets(keyset, nowMs)) {
    const expected = Buffer.from(mac(keyset, purpose, payload, candidate.secretKey).toString('base64url'));
    if (signature.length === expected.length && timingSafeEqual(signature, expected)) verified = true;
  }
  if (!verified) throw denied(`the ${purpose} token does not verify`);
  const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string, string, string, number];
  const [subscribeKey, channel, id, name, expiresAtMs] = fields;
  if (subscribeKey !== keyset.subscribeKey) throw denied(`the ${purpose} token is for another keyset`);
  if (nowMs >= expiresAtMs) throw new ParleyError('SIGNATURE_EXPIRED', `the ${purpose} URL has expired; ask for a new one`);
  return { subscribeKey, channel, id, name, expiresAtMs };
}

export const verifyUploadToken = (token: string | undefined, keyset: Keyset, nowMs: number): FileGrant => verifyFileToken(token, 'upload', keyset, nowMs);
export const verifyDownloadToken = (token: string | undefined, keyset: Keyset, nowMs: number): FileGrant => verifyFileToken(token, 'download', keyset, nowMs);
