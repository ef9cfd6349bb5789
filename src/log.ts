import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths that may carry credentials; redaction is the second line of defence after never logging them. */
export const REDACT_PATHS = [
  'secretKey', '*.secretKey', 'auth', '*.auth', 'token', '*.token', 'signature', '*.signature',
  'query.auth', 'query.signature', 'keysets[*].secretKey',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'parley' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
}
