/**
 * The per-channel message log the two reference long-poll servers share (bench/baseline-longpoll-
 * server.ts, bench/floor-longpoll-server.ts): the part of Parley's semantics that costs CPU on the
 * fan-out path and that any server of this workload must do the same way, so their figures differ only
 * in the transport. Parley's own buffers are src/realtime.
 */

export const MAX_PER_ANSWER = 100;
const LOG_KEEP = 1000;
export const REGION = 1;

interface Entry {
  seq: number;
  /** The envelope as sent, serialised once at publish time. */
  wire: string;
}

export class MessageLog {
  private readonly entries: Entry[] = [];

  /** Appends a published message with sequence number `seq`; keeps the newest LOG_KEEP to 2·LOG_KEEP. */
  append(seq: number, subKey: string, channel: string, uuid: string, payload: string): void {
    const wire = `{"a":"1","f":0,"i":${JSON.stringify(uuid)},"p":{"t":"${seq}","r":${REGION}},"k":${JSON.stringify(subKey)},"c":${JSON.stringify(channel)},"d":${payload}}`;
    this.entries.push({ seq, wire });
    if (this.entries.length > 2 * LOG_KEEP) this.entries.splice(0, LOG_KEEP);
  }

  /** The subscribe answer with up to MAX_PER_ANSWER entries newer than `cursor`; null when there are none. */
  answerAfter(cursor: number): string | null {
    const log = this.entries;
    let i = log.length;
    while (i > 0 && log[i - 1].seq > cursor) i--;
    if (i === log.length) return null;
    const end = Math.min(log.length, i + MAX_PER_ANSWER);
    let body = `{"t":{"t":"${log[end - 1].seq}","r":${REGION}},"m":[`;
    for (let k = i; k < end; k++) body += (k > i ? ',' : '') + log[k].wire;
    return `${body}]}`;
  }
}

/** An answer with no messages and cursor `seq` (handshake, hold timeout). */
export const emptyAnswer = (seq: number): string => `{"t":{"t":"${seq}","r":${REGION}},"m":[]}`;
