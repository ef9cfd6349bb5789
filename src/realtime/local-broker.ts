import type { Broker, CommittedMessage, ControlEvent, HealthReport, MessageStore, OutgoingMessage } from '../store/types.ts';
import type { TimetokenGenerator } from './timetoken.ts';

/**
 * The embedded engine's broker: one node, so timetokens come from the node's generator, history from
 * the local MessageStore, and "every node" is this one. Control events have nowhere to go.
 */
export class LocalBroker implements Broker {
  private handler: (batch: readonly CommittedMessage[]) => void = () => {};

  constructor(private readonly deps: { messages: MessageStore; timetokens: TimetokenGenerator }) {}

  async commit(batch: readonly OutgoingMessage[]): Promise<bigint[]> {
    const committed: CommittedMessage[] = batch.map((m) => ({ ...m, timetoken: this.deps.timetokens.next() }));
    const stored = committed.filter((m) => m.store);
    if (stored.length > 0) {
      await this.deps.messages.append(
        stored.map((m) => ({
          subscribeKey: m.subscribeKey, channel: m.channel, timetoken: m.timetoken, publisher: m.publisher ?? '',
          payload: m.payload, meta: m.meta, customMessageType: m.customMessageType, type: m.type, expiresAtMs: m.expiresAtMs,
        })),
      );
    }
    this.handler(committed);
    return committed.map((m) => m.timetoken);
  }

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
