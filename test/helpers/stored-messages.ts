import type { StoredMessage } from '../../src/store/types.ts';

/** The stores' tests' base timetoken: past 2^53, so a timetoken that went through a double would show. */
export const BASE_TIMETOKEN = 17_000_000_000_000_000n;

/**
 * A stored message at BASE_TIMETOKEN + offset with payload `{"n":offset}`, published by `u-1`, no meta,
 * no expiry: the fixture the store tests build their histories from. `extra` overrides any field.
 */
export function storedAt(subscribeKey: string, channel: string, offset: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    subscribeKey,
    channel,
    timetoken: BASE_TIMETOKEN + BigInt(offset),
    publisher: 'u-1',
    payload: `{"n":${offset}}`,
    meta: null,
    customMessageType: null,
    type: 0,
    expiresAtMs: null,
    ...extra,
  };
}
