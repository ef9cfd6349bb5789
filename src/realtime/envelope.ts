import type { CommittedMessage, MessageType, StoredMessage } from '../store/types.ts';

/**
 * One published event as it travels the delivery path. Realtime carries it without knowing any wire
 * format: the transport encodes it (protocol/wire.ts) the first time an answer carries it and keeps
 * that encoding on the envelope (`encoded`), so a fan-out to N subscribers encodes each message once,
 * not N times.
 */
export interface Envelope {
  readonly subscribeKey: string;
  readonly channel: string;
  readonly timetoken: bigint;
  /** The region of the node that delivers it (wire-protocol.md §1.6: a cursor is a timetoken and a region). */
  readonly region: number;
  readonly publisher: string | null;
  /** Raw JSON text of the payload. */
  readonly payload: string;
  readonly meta: string | null;
  readonly customMessageType: string | null;
  readonly type: MessageType;
  readonly stored: boolean;
  /** Parsed meta for filter expressions, computed on first use. */
  parsedMeta?: Record<string, unknown> | null;
  /**
   * The transport's encoding of this message, made on first use by the transport and reused by every
   * answer that carries it; undefined until then. Nothing in realtime reads or writes it.
   */
  encoded: string | undefined;
}

export interface EnvelopeInput {
  subscribeKey: string;
  channel: string;
  timetoken: bigint;
  publisher: string | null;
  payload: string;
  meta: string | null;
  customMessageType: string | null;
  type: MessageType;
  stored: boolean;
}

export function createEnvelope(input: EnvelopeInput, region: number): Envelope {
  return {
    subscribeKey: input.subscribeKey,
    channel: input.channel,
    timetoken: input.timetoken,
    region,
    publisher: input.publisher,
    payload: input.payload,
    meta: input.meta,
    customMessageType: input.customMessageType,
    type: input.type,
    stored: input.stored,
    encoded: undefined,
  };
}

/** A committed message's envelope (stored when it was published with store). */
export function envelopeOf(m: CommittedMessage, region: number): Envelope {
  return createEnvelope(
    {
      subscribeKey: m.subscribeKey,
      channel: m.channel,
      timetoken: m.timetoken,
      publisher: m.publisher,
      payload: m.payload,
      meta: m.meta,
      customMessageType: m.customMessageType,
      type: m.type,
      stored: m.store,
    },
    region,
  );
}

export function envelopeFromStored(m: StoredMessage, region: number): Envelope {
  return createEnvelope({ ...m, stored: true }, region);
}
