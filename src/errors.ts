/**
 * The one error catalog. Codes are stable public identifiers: they appear in logs, metrics and
 * (inside the protocol's own error shapes) in responses. Only protocol/error-response.ts knows HTTP.
 */
export const ERROR_CATALOG = {
  ACCESS_DENIED: { message: 'No grant allows this operation', retryable: false },
  TOKEN_EXPIRED: { message: 'The token has expired', retryable: false },
  TOKEN_REVOKED: { message: 'The token has been revoked', retryable: false },
  TOKEN_ISSUED_BEFORE_EPOCH: { message: 'The token was issued before the revocation list was last initialized', retryable: false },
  TOKEN_MALFORMED: { message: 'The token could not be parsed', retryable: false },
  TOKEN_BAD_SIGNATURE: { message: 'The token signature does not verify', retryable: false },
  TOKEN_WRONG_KEYSET: { message: 'The token was issued for another keyset', retryable: false },
  TOKEN_WRONG_UUID: { message: 'The token is authorized for another uuid', retryable: false },
  UUID_KICKED: { message: 'The uuid was cut off by an operator; it needs a credential granted after the kick', retryable: false },
  SIGNATURE_MISSING: { message: 'This operation requires a request signed with the secret key', retryable: false },
  SIGNATURE_MISMATCH: { message: 'The request signature does not match', retryable: false },
  SIGNATURE_EXPIRED: { message: 'The request timestamp is outside the allowed window', retryable: false },
  INVALID_KEY: { message: 'Invalid subscribe or publish key', retryable: false },
  INVALID_CHANNEL: { message: 'Invalid channel name', retryable: false },
  INVALID_PARAM: { message: 'Invalid parameter', retryable: false },
  INVALID_JSON: { message: 'Invalid JSON', retryable: false },
  INVALID_TIMETOKEN: { message: 'Invalid timetoken', retryable: false },
  PAYLOAD_TOO_LARGE: { message: 'Message Too Large', retryable: false },
  URI_TOO_LONG: { message: 'Request URI Too Long', retryable: false },
  REQUEST_TIMEOUT: { message: 'The request body did not arrive in time', retryable: true },
  TOO_MANY_REQUESTS: { message: 'Too many open requests', retryable: true },
  CLIENT_CLOSED_REQUEST: { message: 'The client closed the connection before the request was complete', retryable: true },
  NOT_FOUND: { message: 'Resource not found', retryable: false },
  PRECONDITION_FAILED: { message: 'The stored object does not match If-Match', retryable: false },
  METHOD_NOT_ALLOWED: { message: 'Method not allowed', retryable: false },
  CONFLICT: { message: 'Already exists', retryable: false },
  STORE_UNAVAILABLE: { message: 'The storage backend is unavailable', retryable: true },
  SHUTTING_DOWN: { message: 'The server is shutting down', retryable: true },
  INTERNAL: { message: 'Internal server error', retryable: true },
} as const satisfies Record<string, { message: string; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The codes of an Access Manager refusal: each may say what was missing (a 403 in every family). */
export type DenialCode =
  | 'ACCESS_DENIED'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'TOKEN_ISSUED_BEFORE_EPOCH'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_BAD_SIGNATURE'
  | 'TOKEN_WRONG_KEYSET'
  | 'TOKEN_WRONG_UUID'
  | 'UUID_KICKED'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MISMATCH'
  | 'SIGNATURE_EXPIRED'
  | 'STORE_UNAVAILABLE';

/** The resources a refusal names, per kind (PubNub's 403 body lists them). */
export interface MissingResources {
  channels: string[];
  groups: string[];
  uuids: string[];
}

/** One problem with a request body, as the Access Manager v3 error shape lists them. */
export interface BodyIssue {
  message: string;
  location: string;
}

/** A limit that refused a request (counted in parley_cap_refusals_total by this name). */
export interface CapDetails {
  cap: string;
}

/**
 * What an error may carry besides its message, per code; a code not listed carries none. Read only
 * through capOf, missingOf and bodyIssuesOf below: protocol/error-response.ts shapes the answer from
 * them, and the cap-refusal counters (protocol/server.ts, protocol/client-limits.ts) read the cap.
 */
export interface ErrorDetailsByCode extends Record<DenialCode, { missing: MissingResources }> {
  TOO_MANY_REQUESTS: CapDetails;
  INVALID_PARAM:
    | CapDetails
    /** A v2 grant parameter that is wrong. */
    | { location: string }
    /** A v3 grant or revoke body that is wrong. */
    | { source?: 'grant' | 'revoke'; details: BodyIssue[] }
    /** A row of a message batch a store refused. */
    | { index: number; field: string };
  INVALID_JSON: { details: BodyIssue[] };
}

export type ErrorDetails<C extends ErrorCode = ErrorCode> = C extends keyof ErrorDetailsByCode ? ErrorDetailsByCode[C] : never;

export class ParleyError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'ParleyError';
  readonly code: C;
  readonly details?: ErrorDetails<C>;

  constructor(code: C, message?: string, options?: { details?: ErrorDetails<C>; cause?: unknown }) {
    super(message ?? ERROR_CATALOG[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof ParleyError;
}

/** The limit that refused a request, when a cap did. */
export function capOf(err: ParleyError): string | undefined {
  const d = err.details;
  return d !== undefined && 'cap' in d ? d.cap : undefined;
}

/** The resources an Access Manager refusal names, when it names them. */
export function missingOf(err: ParleyError): MissingResources | undefined {
  const d = err.details;
  return d !== undefined && 'missing' in d ? d.missing : undefined;
}

/** The body problems of a refused grant, revoke or JSON body, and which call it was. */
export function bodyIssuesOf(err: ParleyError): { source?: 'grant' | 'revoke'; details: BodyIssue[] } | undefined {
  const d = err.details;
  return d !== undefined && 'details' in d ? d : undefined;
}
