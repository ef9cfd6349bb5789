import type { CommittedMessage, MessageType, StoredMessage } from '../store/types.ts';
import type { Matched } from './hub.ts';

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

/** A committed message's envelope (stored when it was published with store). */
export function envelopeOf(m: CommittedMessage, region: number): Envelope {
  return createEnvelope(
    {
      subscribeKey: m.subscribeKey, channel: m.channel, timetoken: m.timetoken, publisher: m.publisher, payload: m.payload,
      meta: m.meta, customMessageType: m.customMessageType, type: m.type, stored: m.store,
    },
    region,
  );
}

export function envelopeFromStored(m: StoredMessage, region: number): Envelope {
  return createEnvelope({ ...m, stored: true }, region);
}

/** The envelope as one element of a subscribe answer's `m` array. */
export function wireFor(env: Envelope, via: string | null): string {
  return via === null ? env.wire + '}' : `${env.wire},"b":${JSON.stringify(via)}}`;
}

/**
 * Builds subscribe answer bodies (wire-protocol.md §3: `{"t":{"t":…,"r":…},"m":[…]}`) as bytes. Polls at
 * the same cursor are handed the same items array (Hub.read), so recent bodies are kept and reused for
 * them: a fan-out to N subscribers encodes its answer once per cursor, and those sockets are written the
 * same buffer. (Only recent ones: an entry keeps its items alive, and they are compared by identity.)
 */
export class AnswerEncoder {
  /** The last few bodies, newest last; an items array from the hub's memo is answered many times. */
  private readonly recent: Array<{ items: readonly Matched[]; timetoken: bigint; body: Buffer }> = [];

  constructor(private readonly region: number) {}

  encode(timetoken: bigint, items: readonly Matched[]): Buffer {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i];
      if (r.items === items && r.timetoken === timetoken) return r.body;
    }
    let body = `{"t":{"t":"${timetoken}","r":${this.region}},"m":[`;
    for (let i = 0; i < items.length; i++) body += (i > 0 ? ',' : '') + wireFor(items[i].env, items[i].via);
    const bytes = Buffer.from(body + ']}', 'utf8');
    if (items.length > 0) {
      if (this.recent.length >= RECENT_BODIES) this.recent.shift();
      this.recent.push({ items, timetoken, body: bytes });
    }
    return bytes;
  }
}

/** Bodies AnswerEncoder keeps: as many as the hub keeps reads per buffer, and then some. */
const RECENT_BODIES = 16;
