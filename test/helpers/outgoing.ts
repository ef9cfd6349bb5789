import type { OutgoingMessage } from '../../src/store/types.ts';

/** A message for Broker.commit: `{n}` from alice on `channel`, stored, no expiry; `extra` overrides any field. */
export function outgoing(subscribeKey: string, channel: string, n: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    subscribeKey,
    channel,
    publisher: 'alice',
    payload: JSON.stringify({ n }),
    meta: null,
    customMessageType: null,
    type: 0,
    store: true,
    expiresAtMs: null,
    ...extra,
  };
}
