import type { Clock } from '../clock.ts';

/**
 * Timetokens: 100 ns units since the epoch, 17 digits (wire-protocol.md §1.6). Strictly increasing
 * per generator, so per channel: a reconnect with the last seen timetoken neither repeats nor skips.
 * They track real time (the SDK derives wall-clock estimates from them) and only run ahead of it
 * when more than 10,000 are drawn within one millisecond.
 */
export class TimetokenGenerator {
  private last = 0n;
  constructor(private readonly clock: Clock) {}

  next(): bigint {
    const now = BigInt(this.clock.nowMs()) * 10_000n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }

  /**
   * The current time as a cursor (handshakes, /time): never behind an issued timetoken, and every later
   * next() is strictly greater, so a poll from this cursor cannot miss a message issued in the same
   * millisecond. That makes it a handshake's cursor only where this generator issues every timetoken
   * (LocalBroker); on Redis the commit script issues them and a handshake reads its cut instead
   * (Broker.handshakeTimetoken).
   */
  now(): bigint {
    const now = BigInt(this.clock.nowMs()) * 10_000n;
    if (now > this.last) this.last = now;
    return this.last;
  }

  /** Raise the floor (e.g. after reading the newest stored timetoken at start). */
  observe(tt: bigint): void {
    if (tt > this.last) this.last = tt;
  }
}

const TT_RE = /^\d{1,19}$/;

/** Parses a wire timetoken; undefined for a malformed value. */
export function parseTimetoken(raw: string): bigint | undefined {
  if (!TT_RE.test(raw)) return undefined;
  const v = BigInt(raw);
  return v <= 9_223_372_036_854_775_807n ? v : undefined;
}
