import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, type Source, type Waiter } from '../../../src/realtime/hub.ts';
import { createEnvelope } from '../../../src/realtime/envelope.ts';
import { TimetokenGenerator } from '../../../src/realtime/timetoken.ts';
import { wildcardPrefix, wildcardPrefixesOf, channelNameProblem } from '../../../src/realtime/channel-name.ts';
import { turnEnd } from '../../helpers/subscriptions.ts';

const env = (channel: string, tt: bigint) =>
  createEnvelope(
    { subscribeKey: 'k', channel, timetoken: tt, publisher: 'p', payload: `"${channel}@${tt}"`, meta: null, customMessageType: null, type: 0, stored: true },
    1,
  );

function waiter(sources: Source[]): Waiter & { wakes: number } {
  return {
    subscribeKey: 'k',
    uuid: 'u',
    sources,
    groups: [],
    wakes: 0,
    wake() {
      this.wakes++;
    },
    interrupt() {},
    recheckAccess() {},
  };
}

test('the batches of a turn wake each waiter once, at the end of the turn, and collect returns everything newer, deduplicated', async () => {
  const hub = new Hub({ bufferPerChannel: 100, bufferMaxAgeMs: 60_000, floor: () => 10n });
  const w = waiter([
    { kind: 'channel', key: 'a', via: null },
    { kind: 'channel', key: 'a', via: 'g' },
    { kind: 'wildcard', key: 'x.', via: 'x.*' },
  ]);
  hub.park(w);
  hub.deliver([env('a', 20n), env('x.y.z', 21n)]);
  hub.deliver([env('b', 22n), env('a', 23n)]);
  assert.equal(w.wakes, 0, 'nobody is woken before the turn ends');
  await turnEnd();
  assert.equal(w.wakes, 1);
  const { items, gaps } = hub.collect('k', w.sources, 20n);
  assert.deepEqual(
    items.map((m) => [m.env.channel, m.env.timetoken, m.via]),
    [
      ['x.y.z', 21n, 'x.*'],
      ['a', 23n, null],
    ],
  );
  assert.equal(gaps.size, 0);
  hub.unpark(w);
  hub.deliver([env('a', 24n)]);
  await turnEnd();
  assert.equal(w.wakes, 1);
  assert.equal(hub.parkedCount(), 0);
});

test('trimmed buffers report a gap so older messages come from the store', () => {
  const hub = new Hub({ bufferPerChannel: 10, bufferMaxAgeMs: 60_000, floor: () => 0n });
  const batch = Array.from({ length: 25 }, (_, i) => env('a', BigInt(100 + i)));
  hub.deliver(batch);
  const src: Source[] = [{ kind: 'channel', key: 'a', via: null }];
  const { items, gaps } = hub.collect('k', src, 100n);
  assert.ok(gaps.has('a'));
  const covered = gaps.get('a') as bigint;
  // Everything newer than the coverage is in memory, contiguous.
  assert.deepEqual(
    items.map((m) => m.env.timetoken),
    batch.filter((e) => e.timetoken > covered).map((e) => e.timetoken),
  );
  assert.equal(hub.collect('k', src, covered).gaps.size, 0);
});

test('sweeping an idle buffer raises the floor instead of forgetting coverage', () => {
  const hub = new Hub({ bufferPerChannel: 10, bufferMaxAgeMs: 1, floor: () => 0n });
  hub.deliver([env('a', 50_000n)]);
  hub.sweep(10_000_000n);
  const { items, gaps } = hub.collect('k', [{ kind: 'channel', key: 'a', via: null }], 10n);
  assert.equal(items.length, 0);
  assert.equal(gaps.get('a'), 50_000n);
});

test('timetokens are 17 digits and strictly increasing, even within one millisecond', () => {
  const gen = new TimetokenGenerator({ nowMs: () => 1_795_636_868_000 });
  const a = gen.next();
  const b = gen.next();
  assert.equal(a.toString().length, 17);
  assert.ok(b > a);
  assert.ok(gen.now() >= b);
});

