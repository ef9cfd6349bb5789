import { Redis } from 'ioredis';
import { ParleyError } from '../../errors.ts';
import type { LuaScript } from './scripts.ts';

/** The slice of a pino logger the Redis engine uses (pino's Logger satisfies it). */
export interface RedisLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RedisConnectionOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** CLIENT SETNAME: lets operators (and tests) find the connection in CLIENT LIST. */
  connectionName: string;
  /** Scripts this connection runs; SCRIPT LOADed on every (re)connect. */
  scripts: readonly LuaScript[];
  /** A reply slower than this fails the call (STORE_UNAVAILABLE) instead of hanging it. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  log?: RedisLog;
}

export interface ScriptCall {
  script: LuaScript;
  keys: readonly string[];
  /** Buffers travel binary-safe (file bytes). */
  args: readonly (string | number | Buffer)[];
}

/** Reconnect backoff: 50 ms doubling to 2 s, with jitter so nodes do not reconnect in lockstep. */
function retryDelayMs(attempt: number): number {
  return Math.min(2000, 25 * 2 ** Math.min(attempt, 10)) + Math.floor(Math.random() * 25);
}

export function toStoreError(operation: string, err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  return new ParleyError('STORE_UNAVAILABLE', `redis ${operation} failed`, { cause: err });
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * One ioredis client configured to fail fast: no offline queue (a call while disconnected rejects at
 * once), in-flight calls rejected when the link drops (maxRetriesPerRequest 0) and never re-sent on
 * reconnect (a re-sent commit could be applied twice), reconnect forever with backoff. Every failure
 * becomes STORE_UNAVAILABLE with the ioredis error as cause.
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly firstAttempt: Promise<void>;
  private isFirstAttemptOver = false;
  private isClosing = false;

  constructor(private readonly options: RedisConnectionOptions) {
    this.client = new Redis(options.url, {
      connectionName: options.connectionName,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      retryStrategy: retryDelayMs,
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
    });
    // Without a listener ioredis prints every connection error to stderr.
    this.client.on('error', (err: Error) => {
      if (!this.isClosing) options.log?.warn({ err, connection: options.connectionName }, 'redis connection error');
    });
    // Calls made right after construction wait for the first connection attempt (bounded by
    // connectTimeout) rather than failing while the socket is still opening; later calls never wait.
    this.firstAttempt = new Promise((resolve) => {
      const over = () => {
        this.isFirstAttemptOver = true;
        resolve();
      };
      this.client.once('ready', over);
      this.client.once('close', over);
    });
    if (options.scripts.length > 0) this.client.on('ready', () => this.loadScripts());
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * True when the link is up and answers PING within timeoutMs (readiness checks), waiting for the first
   * connection attempt within the same bound; never rejects.
   */
  async answersPing(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const pong = (async () => {
      if (!this.isFirstAttemptOver) await this.firstAttempt;
      if (!this.isReady) return false;
      return this.client.ping().then(
        () => true,
        () => false,
      );
    })();
    try {
      return await Promise.race([pong, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs fn against the client; any failure rejects with STORE_UNAVAILABLE. */
  async run<T>(operation: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.isFirstAttemptOver) await this.firstAttempt;
    try {
      return await fn(this.client);
    } catch (err) {
      throw toStoreError(operation, err);
    }
  }

  /** One script call, by SHA; re-sent as source only if the server lost its script cache (restart, SCRIPT FLUSH). */
  script(operation: string, call: ScriptCall): Promise<unknown> {
    return this.run(operation, async (client) => {
      const argv = [...call.keys, ...call.args];
      try {
        return await client.evalsha(call.script.sha, call.keys.length, ...argv);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        return client.eval(call.script.source, call.keys.length, ...argv);
      }
    });
  }

  /**
   * Several script calls (one per keyset) in one MULTI/EXEC, so on a single Redis server they apply
   * together or not at all and no other client runs in between. Sent as source: a NOSCRIPT inside
   * EXEC cannot be retried without re-running the calls that did succeed.
   */
  scripts(operation: string, calls: readonly ScriptCall[]): Promise<unknown[]> {
    if (calls.length === 1) return this.script(operation, calls[0]).then((result) => [result]);
    return this.run(operation, async (client) => {
      const tx = client.multi();
      for (const call of calls) tx.eval(call.script.source, call.keys.length, ...call.keys, ...call.args);
      const replies = await tx.exec();
      if (replies === null) throw new Error('transaction discarded');
      return replies.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
    });
  }

  /** Quits cleanly when connected (pending replies arrive first), else drops the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.isClosing) return;
    this.isClosing = true;
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // Fall through: the link died during QUIT, so there is nothing left to flush.
      }
    }
    this.client.disconnect();
  }

  private loadScripts(): void {
    for (const script of this.options.scripts) {
      this.client.script('LOAD', script.source).catch((err: unknown) => {
        this.options.log?.warn({ err, script: script.name }, 'redis script load failed');
      });
    }
  }
}
