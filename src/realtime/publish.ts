import type { Logger } from '../log.ts';
import type { Broker, CommittedMessage, OutgoingMessage } from '../store/types.ts';
import { ParleyError } from '../errors.ts';
import { envelopeOf, type Envelope } from './envelope.ts';
import type { Hub } from './hub.ts';

export type PublishInput = OutgoingMessage;

interface Pending {
  message: OutgoingMessage;
  resolve: (tt: bigint) => void;
  reject: (err: unknown) => void;
}

/**
 * The publish path after authorization: commit (timetoken, persist, broadcast) → fan out, in that order
 * (docs/invariants.md). Publishes are coalesced into broker commits (one store transaction each): those
 * of an event-loop turn into one at its end, except that a publish to a channel subscribers wait on
 * (Hub.isAwaited) is committed right after the callback that published it, with whatever is queued
 * before it. Batches
 * commit one after another and the broker hands them to the hub in commit order, so subscribers see
 * timetokens ascending per channel and a cursor never skips a message that is not yet visible.
 */
export class PublishPipeline {
  private queue: Pending[] = [];
  private flushing: Promise<void> = Promise.resolve();
  published = 0;

  constructor(private readonly deps: { broker: Broker; hub: Hub; log: Logger; region: number; observe?: (tt: bigint) => void }) {
    deps.broker.onMessages((batch) => this.deliver(batch));
  }

  /**
   * Resolves with the timetoken once the message is durable (if stored). The broker hands it to
   * subscribers after that, in commit order: the embedded one in the same turn, right after the
   * publishers' continuations; Redis once the batch comes back from it.
   */
  publish(message: PublishInput): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (this.deps.hub.isAwaited(message.subscribeKey, message.channel)) {
        // Subscribers wait for it: commit as soon as the current callback is done, so the polls read after
        // it in this turn find it instead of parking (and its fan-out is not held to the turn's end).
        if (!this.tickScheduled) {
          this.tickScheduled = true;
          process.nextTick(this.flushSoon);
        }
      } else if (!this.turnScheduled) {
        // Nobody waits: gather the turn's publishes into one commit (one store transaction).
        this.turnScheduled = true;
        setImmediate(this.flushAtTurnEnd);
      }
    });
  }

  private tickScheduled = false;
  private turnScheduled = false;

  private readonly flushSoon = (): void => {
    this.tickScheduled = false;
    this.flushQueue();
  };

  private readonly flushAtTurnEnd = (): void => {
    this.turnScheduled = false;
    this.flushQueue();
  };

  /** Commits everything queued, in order, after the batches before it. */
  private flushQueue(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(() => this.flush(batch));
  }

  /** Waits until everything queued so far is committed (graceful stop). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.tickScheduled || this.turnScheduled) await new Promise((r) => setImmediate(r));
    await this.flushing;
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const tts = await this.deps.broker.commit(batch.map((p) => p.message));
      this.published += batch.length;
      for (const [i, p] of batch.entries()) p.resolve(tts[i]);
    } catch (err) {
      // All or nothing: the publishers get a 5xx and may retry; no subscriber saw any of it.
      const perr = err instanceof ParleyError ? err : new ParleyError('STORE_UNAVAILABLE', undefined, { cause: err });
      this.deps.log.error({ err, count: batch.length }, 'publish commit failed');
      for (const p of batch) p.reject(perr);
    }
  }

  private deliver(batch: readonly CommittedMessage[]): void {
    // Other nodes' clocks may run ahead: keep /time and handshakes from falling behind delivered timetokens.
    if (this.deps.observe && batch.length > 0) this.deps.observe(batch[batch.length - 1].timetoken);
    const envs: Envelope[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) envs[i] = envelopeOf(batch[i], this.deps.region);
    try {
      this.deps.hub.deliver(envs);
    } catch (err) {
      this.deps.log.error({ err }, 'fan-out failed');
    }
  }
}
