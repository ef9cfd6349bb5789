import type { Logger } from '../log.ts';
import type { Broker, CommittedMessage, OutgoingMessage } from '../store/types.ts';
import { ParleyError } from '../errors.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { Hub } from './hub.ts';

export type PublishInput = OutgoingMessage;

interface Pending {
  message: OutgoingMessage;
  resolve: (tt: bigint) => void;
  reject: (err: unknown) => void;
}

/**
 * The publish path after authorization: commit (timetoken, persist, broadcast) → fan out, in that order
 * (docs/invariants.md). Publishes of one event-loop turn are coalesced into one broker commit (one store
 * transaction), and the broker hands committed batches to the hub in commit order, so subscribers see
 * timetokens ascending per channel and a cursor never skips a message that is not yet visible.
 */
export class PublishPipeline {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  published = 0;

  constructor(private readonly deps: { broker: Broker; hub: Hub; log: Logger; region: number; observe?: (tt: bigint) => void }) {
    deps.broker.onMessages((batch) => this.deliver(batch));
  }

  /** Resolves with the timetoken once the message is durable (if stored) and handed to subscribers. */
  publish(message: PublishInput): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          const batch = this.queue;
          this.queue = [];
          this.flushing = this.flushing.then(() => this.flush(batch));
        });
      }
    });
  }

  /** Waits until everything queued so far is committed (graceful stop). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) await new Promise((r) => setImmediate(r));
    await this.flushing;
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const tts = await this.deps.broker.commit(batch.map((p) => p.message));
      this.published += batch.length;
      batch.forEach((p, i) => p.resolve(tts[i]));
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
    const envs: Envelope[] = batch.map((m) => createEnvelope({ ...m, stored: m.store }, this.deps.region));
    try {
      this.deps.hub.deliver(envs);
    } catch (err) {
      this.deps.log.error({ err }, 'fan-out failed');
    }
  }
}