test('channel names and wildcards', () => {
  assert.equal(wildcardPrefix('a.*'), 'a.');
  assert.equal(wildcardPrefix('a.b.*'), 'a.b.');
  assert.equal(wildcardPrefix('a.b.c.*'), undefined);
  assert.equal(wildcardPrefix('*'), undefined);
  assert.deepEqual(wildcardPrefixesOf('a.b.c'), ['a.', 'a.b.']);
  assert.equal(channelNameProblem('..', 92), 'channel name may not be "." or ".."');
  assert.match(channelNameProblem('x*', 92) ?? '', /\*/);
  assert.equal(channelNameProblem('a.*', 92, true), undefined);
  assert.match(channelNameProblem('x'.repeat(93), 92) ?? '', /longer/);
});

test('a handshake cursor is strictly below every timetoken issued after it, within the same millisecond', () => {
  const gen = new TimetokenGenerator({ nowMs: () => 1_795_636_868_000 });
  const cursor = gen.now();
  assert.ok(gen.next() > cursor);
  const again = gen.now();
  assert.ok(gen.next() > again);
});

test('after a delivery gap, coverage restarts so older cursors read from the store', () => {
  const hub = new Hub({ bufferPerChannel: 100, bufferMaxAgeMs: 60_000, floor: () => 0n });
  hub.deliver([env('a', 100n)]);
  const src: Source[] = [
    { kind: 'channel', key: 'a', via: null },
    { kind: 'channel', key: 'never-seen', via: null },
  ];
  assert.equal(hub.collect('k', src, 50n).gaps.size, 0);
  hub.invalidateCoverage(200n);
  const { items, gaps } = hub.collect('k', src, 50n);
  assert.deepEqual(
    [...gaps.entries()],
    [
      ['a', 200n],
      ['never-seen', 200n],
    ],
  );
  assert.deepEqual(
    items.map((m) => m.env.timetoken),
    [100n],
    'memory still answers what it has; the store fills the rest',
  );
});

test('a waiter whose wake throws is reported, and the turn’s other waiters are still woken', async () => {
  const errors: unknown[] = [];
  const hub = new Hub({ bufferPerChannel: 100, bufferMaxAgeMs: 60_000, floor: () => 10n, onWakeError: (err) => errors.push(err) });
  const src: Source[] = [{ kind: 'channel', key: 'a', via: null }];
  const broken = { ...waiter(src), wake: () => assert.fail('boom') };
  const before = waiter(src);
  const after = waiter(src);
  hub.park(before);
  hub.park(broken);
  hub.park(after);
  hub.deliver([env('a', 20n)]);
  await turnEnd();
  assert.equal(before.wakes, 1);
  assert.equal(after.wakes, 1);
  assert.equal(errors.length, 1);
});

test('waitersOfGroup finds the parked polls of a group and of its presence, each once, and forgets them when they unpark', () => {
  const hub = new Hub({ bufferPerChannel: 100, bufferMaxAgeMs: 60_000, floor: () => 10n });
  const src: Source[] = [{ kind: 'channel', key: 'a', via: 'g' }];
  const member = { ...waiter(src), groups: ['g'] };
  const both = { ...waiter(src), groups: ['g', 'g-pnpres'] };
  const presenceOnly = { ...waiter([]), groups: ['g-pnpres'] };
  const other = { ...waiter(src), groups: ['h'] };
  const direct = waiter([{ kind: 'channel', key: 'a', via: null }]);
  for (const w of [member, both, presenceOnly, other, direct]) hub.park(w);
  assert.deepEqual(new Set(hub.waitersOfGroup('k', 'g')), new Set([member, both, presenceOnly]));
  assert.equal(hub.waitersOfGroup('k', 'g').length, 3);
  assert.deepEqual(hub.waitersOfGroup('k', 'h'), [other]);
  assert.deepEqual(hub.waitersOfGroup('other-keyset', 'g'), []);
  hub.unpark(both);
  hub.unpark(presenceOnly);
  assert.deepEqual(hub.waitersOfGroup('k', 'g'), [member]);
  hub.unpark(member);
  assert.deepEqual(hub.waitersOfGroup('k', 'g'), []);
  assert.equal(hub.parkedCount(), 2);
});
