import type { Envelope } from '../realtime/envelope.ts';
import type { Matched } from '../realtime/hub.ts';

/**
 * Subscribe's wire format (wire-protocol.md §3): one message of an answer's `m` array, and whole answer
 * bodies. A message is encoded once, on first use, and kept on its envelope (Envelope.encoded), so a
 * fan-out to N subscribers costs N string joins, not N JSON.stringify calls; `b` is appended per
 * subscriber when it matched through a group or wildcard.
 */

/** The message as one element of an answer's `m` array, without its closing brace; made once per envelope. */
function encodedMessage(env: Envelope): string {
  const cached = env.encoded;
  if (cached !== undefined) return cached;
  let wire = '{"a":"1","f":0';
  if (env.publisher !== null) wire += `,"i":${JSON.stringify(env.publisher)}`;
  wire += `,"p":{"t":"${env.timetoken}","r":${env.region}},"k":${JSON.stringify(env.subscribeKey)},"c":${JSON.stringify(env.channel)},"d":${env.payload}`;
  if (env.meta !== null) wire += `,"u":${env.meta}`;
  if (env.customMessageType !== null) wire += `,"cmt":${JSON.stringify(env.customMessageType)}`;
  // wire-protocol.md §0.3: never e:0; plain messages and presence events carry no `e`.
  if (env.type !== 0) wire += `,"e":${env.type}`;
  env.encoded = wire;
  return wire;
}

/** The envelope as one element of a subscribe answer's `m` array; `via` is its `b` (group or wildcard), or null. */
export function wireFor(env: Envelope, via: string | null): string {
  const wire = encodedMessage(env);
  return via === null ? wire + '}' : `${wire},"b":${JSON.stringify(via)}}`;
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
