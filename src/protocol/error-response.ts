import { bodyIssuesOf, ERROR_CATALOG, type ErrorCode, missingOf, type ParleyError } from '../errors.ts';
import type { Missing } from '../access/types.ts';

/**
 * The only place that maps error codes to HTTP. Each endpoint family answers in its own shape
 * (wire-protocol.md §1.5, §13.A.3); the status comes from one table, exhaustive by `satisfies`.
 */
export const HTTP_STATUS = {
  ACCESS_DENIED: 403,
  TOKEN_EXPIRED: 403,
  TOKEN_REVOKED: 403,
  TOKEN_ISSUED_BEFORE_EPOCH: 403,
  TOKEN_MALFORMED: 403,
  TOKEN_BAD_SIGNATURE: 403,
  TOKEN_WRONG_KEYSET: 403,
  TOKEN_WRONG_UUID: 403,
  UUID_KICKED: 403,
  SIGNATURE_MISSING: 403,
  SIGNATURE_MISMATCH: 403,
  SIGNATURE_EXPIRED: 403,
  INVALID_KEY: 400,
  INVALID_CHANNEL: 400,
  INVALID_PARAM: 400,
  INVALID_JSON: 400,
  INVALID_TIMETOKEN: 400,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  REQUEST_TIMEOUT: 408,
  TOO_MANY_REQUESTS: 429,
  // nginx's convention for a request whose client went away; never reaches that client, only logs and metrics.
  CLIENT_CLOSED_REQUEST: 499,
  NOT_FOUND: 404,
  PRECONDITION_FAILED: 412,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  STORE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

/** Which shape an endpoint's errors take. */
export type ErrorFamily = 'publish' | 'history3' | 'pam3' | 'objects' | 'upload' | 'generic';

export interface ErrorBody {
  status: number;
  body: string;
  /** Set when the body is not JSON (the file upload answers in S3's XML). */
  contentType?: string;
}

/** PubNub's classic Access Manager 403 (§1.5), with Parley's reason inside the same object. */
export function denialBody(code: ErrorCode, message: string, missing: Missing): ErrorBody {
  const payload: Record<string, string[]> = {};
  if (missing.channels.length) payload.channels = missing.channels;
  if (missing.groups.length) payload['channel-groups'] = missing.groups;
  if (missing.uuids.length) payload.uuids = missing.uuids;
  return {
    status: 403,
    body: JSON.stringify({ message: 'Forbidden', payload, error: true, service: 'Access Manager', status: 403, code, reason: message }),
  };
}

export function errorBody(err: ParleyError, family: ErrorFamily, service: string, timetoken = '0'): ErrorBody {
  const status = HTTP_STATUS[err.code];
  if (status === 403) {
    const missing = missingOf(err) ?? { channels: [], groups: [], uuids: [] };
    return denialBody(err.code, err.message, missing);
  }
  const message = status >= 500 ? ERROR_CATALOG[err.code].message : err.message;
  switch (family) {
    case 'publish':
      return { status, body: JSON.stringify([0, message, timetoken]) };
    case 'history3':
      return { status, body: JSON.stringify({ status, error: true, error_message: message, channels: {}, code: err.code }) };
    case 'pam3': {
      const issues = bodyIssuesOf(err);
      const details = issues?.details ?? [];
      return {
        status,
        body: JSON.stringify({
          status,
          error: {
            message,
            source: issues?.source ?? 'grant',
            details: details.map((d) => ({ message: d.message, location: d.location, locationType: 'body' })),
          },
          service: 'Access Manager',
        }),
      };
    }
    case 'objects':
      // App Context answers errors as {status, error: {message, source, details?}}; the SDK keeps it as errorData.
      return { status, body: JSON.stringify({ status, error: { message, source: 'objects' }, code: err.code }) };
    case 'upload':
      // The upload stands in for PubNub's storage bucket (S3): the SDK reads <Message> out of an XML error.
      return {
        status,
        contentType: 'application/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${escapeXml(message)}</Message></Error>`,
      };
    default:
      return { status, body: JSON.stringify({ status, message, error: true, service, code: err.code }) };
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
