import type { Broker, CommittedMessage, ControlEvent, HealthReport, MessageStore, OutgoingMessage, StoredMessage } from '../store/types.ts';
import type { TimetokenGenerator } from './timetoken.ts';

/**
 * The embedded engine's broker: one node, so timetokens come from the node's generator, history from
 * the local MessageStore, and "every node" is this one. Control events have nowhere to go.
 */
export class LocalBroker implements Broker {
  private handler: (batch: readonly CommittedMessage[]) => void = () => {};

  constructor(private readonly deps: { messages: MessageStore; timetokens: TimetokenGenerator }) {}

  async commit(batch: readonly OutgoingMessage[]): Promise<bigint[]> {
    // Plain loops and literal objects: this runs for every publish.
    const committed: CommittedMessage[] = new Array(batch.length);
    const timetokens: bigint[] = new Array(batch.length);
    let storedCount = 0;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      const timetoken = this.deps.timetokens.next();
      timetokens[i] = timetoken;
      committed[i] = {
        subscribeKey: m.subscribeKey, channel: m.channel, publisher: m.publisher, payload: m.payload, meta: m.meta,
        customMessageType: m.customMessageType, type: m.type, store: m.store, expiresAtMs: m.expiresAtMs, timetoken,
      };
      if (m.store) storedCount++;
    }
    if (storedCount > 0) {
      const rows: StoredMessage[] = [];
      for (const m of committed) {
        if (!m.store) continue;
        rows.push({
          subscribeKey: m.subscribeKey, channel: m.channel, timetoken: m.timetoken, publisher: m.publisher ?? '',
          payload: m.payload, meta: m.meta, customMessageType: m.customMessageType, type: m.type, expiresAtMs: m.expiresAtMs,
        });
      }
      await this.deps.messages.append(rows);
    }
    // Fan-out right after the publishers are answered, not before: this runs inside the pipeline's
    // flush, and a nextTick queued here runs once the microtasks that write the `[1,"Sent",tt]` answers
    // have run, still before any I/O. A publisher is not kept waiting for a fan-out to N subscribers
    // (it publishes again sooner, and subscribers get more per answer), and batches are still handed to
    // the hub in commit order, each after its append resolved (docs/invariants.md 2).
    process.nextTick(this.deliver, committed);
    return timetokens;
  }

  private readonly deliver = (committed: readonly CommittedMessage[]): void => this.handler(committed);

  onMessages(handler: (batch: readonly CommittedMessage[]) => void): void {
    this.handler = handler;
  }

  async broadcast(_event: ControlEvent): Promise<void> {}
  onControl(_handler: (event: ControlEvent) => void): void {}
  isHealthy(): boolean {
    return true;
  }
  onResync(_handler: () => void): void {}
  async ready(): Promise<void> {}
  /** Nothing of its own can fail: history appends go to the MessageStore, whose health the store reports. */
  async health(): Promise<HealthReport> {
    return { ok: true };
  }
  async close(): Promise<void> {}
}
