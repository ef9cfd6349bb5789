import type { Clock } from '../../src/clock.ts';
import { ChannelGroupService } from '../../src/realtime/channel-groups.ts';
import type { Envelope } from '../../src/realtime/envelope.ts';
import { Hub } from '../../src/realtime/hub.ts';
import { SubscriptionService } from '../../src/realtime/subscription.ts';
import { TimetokenGenerator } from '../../src/realtime/timetoken.ts';
import { createMemoryStores } from '../../src/store/memory/index.ts';
import { silentLogger } from './access.ts';

/** The end of this event-loop turn, when the hub wakes polls and they answer (Hub: answers at the turn's end). */
export const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** hub.deliver, then the turn's end: the polls it woke have answered when this resolves. */
export async function deliverAndAnswer(hub: Hub, batch: readonly Envelope[]): Promise<void> {
  hub.deliver(batch);
  await turnEnd();
}

export interface SubscriptionRigOptions {
  clock: Clock;
  /** Memory covers timetokens above it (Hub floor). Default 10. */
  floor?: bigint;
  bufferPerChannel?: number;
  longPollTimeoutMs?: number;
  /** SubscriptionOptions.catchUpRowsPerPoll. */
  catchUpRowsPerPoll?: number;
}

/**
 * A SubscriptionService wired as app/wiring.ts wires it, on a real hub, memory stores and the given
 * clock (handshakes answer the generator's now, as the single-node engines' broker does).
 */
export function subscriptionRig(o: SubscriptionRigOptions) {
  const stores = createMemoryStores();
  const floor = o.floor ?? 10n;
  const hub = new Hub({ bufferPerChannel: o.bufferPerChannel ?? 100, bufferMaxAgeMs: 60_000, floor: () => floor });
  const groups = new ChannelGroupService(stores.channelGroups);
  const timetokens = new TimetokenGenerator(o.clock);
  const service = new SubscriptionService({
    hub,
    messages: stores.messages,
    handshakes: { handshakeTimetoken: () => timetokens.now() },
    groups,
    timetokens,
    log: silentLogger,
    longPollTimeoutMs: o.longPollTimeoutMs ?? 60_000,
    maxPerAnswer: 100,
    region: 1,
    nowMs: () => o.clock.nowMs(),
    catchUpRowsPerPoll: o.catchUpRowsPerPoll,
  });
  return { stores, hub, groups, service };
}
