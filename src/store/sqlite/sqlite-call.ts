import { ParleyError } from '../../errors.ts';

/**
 * Every SQLite failure (SQLITE_BUSY past busy_timeout, I/O error, closed connection, constraint)
 * becomes STORE_UNAVAILABLE with the original as `cause`. A ParleyError thrown on purpose (e.g. batch
 * validation) passes through untouched.
 */
export function toStoreError(operation: string, err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  return new ParleyError('STORE_UNAVAILABLE', `sqlite ${operation} failed${code === undefined ? '' : ` (${code})`}`, {
    cause: err,
  });
}

/** Runs a synchronous better-sqlite3 call and turns a throw into a rejected promise of toStoreError. */
export async function sqliteCall<T>(operation: string, fn: () => T): Promise<T> {
  try {
    return fn();
  } catch (err) {
    throw toStoreError(operation, err);
  }
}
