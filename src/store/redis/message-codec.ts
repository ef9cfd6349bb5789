import type { CommittedMessage, MessageType, OutgoingMessage, StoredMessage } from '../types.ts';

/**
 * One message as JSON text: `[channel, publisher, payload, meta, customMessageType, type, store, expiresAtMs]`.
 * The same text is the history body (HASH value) and an element of the batch a commit publishes, so a
 * commit sends each message to Redis once. The payload is a JSON string inside it, so it comes back
 * byte for byte as published (never re-serialised), and expiresAtMs as a JSON number keeps fractions.
 */
type Body = [string, string | null, string, string | null, string | null, MessageType, 0 | 1, number | null];

export function encodeBody(m: Omit<OutgoingMessage, 'subscribeKey'>): string {
  const body: Body = [m.channel, m.publisher, m.payload, m.meta, m.customMessageType, m.type, m.store ? 1 : 0, m.expiresAtMs];
  return JSON.stringify(body);
}

export function encodeStoredBody(m: StoredMessage): string {
  return encodeBody({ ...m, store: true });
}

/** expiresAtMs as a ZSET score argument, '' for none (the scripts skip the expiry index then). */
export function expiryArg(expiresAtMs: number | null): string {
  return expiresAtMs === null ? '' : String(expiresAtMs);
}

export function decodeStored(subscribeKey: string, timetoken: bigint, text: string): StoredMessage {
  const b = JSON.parse(text) as Body;
  return {
    subscribeKey,
    channel: b[0],
    timetoken,
    // Server-generated events (presence) have no publisher; history stores them as '' (LocalBroker does too).
    publisher: b[1] ?? '',
    payload: b[2],
    meta: b[3],
    customMessageType: b[4],
    type: b[5],
    expiresAtMs: b[7],
  };
}

export function decodeCommitted(subscribeKey: string, timetoken: bigint, b: Body): CommittedMessage {
  return {
    subscribeKey,
    channel: b[0],
    publisher: b[1],
    payload: b[2],
    meta: b[3],
    customMessageType: b[4],
    type: b[5],
    store: b[6] === 1,
    expiresAtMs: b[7],
    timetoken,
  };
}

/**
 * A published batch: `<tt>,<tt>,…|["<subscribeKey>",[<body>,<body>,…]]`. commit.lua builds it by
 * concatenation (no JSON library call in the script); timetokens travel as decimal text.
 */
export function decodeFanout(text: string): CommittedMessage[] {
  const bar = text.indexOf('|');
  if (bar < 0) throw new Error('fanout message without timetokens');
  const timetokens = text.slice(0, bar).split(',');
  const [subscribeKey, bodies] = JSON.parse(text.slice(bar + 1)) as [string, Body[]];
  if (typeof subscribeKey !== 'string' || !Array.isArray(bodies) || bodies.length !== timetokens.length) {
    throw new Error('malformed fanout message');
  }
  return bodies.map((b, i) => decodeCommitted(subscribeKey, BigInt(timetokens[i]), b));
}

/**
 * The history scripts' channel table: each distinct channel gets a 1-based number and its three keys
 * (history, bodies, expiries) after `leadingKeys`; every row then names its channel by number.
 */
export function channelTable<T extends { channel: string }>(
  ks: { msg(channel: string): string; body(channel: string): string; mexp(channel: string): string },
  leadingKeys: string[],
  rows: readonly T[],
  rowArgs: (row: T) => string[],
): { keys: string[]; channelArgs: string[]; rowArgs: string[] } {
  const numbers = new Map<string, number>();
  const keys = [...leadingKeys];
  const perRow: string[] = [];
  for (const row of rows) {
    let n = numbers.get(row.channel);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(row.channel, n);
      keys.push(ks.msg(row.channel), ks.body(row.channel), ks.mexp(row.channel));
    }
    perRow.push(String(n), ...rowArgs(row));
  }
  return { keys, channelArgs: [String(numbers.size), ...numbers.keys()], rowArgs: perRow };
}
