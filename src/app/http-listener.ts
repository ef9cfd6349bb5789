import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Past this long waiting for in-flight requests, stop() closes every connection anyway: a client that
 * stalls mid-request must not hold the node (main.ts exits at shutdownTimeoutSec regardless). Real time,
 * not the node's Clock: it bounds real sockets, and a test's fake clock may stand still.
 */
export const FORCE_CLOSE_AFTER_MS = 5000;
/** How often a stopping listener closes the connections that became idle. */
const SWEEP_EVERY_MS = 20;

/**
 * The node's HTTP listener and what a graceful stop needs from it: the open connections (a gauge and the
 * console's figures) and the requests in flight. Contract:
 * - listen() resolves once bound and rejects with the listen error (EADDRINUSE, …); isServing is true
 *   from then until stopAccepting().
 * - stopAccepting(answerParked) refuses new connections at once, runs answerParked (the parked
 *   long-polls' answers are written then), then closes the connections with no request in flight.
 * - closed() resolves once every connection is gone: each is closed as soon as it is idle, and all of
 *   them once no request is in flight or FORCE_CLOSE_AFTER_MS after closed() was called.
 * Either stop method may be called without listen() (a node stopped before it started).
 */
export class HttpListener {
  private openConnections = 0;
  private inFlight = 0;
  private serving = false;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly server: Server) {
    // One listener function for every request and connection (each closes once): nothing allocated per request.
    const requestClosed = (): void => void this.inFlight--;
    const connectionClosed = (): void => void this.openConnections--;
    server.on('request', (_req, res) => {
      this.inFlight++;
      res.on('close', requestClosed);
    });
    server.on('connection', (socket) => {
      this.openConnections++;
      socket.setNoDelay(true);
      socket.on('close', connectionClosed);
    });
  }

  /** Open HTTP connections now. */
  get connections(): number {
    return this.openConnections;
  }

  /** Listening, and not stopping. */
  get isServing(): boolean {
    return this.serving;
  }

  /** The port listen() bound (0 before). */
  get port(): number {
    return this.boundPort;
  }

  async listen(port: number, host: string): Promise<void> {
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.serving = true;
  }

  stopAccepting(answerParked: () => void): void {
    this.serving = false;
    this.closing ??= this.closeServer();
    answerParked();
    this.server.closeIdleConnections();
  }

  async closed(): Promise<void> {
    const server = this.server;
    const closing = (this.closing ??= this.closeServer());
    // Once no request is in flight, every remaining socket is idle or has not sent a request yet.
    const started = Date.now();
    const sweep = setInterval(() => {
      if (this.inFlight === 0 || Date.now() - started > FORCE_CLOSE_AFTER_MS) server.closeAllConnections();
      else server.closeIdleConnections();
    }, SWEEP_EVERY_MS);
    await closing;
    clearInterval(sweep);
  }

  /** Stops accepting; resolves once the last connection closed (at once, with an error we ignore, when never listening). */
  private closeServer(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
