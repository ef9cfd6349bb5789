import { write as fsWrite } from 'node:fs';

export interface LogDestinationOptions {
  /** File descriptor to write to (1 = stdout). */
  fd: number;
  /** Bytes held while the reader is slow; lines past it are dropped and counted. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Wait before retrying a write the descriptor refused for now (EAGAIN). Default 50 ms. */
  retryDelayMs?: number;
}

/**
 * pino's destination for the process's log stream. pino's own (sonic-boom) retries a failed write
 * forever when it flushes at exit, so a log pipe whose reader died (EPIPE) kept the process from ever
 * exiting after SIGTERM, and in sync mode a stalled reader blocks the event loop. Here:
 * - write() never throws and never blocks: lines are queued and written asynchronously;
 * - a reader that is slow or stalled (EAGAIN, or a write that does not return) costs at most
 *   maxBufferedBytes of memory: lines past it are dropped, counted, and reported once writing resumes;
 * - any other write error (EPIPE, EBADF, EIO…) ends logging for the life of the process (one notice on
 *   stderr, itself unchecked) and the queue is dropped: nothing retries a dead stream;
 * - nothing is flushed at exit: whoever exits awaits drain(timeoutMs) first, which is bounded.
 */
export class LogDestination {
  private readonly fd: number;
  private readonly maxBufferedBytes: number;
  private readonly retryDelayMs: number;
  private queue: string[] = [];
  /** Bytes queued plus bytes of the write in flight. */
  private bufferedBytes = 0;
  private isWriting = false;
  private droppedLines = 0;
  private failure: string | null = null;
  private drainWaiters: Array<() => void> = [];

  constructor(options: LogDestinationOptions) {
    this.fd = options.fd;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.retryDelayMs = options.retryDelayMs ?? 50;
  }

  /** Why logging stopped (an errno code), or null while it works. */
  get brokenBy(): string | null {
    return this.failure;
  }

  /** Lines dropped since the last report (the reader was too slow). */
  get dropped(): number {
    return this.droppedLines;
  }

  get buffered(): number {
    return this.bufferedBytes;
  }

  write(line: string): boolean {
    if (this.failure !== null) return true;
    const bytes = Buffer.byteLength(line);
    if (this.bufferedBytes + bytes > this.maxBufferedBytes) {
      this.droppedLines++;
      return true;
    }
    this.queue.push(line);
    this.bufferedBytes += bytes;
    if (!this.isWriting) this.writeNext();
    return true;
  }

  /** pino's logger.flush(cb): calls back once everything queued is written, or logging has stopped. */
  flush(cb?: (err?: Error) => void): void {
    if (cb === undefined) return;
    if (this.isIdle()) cb();
    else this.drainWaiters.push(() => cb());
  }

  /** Resolves when the queue is written, logging has stopped, or timeoutMs passed, whichever comes first. */
  drain(timeoutMs: number): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
        resolve();
      };
      // Not unref'd: whoever awaits this (the exit path) must get the promise settled, not a silent exit.
      const timer = setTimeout(done, timeoutMs);
      this.drainWaiters.push(done);
    });
  }

  private isIdle(): boolean {
    return this.failure !== null || (!this.isWriting && this.queue.length === 0);
  }

  private writeNext(): void {
    if (this.queue.length === 0 && this.droppedLines > 0) {
      const line = JSON.stringify({
        level: 40,
        time: Date.now(),
        service: 'parley',
        droppedLines: this.droppedLines,
        msg: 'log lines dropped: the log reader was too slow',
      });
      this.droppedLines = 0;
      this.queue.push(line + '\n');
      this.bufferedBytes += Buffer.byteLength(line) + 1;
    }
    if (this.queue.length === 0) {
      this.isWriting = false;
      this.notifyDrained();
      return;
    }
    this.isWriting = true;
    const chunk = Buffer.from(this.queue.join(''));
    this.queue = [];
    this.send(chunk);
  }

  private send(chunk: Buffer): void {
    fsWrite(this.fd, chunk, 0, chunk.length, null, (err, written) => {
      if (this.failure !== null) return;
      if (err) {
        if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK' || err.code === 'EINTR') {
          setTimeout(() => this.send(chunk), this.retryDelayMs).unref();
          return;
        }
        this.fail(err.code ?? 'write failed');
        return;
      }
      this.bufferedBytes -= written;
      if (written < chunk.length) this.send(chunk.subarray(written));
      else this.writeNext();
    });
  }

  private fail(code: string): void {
    this.failure = code;
    this.queue = [];
    this.bufferedBytes = 0;
    this.isWriting = false;
    if (this.fd !== 2) {
      const notice = Buffer.from(`parley: writing the log failed (${code}); logging stopped\n`);
      fsWrite(2, notice, () => {});
    }
    this.notifyDrained();
  }

  private notifyDrained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
