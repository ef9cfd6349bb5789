import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { createEnvelope, type Envelope } from '../../../src/realtime/envelope.ts';
import { READ_CACHE_MAX_CHANNELS, READ_CACHE_TTL_MS, type SubscribeAnswer, type SubscribeRequest } from '../../../src/realtime/subscription.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';
import { deliverAndAnswer, subscriptionRig, turnEnd } from '../../helpers/subscriptions.ts';

const KEY = 'sub-k';

const env = (channel: string, tt: bigint, payload = `"${channel}@${tt}"`): Envelope =>
  createEnvelope({ subscribeKey: KEY, channel, timetoken: tt, publisher: 'p', payload, meta: null, customMessageType: null, type: 0, stored: true }, 1);

/** A SubscriptionService on a real hub, memory stores and a fake clock; memory covers timetokens above `floor`. */
function setup(t: TestContext, floor = 10n, bufferPerChannel = 100) {
  const clock = createFakeClock();
  const { stores, hub, groups, service } = subscriptionRig({ clock, floor, bufferPerChannel });
  const handles: { cancel(): void }[] = [];
  t.after(() => {
    for (const h of handles) h.cancel();
  });
  async function poll(req: Partial<SubscribeRequest> & { cursor: bigint }) {
    const answers: SubscribeAnswer[] = [];
    const denials: unknown[] = [];
    const handle = await service.open(
      { subscribeKey: KEY, uuid: 'u', channels: [], groups: [], filter: null, canRead: () => true, ...req },
      { answer: (a) => answers.push(a), recheck: () => null, denied: (r) => denials.push(r) },
    );
    handles.push(handle);
    await turnEnd();
    const delivered = () => answers.flatMap((a) => a.items.map((m) => [m.env.channel, m.env.timetoken, m.via]));
    return { handle, answers, denials, delivered };
  }
  const deliver = (batch: Envelope[]) => deliverAndAnswer(hub, batch);
  return { clock, stores, hub, groups, poll, deliver };
}

/** A canRead that grants the given channels and counts what it was asked. */
function reader(...channels: string[]) {
  const allowed = new Set(channels);
  const asked: string[] = [];
  return {
    allowed,
    asked,
    canRead: (ch: string) => {
      asked.push(ch);
      return allowed.has(ch);
    },
  };
}

test('a wildcard delivers only channels the credential reads; each channel is asked once per poll', async (t) => {
  const { deliver, poll } = setup(t);
  const r = reader('team.a', 'team.b');
  const p = await poll({ channels: ['team.*'], cursor: 50n, canRead: r.canRead });
  assert.equal(p.answers.length, 0);
  await deliver([env('team.hr.salaries', 100n), env('team.a', 101n), env('team.hr.salaries', 102n), env('team.b', 103n)]);
  assert.deepEqual(p.delivered(), [
    ['team.a', 101n, 'team.*'],
    ['team.b', 103n, 'team.*'],
  ]);
  assert.equal(p.answers[0].timetoken, 103n);
  assert.deepEqual(r.asked, ['team.hr.salaries', 'team.a', 'team.b']);
});

test('what a wildcard may not deliver still advances the cursor, from memory at start and on wake-up', async (t) => {
  const { deliver, poll } = setup(t);
  const warm = await poll({ channels: ['team.*'], cursor: 50n, canRead: () => true }); // creates the wildcard buffer
  await deliver([env('team.hr.salaries', 100n), env('team.hr.salaries', 101n)]);
  assert.equal(warm.answers.length, 1);

  const r = reader('team.a');
  const p = await poll({ channels: ['team.*'], cursor: 50n, canRead: r.canRead });
  assert.equal(p.answers.length, 0, 'nothing deliverable: the poll parks instead of answering');
  await deliver([env('team.hr.salaries', 102n)]);
  await deliver([env('team.hr.x', 103n)]);
  assert.equal(p.answers.length, 0);
  assert.deepEqual(r.asked, ['team.hr.salaries', 'team.hr.x'], 'cached: salaries asked once over three messages and two wake-ups');
  p.handle.interrupt();
  assert.deepEqual(p.answers, [{ timetoken: 103n, items: [], wasParked: true }], 'the empty answer moves the client past what it may not read');

  const next = await poll({ channels: ['team.*'], cursor: 103n, canRead: r.canRead });
  await deliver([env('team.a', 104n)]);
  assert.deepEqual(next.delivered(), [['team.a', 104n, 'team.*']]);
});

test('an access change clears the per-poll cache (recheckAccess)', async (t) => {
  const { hub, deliver, poll } = setup(t);
  const r = reader('team.a');
  const p = await poll({ channels: ['team.*'], cursor: 50n, canRead: r.canRead });
  await deliver([env('team.hr.salaries', 100n)]);
  r.allowed.add('team.hr.salaries');
  await deliver([env('team.hr.salaries', 101n)]);
  assert.equal(p.answers.length, 0, 'the cached answer is used until access changes');
  assert.equal(r.asked.length, 1);
  for (const w of hub.waiters(KEY)) w.recheckAccess();
  await deliver([env('team.hr.salaries', 102n)]);
  assert.deepEqual(p.delivered(), [['team.hr.salaries', 102n, 'team.*']]);
  assert.equal(r.asked.length, 2);
});

