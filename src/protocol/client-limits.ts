import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4, type Socket } from 'node:net';
import { capOf, ParleyError } from '../errors.ts';
import { errorBody } from './error-response.ts';

/**
 * Caps on what one client address, and all clients together, may hold open on a node: connections
 * and subscribe long-polls (docs/security.md "Limits"). A connection over its cap is answered one 429
 * at accept time and closed; a long-poll over its cap is a 429 in the subscribe's error shape.
 */
export interface ClientLimitsOptions {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxLongPolls: number;
  maxLongPollsPerAddress: number;
  /** The client address comes from the last X-Forwarded-For hop; per-address connection caps are off. */
  trustProxy: boolean;
  /** Told about every connection refused, with the limits.* setting that refused it. */
  onRefusal: (labels: { cap: string }) => void;
}

/**
 * The key the per-address caps count under. IPv4 as is (an IPv4-mapped IPv6 address, as a dual-stack
 * socket reports IPv4 peers, is its IPv4 address); IPv6 by its /64, since one client routinely holds
 * a whole /64 and could otherwise start every cap afresh from each address in it.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  const bare = address.split('%')[0];
  if (isIP(bare) !== 6) return address;
  const groups = (text: string): string[] => {
    if (text === '') return [];
    const out = text.split(':');
    // An embedded IPv4 tail (`64:ff9b::1.2.3.4`) stands for two groups.
    if (out[out.length - 1].includes('.')) out.splice(out.length - 1, 1, '0', '0');
    return out;
  };
  const gap = bare.indexOf('::');
  let all: string[];
  if (gap < 0) all = groups(bare);
  else {
    const head = groups(bare.slice(0, gap));
    const tail = groups(bare.slice(gap + 2));
    all = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  }
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The client address of a request: the socket's peer, or with `trustProxy` the last X-Forwarded-For
 * entry, which is the one the proxy in front appended (earlier entries are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    if (value !== undefined) {
      const last = value.slice(value.lastIndexOf(',') + 1).trim();
      if (isIP(last) !== 0) return last;
    }
  }
  return req.socket.remoteAddress ?? '';
}

function tooMany(cap: string, message: string): ParleyError {
  return new ParleyError('TOO_MANY_REQUESTS', message, { details: { cap } });
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

export class ClientLimits {
  private connections = 0;
  private readonly connectionsByAddress = new Map<string, number>();
  private longPolls = 0;
  private readonly longPollsByAddress = new Map<string, number>();
  private readonly refused = new WeakSet<Socket>();
  private lastAddress = '';
  private lastKey = addressKey('');

  constructor(private readonly o: ClientLimitsOptions) {}

  get openConnections(): number {
    return this.connections;
  }

  get openLongPolls(): number {
    return this.longPolls;
  }

  /** Open connections counted for one client address (its /64 for IPv6). */
  openConnectionsOf(address: string): number {
    return this.connectionsByAddress.get(addressKey(address)) ?? 0;
  }

  /**
   * Counts a new connection until it closes, or refuses it: one 429 is written at once (before any
   * request is read, so a client that never sends one is not waited for) and the socket is closed as
   * soon as that is flushed. Returns whether the connection was admitted.
   */
  admit(socket: Socket): boolean {
    const key = addressKey(socket.remoteAddress);
    let refusal: ParleyError | null = null;
    if (this.connections >= this.o.maxConnections) {
      refusal = tooMany('maxConnections', `this node has ${this.o.maxConnections} open connections, its limit (limits.maxConnections); retry later`);
    } else if (!this.o.trustProxy && (this.connectionsByAddress.get(key) ?? 0) >= this.o.maxConnectionsPerAddress) {
      refusal = tooMany(
        'maxConnectionsPerAddress',
        `at most ${this.o.maxConnectionsPerAddress} open connections per client address (limits.maxConnectionsPerAddress)`,
      );
    }
    if (refusal !== null) {
      this.refused.add(socket);
      this.o.onRefusal({ cap: capOf(refusal) ?? 'unknown' });
      const { status, body } = errorBody(refusal, 'generic', 'Parley');
      socket.end(
        `HTTP/1.1 ${status} Too Many Requests\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Retry-After: 1\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\n\r\n${body}`,
      );
      socket.once('finish', () => socket.destroy());
      return false;
    }
    this.connections++;
    this.connectionsByAddress.set(key, (this.connectionsByAddress.get(key) ?? 0) + 1);
    // `on`, not `once`: a socket closes once, and once() would cost a wrapper per connection.
    socket.on('close', () => {
      this.connections--;
      decrement(this.connectionsByAddress, key);
    });
    return true;
  }

  /** A connection refused at accept time: requests parsed from it before it closed are ignored. */
  isRefused(socket: Socket): boolean {
    return this.refused.has(socket);
  }

  /**
   * Takes one long-poll slot for a client address, or throws TOO_MANY_REQUESTS naming the cap. The
   * returned release may be called any number of times; the first one frees the slot.
   */
  acquireLongPoll(address: string): () => void {
    const key = this.takeLongPoll(address);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseLongPoll(key);
    };
  }

  /**
   * acquireLongPoll without the closure: returns the key the slot is counted under, which the caller
   * hands to releaseLongPoll exactly once.
   */
  takeLongPoll(address: string): string {
    if (this.longPolls >= this.o.maxLongPolls) {
      throw tooMany('maxLongPolls', `this node holds ${this.o.maxLongPolls} long-polls, its limit (limits.maxLongPolls); retry later`);
    }
    const key = this.keyOf(address);
    const held = this.longPollsByAddress.get(key) ?? 0;
    if (held >= this.o.maxLongPollsPerAddress) {
      throw tooMany(
        'maxLongPollsPerAddress',
        `at most ${this.o.maxLongPollsPerAddress} open subscribe long-polls per client address (limits.maxLongPollsPerAddress)`,
      );
    }
    this.longPolls++;
    this.longPollsByAddress.set(key, held + 1);
    return key;
  }

  releaseLongPoll(key: string): void {
    this.longPolls--;
    decrement(this.longPollsByAddress, key);
  }

  /** addressKey, remembering the last address: a client's re-polls come from the same one. */
  private keyOf(address: string): string {
    if (address !== this.lastAddress) {
      this.lastAddress = address;
      this.lastKey = addressKey(address);
    }
    return this.lastKey;
  }
}
