import type { IncomingMessage, ServerResponse } from 'node:http';
import PubNub from 'pubnub';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';

/**
 * The secure chat demo's app server: what a customer's own backend does. It holds the secret key,
 * reaches Parley only through the official SDK, and grants a visitor read+write on the chat channel
 * for a limited time.
 *  - v3: the page asks over HTTP (/demo/api/token) and gets a token authorized to its user ID.
 *  - v2: the page makes its own auth key and publishes a login request on LOGIN_CHANNEL (write-only for
 *    everyone); this server grants that auth key and acknowledges on the page's ack channel. No secret
 *    travels back to the browser.
 */
export const LOGIN_CHANNEL = 'demo-login';
export const ACK_PREFIX = 'demo-ack.';
/**
 * The v2 rendezvous grants (write on LOGIN_CHANNEL, read on the acks) last this long and are renewed
 * while the app server runs, so none outlives it by more than this: no demo grant is permanent.
 */
export const RENDEZVOUS_TTL_MINUTES = 60;
const RENDEZVOUS_RENEW_MS = (RENDEZVOUS_TTL_MINUTES * 60_000) / 3;
/** stop() withdraws the rendezvous grants; it waits this long at most (the grants expire anyway). */
const WITHDRAW_TIMEOUT_MS = 2000;

/** A time source (src/clock.ts's Clock, by shape: the demo imports nothing of Parley's core). */
export interface DemoClock {
  nowMs(): number;
}

export interface DemoAppServerOptions {
  /** Parley's base URL as this server reaches it, e.g. http://127.0.0.1:8080. */
  parleyUrl: string;
  keyset: Keyset;
  channel: string;
  grantTtlMinutes: number;
  log: Logger;
  /** Where the expiry told to the page is read from (the clock Parley expires grants by); Date.now by default. */
  clock?: DemoClock;
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
const AUTH_KEY = /^[A-Za-z0-9_-]{16,128}$/;

export class DemoAppServer {
  private readonly pubnub: InstanceType<typeof PubNub>;
  private readonly o: DemoAppServerOptions;
  private readonly clock: DemoClock;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(o: DemoAppServerOptions) {
    this.o = o;
    this.clock = o.clock ?? { nowMs: () => Date.now() };
    this.pubnub = new PubNub({
      publishKey: o.keyset.publishKey,
      subscribeKey: o.keyset.subscribeKey,
      secretKey: o.keyset.secretKey,
      userId: 'demo-app-server',
      origin: new URL(o.parleyUrl).host,
      ssl: new URL(o.parleyUrl).protocol === 'https:',
      logVerbosity: false,
      // The legacy loop has no retry back-off: the server's own subscription reconnects at once.
      enableEventEngine: false,
    } as ConstructorParameters<typeof PubNub>[0]);
  }

  /** Public config for the page: keys it may know, never the secret. */
  pageConfig(): Record<string, unknown> {
    return {
      publishKey: this.o.keyset.publishKey,
      subscribeKey: this.o.keyset.subscribeKey,
      channel: this.o.channel,
      loginChannel: LOGIN_CHANNEL,
      ackPrefix: ACK_PREFIX,
      grantTtlMinutes: this.o.grantTtlMinutes,
      parleyOrigin: new URL(this.o.parleyUrl).host,
    };
  }

  async start(): Promise<void> {
    // v2 mode's rendezvous: anyone may write a login request; anyone may read acks (they carry no secret).
    await this.grantRendezvous(true);
    this.renewTimer = setInterval(() => {
      this.grantRendezvous(true).catch((err: unknown) => this.o.log.warn({ err }, 'demo rendezvous grant renewal failed'));
    }, RENDEZVOUS_RENEW_MS);
    this.renewTimer.unref();
    this.pubnub.addListener({
      message: (m) => {
        if (m.channel === LOGIN_CHANNEL) void this.onLoginRequest(m.message as Record<string, unknown>);
      },
    });
    this.pubnub.subscribe({ channels: [LOGIN_CHANNEL] });
    this.o.log.info({ channel: this.o.channel }, 'demo app server ready');
  }

