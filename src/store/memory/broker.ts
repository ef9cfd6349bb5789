import { ParleyError } from '../../errors.ts';
import type { Broker, CommittedMessage, ControlEvent, HealthReport, MessageStore, OutgoingMessage, StoredMessage, TimetokenSource } from '../types.ts';

export interface LocalBrokerOptions {
  /** History of the node's engine (memory or sqlite): the `store` messages of a commit are appended here. */
  messages: MessageStore;
  /** The node's timetoken generator, shared with /time and subscribe handshakes. */
  timetokens: TimetokenSource;
  /** Default `node-<pid>`. */
  nodeId?: string;
}

/**
 * The broker of the single-node engines (memory and sqlite): one node, so timetokens come from the
 * node's generator, history from the engine's MessageStore, and "every node" is this one. Control
 * events have nowhere to go.
 */
export class LocalBroker implements Broker {
  readonly nodeId: string;
  private handler: (batch: readonly CommittedMessage[]) => void = () => {};
  private isClosed = false;

  constructor(private readonly deps: LocalBrokerOptions) {
    this.nodeId = deps.nodeId ?? `node-${process.pid}`;
  }

  async commit(batch: readonly OutgoingMessage[]): Promise<bigint[]> {
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'broker is closed');
    if (batch.length === 0) return [];
    // Plain loops and literal objects: this runs for every publish.
    const committed: CommittedMessage[] = new Array(batch.length);
    const timetokens: bigint[] = new Array(batch.length);
    let storedCount = 0;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      const timetoken = this.deps.timetokens.next();
      timetokens[i] = timetoken;
      committed[i] = {
        subscribeKey: m.subscribeKey,
        channel: m.channel,
        publisher: m.publisher,
        payload: m.payload,
        meta: m.meta,
        customMessageType: m.customMessageType,
        type: m.type,
        store: m.store,
        expiresAtMs: m.expiresAtMs,
        timetoken,
      };
      if (m.store) storedCount++;
    }
    if (storedCount > 0) {
      const rows: StoredMessage[] = [];
      for (const m of committed) {
        if (!m.store) continue;
        rows.push({
          subscribeKey: m.subscribeKey,
          channel: m.channel,
          timetoken: m.timetoken,
          publisher: m.publisher ?? '',
          payload: m.payload,
          meta: m.meta,
          customMessageType: m.customMessageType,
          type: m.type,
          expiresAtMs: m.expiresAtMs,
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

  private readonly deliver = (committed: readonly CommittedMessage[]): void => {
    if (!this.isClosed) this.handler(committed);
  };

  onMessages(handler: (batch: readonly CommittedMessage[]) => void): void {
    this.handler = handler;
  }

  /** Every timetoken here is drawn from one generator, so its now() is the cut. */
  handshakeTimetoken(_subscribeKey: string): bigint {
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'broker is closed');
    return this.deps.timetokens.now();
  }

  async broadcast(_event: ControlEvent): Promise<void> {
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'broker is closed');
  }

  onControl(_handler: (event: ControlEvent) => void): void {}

  isHealthy(): boolean {
    return !this.isClosed;
  }

  onResync(_handler: () => void): void {}

  async ready(): Promise<void> {
    if (this.isClosed) throw new ParleyError('STORE_UNAVAILABLE', 'broker is closed');
  }

  /** Nothing of its own can fail: history appends go to the MessageStore, whose health the store reports. */
  async health(): Promise<HealthReport> {
    return this.isClosed ? { ok: false, reason: 'broker is closed' } : { ok: true };
  }

  async close(): Promise<void> {
    this.isClosed = true;
  }
}
