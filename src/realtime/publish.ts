import type { Logger } from '../log.ts';
import type { MessageStore, MessageType, StoredMessage } from '../store/types.ts';
import { ParleyError } from '../errors.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { Hub } from './hub.ts';
import type { TimetokenGenerator } from './timetoken.ts';

export interface PublishInput {
  subscribeKey: string;
  channel: string;
  publisher: string | null;
  /** Raw JSON text, already validated. */
  payload: string;
  meta: string | null;
  customMessageType: string | null;
  type: MessageType;
  store: boolean;
  /** Wall-clock ms after which the stored copy expires; null = keep. */
  expiresAtMs: number | null;
}

interface Pending {
  env: Envelope;
  expiresAtMs: number | null;
  resolve: (tt: bigint) => void;
  reject: (err: unknown) => void;
}

/** Fan-out beyond this node (Redis engine); local delivery always happens through the hub. */
export interface Relay {
  /** Sends a committed batch to other nodes. Failures are logged, never thrown at publishers. */
  forward(batch: readonly Envelope[]): void;
}

/**
 * The publish path after authorization: timetoken → persist → fan out, in that order
 * (docs/invariants.md). Publishes of one event-loop turn are coalesced: one store transaction, one
 * hub delivery, one wake-up per waiting subscriber. Batches are committed strictly in order, so
 * subscribers see timetokens ascending per channel and a cursor never skips an unflushed message.
 */
export class PublishPipeline {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private relay: Relay | null = null;
  published = 0;

  constructor(
    private readonly deps: { messages: MessageStore; hub: Hub; timetokens: TimetokenGenerator; log: Logger; region: number },
  ) {}

  setRelay(relay: Relay | null): void {
    this.relay = relay;
  }

  /** Resolves with the timetoken once the message is durable (if stored) and handed to subscribers. */
  publish(input: PublishInput): Promise<bigint> {
    const env = createEnvelope(
      {
        subscribeKey: input.subscribeKey,
        channel: input.channel,
        timetoken: this.deps.timetokens.next(),
        publisher: input.publisher,
        payload: input.payload,
        meta: input.meta,
        customMessageType: input.customMessageType,
        type: input.type,
        stored: input.store,
      },
      this.deps.region,
    );
    return new Promise<bigint>((resolve, reject) => {
      this.queue.push({ env, expiresAtMs: input.expiresAtMs, resolve, reject });
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

  /** Waits until everything queued so far is flushed (graceful stop). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) await new Promise((r) => setImmediate(r));
    await this.flushing;
  }

  private async flush(batch: Pending[]): Promise<void> {
    const toStore: StoredMessage[] = [];
    for (const p of batch) {
      if (!p.env.stored) continue;
      toStore.push({
        subscribeKey: p.env.subscribeKey,
        channel: p.env.channel,
        timetoken: p.env.timetoken,
        publisher: p.env.publisher ?? '',
        payload: p.env.payload,
        meta: p.env.meta,
        customMessageType: p.env.customMessageType,
        type: p.env.type,
        expiresAtMs: p.expiresAtMs,
      });
    }
    let storeError: unknown = null;
    if (toStore.length > 0) {
      try {
        await this.deps.messages.append(toStore);
      } catch (err) {
        storeError = err instanceof ParleyError ? err : new ParleyError('STORE_UNAVAILABLE', undefined, { cause: err });
        this.deps.log.error({ err, count: toStore.length }, 'history append failed');
      }
    }
    // A message that could not be stored is refused as a whole: the publisher gets a 5xx and may retry,
    // and no subscriber sees a message that history will never have.
    const delivered = storeError ? batch.filter((p) => !p.env.stored) : batch;
    const envs = delivered.map((p) => p.env);
    try {
      this.deps.hub.deliver(envs);
      this.relay?.forward(envs);
    } catch (err) {
      this.deps.log.error({ err }, 'fan-out failed');
    }
    this.published += delivered.length;
    for (const p of batch) {
      if (storeError && p.env.stored) p.reject(storeError);
      else p.resolve(p.env.timetoken);
    }
  }
}
