import type { MessageType, StoredMessage } from '../store/types.ts';

/**
 * One published event as it travels the delivery path. The wire form is serialised once per
 * message (`wire`, without its closing brace) so fan-out to N subscribers costs N string joins, not
 * N JSON.stringify calls; `b` is appended per subscriber when it matched through a group or wildcard.
 */
export interface Envelope {
  readonly subscribeKey: string;
  readonly channel: string;
  readonly timetoken: bigint;
  readonly publisher: string | null;
  /** Raw JSON text of the payload. */
  readonly payload: string;
  readonly meta: string | null;
  readonly customMessageType: string | null;
  readonly type: MessageType;
  readonly stored: boolean;
  readonly wire: string;
  /** Parsed meta for filter expressions, computed on first use. */
  parsedMeta?: Record<string, unknown> | null;
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
  const tt = input.timetoken.toString();
  let wire = '{"a":"1","f":0';
  if (input.publisher !== null) wire += `,"i":${JSON.stringify(input.publisher)}`;
  wire += `,"p":{"t":"${tt}","r":${region}},"k":${JSON.stringify(input.subscribeKey)},"c":${JSON.stringify(input.channel)},"d":${input.payload}`;
  if (input.meta !== null) wire += `,"u":${input.meta}`;
  if (input.customMessageType !== null) wire += `,"cmt":${JSON.stringify(input.customMessageType)}`;
  // wire-protocol.md §0.3: never e:0; plain messages and presence events carry no `e`.
  if (input.type !== 0) wire += `,"e":${input.type}`;
  return {
    subscribeKey: input.subscribeKey, channel: input.channel, timetoken: input.timetoken, publisher: input.publisher,
    payload: input.payload, meta: input.meta, customMessageType: input.customMessageType, type: input.type, stored: input.stored, wire,
  };
}

export function envelopeFromStored(m: StoredMessage, region: number): Envelope {
  return createEnvelope({ ...m, stored: true }, region);
}

/** The envelope as one element of a subscribe answer's `m` array. */
export function wireFor(env: Envelope, via: string | null): string {
  return via === null ? env.wire + '}' : `${env.wire},"b":${JSON.stringify(via)}}`;
}