  /** Withdraws the rendezvous grants (best effort, bounded: they expire within RENDEZVOUS_TTL_MINUTES anyway). */
  async stop(): Promise<void> {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    this.pubnub.unsubscribeAll();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, WITHDRAW_TIMEOUT_MS)));
    await Promise.race([this.grantRendezvous(false).catch(() => undefined), late]);
    clearTimeout(timer);
    this.pubnub.destroy();
  }

  /** Every v2 grant the demo makes carries a TTL (the rendezvous, renewed; logins, grantTtlMinutes). */
  private async grantRendezvous(on: boolean): Promise<void> {
    await this.pubnub.grant({ channels: [LOGIN_CHANNEL], read: false, write: on, ttl: RENDEZVOUS_TTL_MINUTES });
    await this.pubnub.grant({ channels: [`${ACK_PREFIX}*`], read: on, write: false, ttl: RENDEZVOUS_TTL_MINUTES });
  }

  /** v3: a token for this user ID, read+write on the chat channel, for grantTtlMinutes. */
  async issueToken(userId: string): Promise<{ token: string; expiresAt: number }> {
    const token = await this.pubnub.grantToken({
      ttl: this.o.grantTtlMinutes,
      authorized_uuid: userId,
      resources: { channels: { [this.o.channel]: { read: true, write: true } } },
    });
    return { token, expiresAt: this.clock.nowMs() + this.o.grantTtlMinutes * 60_000 };
  }

  async revokeToken(token: string): Promise<void> {
    await this.pubnub.revokeToken(token);
  }

  /** v2: grant (or, all false, withdraw) an auth key on the chat channel; always with a TTL. */
  async grantAuthKey(authKey: string, on: boolean): Promise<void> {
    await this.pubnub.grant({
      channels: [this.o.channel],
      authKeys: [authKey],
      read: on,
      write: on,
      ttl: this.o.grantTtlMinutes,
    });
  }

  private async onLoginRequest(msg: Record<string, unknown>): Promise<void> {
    const { action, authKey, ackChannel } = msg ?? {};
    if (typeof authKey !== 'string' || !AUTH_KEY.test(authKey)) return;
    if (typeof ackChannel !== 'string' || !ackChannel.startsWith(ACK_PREFIX) || ackChannel.length > 90) return;
    try {
      if (action === 'logout') {
        await this.grantAuthKey(authKey, false);
        await this.pubnub.publish({ channel: ackChannel, message: { action: 'logout', ok: true } });
      } else {
        await this.grantAuthKey(authKey, true);
        const expiresAt = this.clock.nowMs() + this.o.grantTtlMinutes * 60_000;
        await this.pubnub.publish({ channel: ackChannel, message: { action: 'login', ok: true, expiresAt } });
      }
    } catch (err) {
      this.o.log.warn({ err }, 'demo login request failed');
    }
  }

  /** /demo/api/* — answers and returns true when the path is ours. */
  async handleHttp(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const send = (status: number, body: unknown): true => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
      return true;
    };
    if (path === '/demo/api/config' && req.method === 'GET') return send(200, this.pageConfig());
    if (req.method !== 'POST' || (path !== '/demo/api/token' && path !== '/demo/api/revoke')) return false;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readSmallBody(req)) as Record<string, unknown>;
    } catch {
      return send(400, { error: 'body must be JSON' });
    }
    try {
      if (path === '/demo/api/token') {
        if (typeof body.userId !== 'string' || !USER_ID.test(body.userId)) return send(400, { error: 'userId must be 1-64 of A-Z a-z 0-9 _ . @ -' });
        return send(200, await this.issueToken(body.userId));
      }
      if (typeof body.token !== 'string' || body.token.length > 4096) return send(400, { error: 'token is required' });
      await this.revokeToken(body.token);
      return send(200, { ok: true });
    } catch (err) {
      this.o.log.warn({ err }, 'demo api call failed');
      return send(502, { error: 'Parley refused the request' });
    }
  }
}

function readSmallBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      data += c;
      if (data.length > 8192) {
        reject(new Error('body too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