test('a cached answer is trusted for READ_CACHE_TTL_MS at most (a grant may expire mid-poll)', async (t) => {
  const { deliver, poll, clock } = setup(t);
  const r = reader('team.a');
  const p = await poll({ channels: ['team.*'], cursor: 50n, canRead: r.canRead, filter: (e) => e.payload.includes('pass') });
  await deliver([env('team.a', 100n, '"drop"')]); // readable, but the filter holds it back: the poll stays parked
  r.allowed.delete('team.a'); // the grant expires: no access-change event
  clock.advance(READ_CACHE_TTL_MS - 1);
  await deliver([env('team.a', 101n, '"drop"')]);
  assert.deepEqual(r.asked, ['team.a'], 'still within the cache lifetime');
  clock.advance(1);
  await deliver([env('team.a', 102n, '"pass"')]);
  assert.equal(p.answers.length, 0, 'asked again, and no longer readable');
  assert.deepEqual(r.asked, ['team.a', 'team.a']);
});

test('the per-poll cache holds at most READ_CACHE_MAX_CHANNELS channels, then starts over', async (t) => {
  const { deliver, poll } = setup(t, 10n, 2 * READ_CACHE_MAX_CHANNELS);
  const r = reader();
  const p = await poll({ channels: ['team.*'], cursor: 50n, canRead: r.canRead });
  const names = Array.from({ length: READ_CACHE_MAX_CHANNELS + 1 }, (_, i) => `team.c${i}`);
  await deliver(names.map((ch, i) => env(ch, 100n + BigInt(i))));
  assert.equal(r.asked.length, names.length);
  await deliver([env(names[1], 100_000n), env(names[names.length - 1], 100_001n)]);
  assert.deepEqual(r.asked.slice(names.length), [names[1]], 'the oldest answers were dropped, the newest kept');
  assert.equal(p.answers.length, 0);
});

test('presence events are never delivered through a wildcard; a direct -pnpres subscriber still gets them', async (t) => {
  const { hub, deliver, poll } = setup(t);
  const wild = await poll({ channels: ['team.*', 'team.*-pnpres'], cursor: 50n, canRead: () => true });
  const direct = await poll({ channels: ['team.a-pnpres'], cursor: 50n });
  await deliver([env('team.a-pnpres', 100n, '{"action":"join"}'), env('team.a', 101n)]);
  assert.deepEqual(wild.delivered(), [['team.a', 101n, 'team.*']]);
  assert.deepEqual(direct.delivered(), [['team.a-pnpres', 100n, null]]);
  // The hub never files a presence event under a wildcard prefix.
  const viaWildcard = hub.collect(KEY, [{ kind: 'wildcard', key: 'team.', via: 'team.*' }], 0n).items;
  assert.deepEqual(
    viaWildcard.map((m) => m.env.channel),
    ['team.a'],
  );
  // Without any canRead (a keyset without Access Manager) the rule is the same.
  const open = await poll({ channels: ['team.*'], cursor: 101n });
  await deliver([env('team.b-pnpres', 102n, '{"action":"leave"}')]);
  assert.equal(open.answers.length, 0);
  await deliver([env('team.b', 103n)]);
  assert.deepEqual(open.delivered(), [['team.b', 103n, 'team.*']]);
});

test('a channel also named directly or through a group is delivered by that source, not judged by the wildcard', async (t) => {
  const { deliver, poll, groups } = setup(t);
  await groups.add(KEY, 'payroll', ['team.hr.salaries']);
  const r = reader('team.a');
  const p = await poll({ channels: ['team.*', 'team.x'], groups: ['payroll'], cursor: 50n, canRead: r.canRead });
  await deliver([env('team.hr.salaries', 100n), env('team.x', 101n), env('team.y', 102n)]);
  assert.deepEqual(p.delivered(), [
    ['team.hr.salaries', 100n, 'payroll'],
    ['team.x', 101n, null],
  ]);
  assert.deepEqual(r.asked, ['team.y']);
});

test('catch-up from the store and wildcard memory are answered together, the wildcard part checked', async (t) => {
  const { deliver, poll, stores } = setup(t, 1000n);
  const warm = await poll({ channels: ['team.*'], cursor: 1000n, canRead: () => true });
  await deliver([env('team.hr.salaries', 1001n), env('team.a', 1002n)]);
  assert.equal(warm.answers.length, 1);
  await stores.messages.append([
    { subscribeKey: KEY, channel: 'x', timetoken: 100n, publisher: 'p', payload: '"old"', meta: null, customMessageType: null, type: 0, expiresAtMs: null },
  ]);
  const p = await poll({ channels: ['x', 'team.*'], cursor: 50n, canRead: reader('team.a').canRead });
  assert.deepEqual(p.delivered(), [
    ['x', 100n, null],
    ['team.a', 1002n, 'team.*'],
  ]);
});
