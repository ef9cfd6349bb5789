import { connect, type Socket } from 'node:net';

/** One HTTP response as read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw TCP connection to a test server on 127.0.0.1, for what fetch cannot do: send part of a body
 * and stall, come from another loopback address, or watch the server answer before the body is sent.
 */
export interface RawConnection {
  socket: Socket;
  /** The first response, once its head and its Content-Length of body have arrived. */
  response: Promise<RawResponse>;
  /** Settles when the server has closed the connection. */
  closed: Promise<void>;
  /** Resolves once `data` is handed to the kernel; never rejects (the server may close first). */
  write(data: string | Buffer): Promise<void>;
  /** Bytes written so far. */
  readonly sent: number;
}

export function rawConnect(port: number, options: { localAddress?: string } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    let sent = 0;
    let received = Buffer.alloc(0);
    let settleResponse!: { resolve: (r: RawResponse) => void; reject: (e: Error) => void };
    const response = new Promise<RawResponse>((res, rej) => (settleResponse = { resolve: res, reject: rej }));
    // A test that only looks at `closed` must not see an unhandled rejection.
    response.catch(() => {});
    const closed = new Promise<void>((res) => socket.once('close', () => res()));
    const tryParse = (): void => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (received.length - end - 4 < length) return;
      settleResponse.resolve({ status: Number(statusLine.split(' ')[1]), headers, body: received.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      tryParse();
    });
    socket.on('error', () => {});
    socket.once('close', () => settleResponse.reject(new Error(`connection closed without a whole response (got ${received.length} bytes)`)));
    socket.once('connect', () =>
      resolve({
        socket,
        response,
        closed,
        get sent() {
          return sent;
        },
        write: (data) =>
          new Promise((res) => {
            if (socket.destroyed || !socket.writable) return res();
            sent += Buffer.byteLength(data);
            socket.write(data, () => res());
          }),
      }),
    );
    socket.once('error', reject);
  });
}

/** Fails with `what` unless `p` settles within `ms` (a bound on a failure, not a timing assertion). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}
