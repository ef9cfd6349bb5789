import { ParleyError } from '../../errors.ts';
import type { StoredMessage } from '../types.ts';

const INT64_MAX = 2n ** 63n - 1n;
const MESSAGE_TYPES: ReadonlySet<unknown> = new Set([0, 1, 2, 3, 4]);

/**
 * Rejects a batch before any backend touches it, so every backend refuses the same rows and a bad
 * row can never leave half a batch behind. A bad row is a caller bug (protocol/ validates input),
 * hence INVALID_PARAM, which is not retryable, rather than STORE_UNAVAILABLE.
 */
export function validateMessageBatch(messages: readonly StoredMessage[]): void {
  messages.forEach((m, index) => {
    const problem = findProblem(m);
    if (problem !== undefined) {
      throw new ParleyError('INVALID_PARAM', `messages[${index}].${problem.field}: ${problem.reason}`, {
        details: { index, field: problem.field },
      });
    }
  });
}

function findProblem(m: StoredMessage): { field: string; reason: string } | undefined {
  if (typeof m.subscribeKey !== 'string' || m.subscribeKey === '') return { field: 'subscribeKey', reason: 'must be a non-empty string' };
  if (typeof m.channel !== 'string' || m.channel === '') return { field: 'channel', reason: 'must be a non-empty string' };
  if (typeof m.timetoken !== 'bigint' || m.timetoken < 0n || m.timetoken > INT64_MAX) {
    return { field: 'timetoken', reason: 'must be a bigint in 0..2^63-1' };
  }
  if (typeof m.publisher !== 'string') return { field: 'publisher', reason: 'must be a string' };
  if (typeof m.payload !== 'string') return { field: 'payload', reason: 'must be a string' };
  if (m.meta !== null && typeof m.meta !== 'string') return { field: 'meta', reason: 'must be a string or null' };
  if (m.customMessageType !== null && typeof m.customMessageType !== 'string') {
    return { field: 'customMessageType', reason: 'must be a string or null' };
  }
  if (!MESSAGE_TYPES.has(m.type)) return { field: 'type', reason: 'must be 0, 1, 2, 3 or 4' };
  if (m.expiresAtMs !== null && !Number.isFinite(m.expiresAtMs)) {
    return { field: 'expiresAtMs', reason: 'must be a finite number or null' };
  }
  return undefined;
}
