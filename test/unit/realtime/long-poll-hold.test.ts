import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEnvelope } from '../../../src/realtime/envelope.ts';
import type { SubscribeAnswer } from '../../../src/realtime/subscription.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { deliverAndAnswer, subscriptionRig } from '../../helpers/subscriptions.ts';

/**
 * A parked poll ends with an empty answer at its cursor when its hold time is over (wire-protocol.md
 * §3: the client re-polls). The service keeps every hold in one queue with one timer; these tests check
 * the queue's contract: each poll answers once, in time order, and a poll that answers, is cancelled or
 * is interrupted first leaves the queue without a second answer.
 */

const KEY = 'k';
const HOLD_MS = 40;

function setup() {
  const { hub, service } = subscriptionRig({ clock: { nowMs: () => Date.now() }, longPollTimeoutMs: HOLD_MS });
  const answers: Array<{ who: string; answer: SubscribeAnswer }> = [];
  const poll = async (who: string, channel: string, cursor: bigint) =>
    service.open(
      { subscribeKey: KEY, uuid: who, channels: [channel], groups: [], cursor, filter: null, canRead: () => true },
      { answer: (answer) => answers.push({ who, answer }), recheck: () => null, denied: () => assert.fail('no denial expected') },
    );
  return { hub, service, answers, poll };
}

test('every parked poll ends once with an empty answer at its own cursor when its hold time is over', async () => {
  const { hub, answers, poll } = setup();
  await poll('a', 'x', 20n);
  await poll('b', 'y', 30n);
  await poll('c', 'x', 40n);
  assert.equal(hub.parkedCount(), 3);
  await waitFor(() => answers.length === 3, 'three empty answers', 3000);
  // (In the order their hold times end: parked within the same millisecond, any order.)
  const sorted = [...answers].sort((x, y) => (x.who < y.who ? -1 : 1));
  assert.deepEqual(
    sorted.map((a) => [a.who, a.answer.timetoken, a.answer.items.length]),
    [
      ['a', 20n, 0],
      ['b', 30n, 0],
      ['c', 40n, 0],
    ],
  );
  assert.equal(hub.parkedCount(), 0);
});

test('a poll answered by a delivery, cancelled or interrupted leaves the hold queue: no second answer', async () => {
  const { hub, service, answers, poll } = setup();
  await poll('delivered', 'x', 20n);
  const cancelled = await poll('cancelled', 'y', 20n);
  const interrupted = await poll('interrupted', 'z', 20n);
  await poll('held', 'w', 20n);
  await deliverAndAnswer(hub, [
    createEnvelope(
      { subscribeKey: KEY, channel: 'x', timetoken: 50n, publisher: 'p', payload: '1', meta: null, customMessageType: null, type: 0, stored: false },
      1,
    ),
  ]);
  cancelled.cancel();
  interrupted.interrupt();
  assert.deepEqual(
    answers.map((a) => [a.who, a.answer.timetoken, a.answer.items.length]),
    [
      ['delivered', 50n, 1],
      ['interrupted', 20n, 0],
    ],
  );
  await waitFor(() => answers.length === 3, 'the held poll times out', 3000);
  // A poll parked after them times out later than any of them could have: by then nothing else came.
  await poll('witness', 'v', 20n);
  await waitFor(() => answers.length === 4, 'the witness times out', 3000);
  assert.deepEqual(
    answers.map((a) => a.who),
    ['delivered', 'interrupted', 'held', 'witness'],
  );
  assert.equal(service.subscribedChannels, 0, 'every poll gave its channels back');
});
