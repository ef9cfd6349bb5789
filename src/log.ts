import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LogDestination } from './log-destination.ts';

export type { Logger };
export { LogDestination };

/** Paths that may carry credentials; redaction is the second line of defence after never logging them. */
export const REDACT_PATHS = [
  'secretKey',
  '*.secretKey',
  'auth',
  '*.auth',
  'token',
  '*.token',
  'signature',
  '*.signature',
  'query.auth',
  'query.signature',
  'query.token',
  'keysets[*].secretKey',
  'previousSecretKey',
  '*.previousSecretKey',
  'keysets[*].previousSecretKey',
  // A Redis URL may hold a password; ioredis errors carry the command's arguments (auth keys in grant fields).
  'redis.url',
  '*.redis.url',
  'err.command.args',
];

const REDACTED = '[redacted]';

/** Query parameters whose value is a credential (wire-protocol.md: `auth` key or token, request `signature`). */
const SECRET_PARAMS = new Set(['auth', 'signature', 'token']);

/**
 * A value shaped like a credential: 64 or more base64url characters, as every v3 token (at least 64,
 * access/token/verify.ts MIN_TOKEN_LENGTH) and any long random auth key. A channel name of that shape is
 * redacted too; in a log line that costs nothing.
 */
const CREDENTIAL_SHAPE = /^[A-Za-z0-9_-]{64,}={0,2}$/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function looksLikeCredential(text: string): boolean {
  return text.length >= 64 && (CREDENTIAL_SHAPE.test(text) || CREDENTIAL_SHAPE.test(decode(text)));
}

/**
 * A request path fit for a log line: the token of a revoke (`DELETE /v3/pam/{sub}/grant/{token}`), a
 * non-zero signature segment of publish/signal (`/publish/{pub}/{sub}/{signature}/…`) and any segment
 * shaped like a token become `[redacted]`. Everything else is kept as sent, still percent-encoded.
 */
export function redactPath(rawPath: string): string {
  if (typeof rawPath !== 'string') return rawPath;
  const segments = rawPath.split('/');
  let changed = false;
  for (let i = 1; i < segments.length; i++) {
    const isRevokedToken = i === 5 && segments[1] === 'v3' && segments[2] === 'pam' && segments[4] === 'grant';
    const isSignature = i === 4 && (segments[1] === 'publish' || segments[1] === 'signal') && segments[4] !== '0';
    const isDownloadToken = i === 5 && segments[1] === 'v1' && segments[2] === 'files' && segments[4] === 'download';
    if (isRevokedToken || isSignature || isDownloadToken || looksLikeCredential(segments[i])) {
      segments[i] = REDACTED;
      changed = true;
    }
  }
  return changed ? segments.join('/') : rawPath;
}

/**
 * A raw query string fit for a log line: the values of `auth`, `signature` and `token` (names compared
 * after percent-decoding, case-insensitively, so `%61uth` is caught too) and any value shaped like a
 * token become `[redacted]`. Order and the other parameters are kept as sent.
 */
export function redactQuery(rawQuery: string): string {
  if (typeof rawQuery !== 'string' || rawQuery === '') return rawQuery;
  return rawQuery
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (SECRET_PARAMS.has(decode(name).toLowerCase()) || looksLikeCredential(value)) return `${name}=${REDACTED}`;
      return part;
    })
    .join('&');
}

/** A request URL (path and query) fit for a log line: redactPath + redactQuery. */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return url;
  const q = url.indexOf('?');
  return q < 0 ? redactPath(url) : `${redactPath(url.slice(0, q))}?${redactQuery(url.slice(q + 1))}`;
}

/** `redis://user:password@host` → `redis://user:[redacted]@host` (any URL; one without a password is unchanged). */
export function redactUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, `$1:${REDACTED}@`);
}

/** Fields that hold request paths and URLs pass through the redactors whatever logs them. */
export const LOG_SERIALIZERS = {
  path: (v: unknown) => (typeof v === 'string' ? redactPath(v) : v),
  url: (v: unknown) => (typeof v === 'string' ? redactUrl(v) : v),
  rawPath: (v: unknown) => (typeof v === 'string' ? redactPath(v) : v),
  rawQuery: (v: unknown) => (typeof v === 'string' ? redactQuery(v) : v),
  req: (v: unknown) => {
    if (typeof v !== 'object' || v === null || typeof (v as { url?: unknown }).url !== 'string') return v;
    const req = v as { method?: unknown; url: string };
    return { method: req.method, url: redactUrl(req.url) };
  },
};

/**
 * The root logger. Without a destination it writes to stdout through a LogDestination: a dead or
 * stalled reader of stdout never throws into the logger nor blocks the process (log-destination.ts).
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'parley' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: LOG_SERIALIZERS,
  };
  return pino(opts, options.destination ?? new LogDestination({ fd: 1 }));
}
