import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEnvelope, type Envelope } from '../../../src/realtime/envelope.ts';
import type { SubscribeAnswer } from '../../../src/realtime/subscription.ts';
import type { StoredMessage } from '../../../src/store/types.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';
import { subscriptionRig, turnEnd } from '../../helpers/subscriptions.ts';
import { waitFor } from '../../helpers/wait-for.ts';

/**
 * Answers go out at the end of the event-loop turn (Hub): a poll that finds messages waiting, and the
 * polls a delivery wakes, answer once the turn's I/O is done, with everything the turn brought.
 */

const KEY = 'k';

const env = (channel: string, tt: bigint): Envelope =>
  createEnvelope(
    { subscribeKey: KEY, channel, timetoken: tt, publisher: 'p', payload: `${tt}`, meta: null, customMessageType: null, type: 0, stored: true },
    1,
  );

const row = (channel: string, tt: bigint): StoredMessage => ({
  subscribeKey: KEY,
  channel,
  timetoken: tt,
  publisher: 'p',
  payload: `${tt}`,
  meta: null,
  customMessageType: null,
  type: 0,
  expiresAtMs: null,
});

function setup(bufferPerChannel: number) {
  const { hub, stores, service } = subscriptionRig({ clock: createFakeClock(), floor: 10n, bufferPerChannel });
  const answers: SubscribeAnswer[] = [];
  const open = (cursor: bigint) =>
    service.open(
      { subscribeKey: KEY, uuid: 'u', channels: ['c'], groups: [], cursor, filter: null, canRead: () => true },
      { answer: (a) => answers.push(a), recheck: () => null, denied: () => assert.fail('no denial expected') },
    );
  /** As the broker commits: stored first, then handed to the hub. */
  const publish = async (tts: bigint[]) => {
    await stores.messages.append(tts.map((tt) => row('c', tt)));
    hub.deliver(tts.map((tt) => env('c', tt)));
  };
  const timetokens = () => answers.map((a) => a.items.map((m) => m.env.timetoken));
  return { hub, open, publish, answers, timetokens };
}

test('a poll that finds messages waiting answers at the turn’s end, with what the turn published after it arrived', async () => {
  const { open, publish, answers, timetokens } = setup(100);
  await publish([20n, 21n]);
  await turnEnd();
  const handle = await open(20n);
  assert.equal(answers.length, 0, 'not before the turn ends');
  await publish([22n]);
  await publish([23n]);
  await turnEnd();
  assert.deepEqual(timetokens(), [[21n, 22n, 23n]], 'one answer carries the turn’s messages');
  assert.equal(answers[0].timetoken, 23n);
  handle instanceof Promise ? (await handle).cancel() : handle.cancel();
});

test('parked polls are woken once per turn, however many batches it delivered', async () => {
  const { open, publish, timetokens } = setup(100);
  const handles = [await open(10n), await open(10n)];
  for (let tt = 20n; tt < 25n; tt++) await publish([tt]);
  await turnEnd();
  assert.deepEqual(timetokens(), [
    [20n, 21n, 22n, 23n, 24n],
    [20n, 21n, 22n, 23n, 24n],
  ]);
  for (const h of handles) (h instanceof Promise ? await h : h).cancel();
});

test('when the turn’s publishes push memory past a waiting poll’s cursor, the rest comes from the store: nothing is lost', async () => {
  // A buffer of 10: 30 messages in one turn trim what a parked poll and a waiting poll have not seen.
  const { hub, open, publish, answers, timetokens } = setup(10);
  const parked = await open(10n);
  await publish([20n]);
  const waiting = await open(10n);
  assert.equal(hub.parkedCount(), 1);
  await publish(Array.from({ length: 29 }, (_, i) => 21n + BigInt(i)));
  await waitFor(() => answers.length === 2, 'both polls answered', 2000);
  const all = Array.from({ length: 30 }, (_, i) => 20n + BigInt(i));
  assert.deepEqual(timetokens(), [all, all]);
  assert.equal(hub.parkedCount(), 0);
  for (const h of [parked, waiting]) (h instanceof Promise ? await h : h).cancel();
});

test('a catch-up over many channels reads a share of each and answers only what it is sure of: paging through loses and repeats nothing', async () => {
  // 30 channels behind memory (floor 10), 4 stored messages each, interleaved; then newer ones in memory.
  const { hub, stores, service } = subscriptionRig({ clock: createFakeClock(), floor: 1000n, catchUpRowsPerPoll: 30 });
  const channels = Array.from({ length: 30 }, (_, i) => `c${i}`);
  const stored: StoredMessage[] = [];
  for (let k = 0; k < 4; k++) for (let i = 0; i < 30; i++) stored.push({ ...row(channels[i], BigInt(100 + k * 30 + i)), channel: channels[i] });
  await stores.messages.append(stored);
  hub.deliver([
    { ...env('c0', 2000n), channel: 'c0' },
    { ...env('c29', 2001n), channel: 'c29' },
  ]);
  await turnEnd();
  const seen: bigint[] = [];
  let cursor = 50n;
  for (let i = 0; i < 200 && seen.length < 122; i++) {
    const answers: SubscribeAnswer[] = [];
    const handle = await service.open(
      { subscribeKey: KEY, uuid: 'u', channels, groups: [], cursor, filter: null, canRead: () => true },
      { answer: (a) => answers.push(a), recheck: () => null, denied: () => assert.fail('no denial expected') },
    );
    await waitFor(() => answers.length === 1, 'an answer', 2000);
    handle.cancel();
    // With one row per channel read, an answer never reaches past the first channel that may hold more.
    assert.ok(answers[0].items.length <= 30, `answer ${i} carries ${answers[0].items.length}`);
    for (const m of answers[0].items) seen.push(m.env.timetoken);
    cursor = answers[0].timetoken;
  }
  const expected = [...stored.map((r) => r.timetoken), 2000n, 2001n].sort((a, b) => (a < b ? -1 : 1));
  assert.deepEqual(seen, expected, 'every stored message, then the newer ones from memory, each once and in order');
});
