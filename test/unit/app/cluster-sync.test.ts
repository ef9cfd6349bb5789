import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ClusterSync, RELOADING_REASON, UNAVAILABLE, type ClusterSyncDeps } from '../../../src/app/cluster-sync.ts';
import type { AccessChangeListener } from '../../../src/access/access-manager.ts';
import { accessKeyOf } from '../../../src/access/change-scope.ts';
import type { SecretsListener } from '../../../src/access/secret-rotation.ts';
import type { AccessChange, AccessRequest, Decision } from '../../../src/access/types.ts';
import type { Keyset } from '../../../src/keyset.ts';
import { MAX_TOKEN_TTL_MINUTES } from '../../../src/access/token/grant-body.ts';
import type { Waiter } from '../../../src/realtime/hub.ts';
import type { Broker, ControlEvent, NodeSample } from '../../../src/store/types.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const SECURED: Keyset = { publishKey: 'pub-s', subscribeKey: 'sub-s', secretKey: 'secret-s-0123456789abcdef0123456789' };
const OTHER: Keyset = { publishKey: 'pub-t', subscribeKey: 'sub-t', secretKey: 'secret-t-0123456789abcdef0123456789' };
const OPEN: Keyset = { publishKey: 'pub-o', subscribeKey: 'sub-o', secretKey: '' };
const ALLOWED: Decision = { allowed: true, credential: { kind: 'open' } };
const SAMPLE: NodeSample = { t: 1, ok: true, parkedLongPolls: 0, connections: 1, publishesPerSec: 0, deliveriesPerSec: 0, denials: {} };

/** A broker with no link of its own: the test plays the other nodes (control events) and the link (gaps, health). */
class FakeBroker implements Broker {
  readonly nodeId = 'node-test';
  readonly broadcasts: ControlEvent[] = [];
  healthy = true;
  failBroadcasts = false;
  private readonly controlHandlers: Array<(event: ControlEvent) => void> = [];
  private readonly resyncHandlers: Array<() => void> = [];

  async commit(): Promise<bigint[]> {
    return [];
  }
  onMessages(): void {}
  handshakeTimetoken(): bigint {
    return 0n;
  }
  async broadcast(event: ControlEvent): Promise<void> {
    if (this.failBroadcasts) throw new Error('link down');
    this.broadcasts.push(event);
  }
  onControl(handler: (event: ControlEvent) => void): void {
    this.controlHandlers.push(handler);
  }
  isHealthy(): boolean {
    return this.healthy;
  }
  onResync(handler: () => void): void {
    this.resyncHandlers.push(handler);
  }
  async ready(): Promise<void> {}
  async health() {
    return { ok: this.healthy };
  }
  async close(): Promise<void> {}

  /** Another node broadcast `event`. */
  control(event: ControlEvent): void {
    for (const h of this.controlHandlers) h(event);
  }
  /** The link came back after a gap. */
  gap(): void {
    for (const h of this.resyncHandlers) h();
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A parked poll that counts what was done to it. */
function waiter(
  subscribeKey: string,
  groups: string[] = [],
  who: Pick<Waiter, 'accessKey' | 'uuid'> = { uuid: 'u' },
): Waiter & { interrupted: number; rechecked: number } {
  return {
    subscribeKey,
    uuid: who.uuid,
    accessKey: who.accessKey,
    sources: [],
    groups,
    interrupted: 0,
    rechecked: 0,
    wake() {},
    interrupt() {
      this.interrupted++;
    },
    recheckAccess() {
      this.rechecked++;
    },
  };
}

/**
 * ClusterSync over fakes that record calls. Each access.resync() call waits on a deferred the test
 * settles (reloads[i]); rotation reloads resolve at once unless told otherwise.
 */
function fixture(options: { keysets?: Keyset[]; waiters?: ReturnType<typeof waiter>[] } = {}) {
  const broker = new FakeBroker();
  const clock = createFakeClock();
  const keysets = options.keysets ?? [SECURED, OPEN];
  const waiters = options.waiters ?? [];
  const reloads: Deferred[] = [];
  const reloadStarted: Array<() => void> = [];
  const calls: string[] = [];
  const accessListeners: AccessChangeListener[] = [];
  const secretsListeners: SecretsListener[] = [];
  const groupListeners: Array<(subscribeKey: string, group: string, origin: 'local' | 'remote') => void> = [];
  const coverage: bigint[] = [];
  const deps: ClusterSyncDeps = {
    broker,
    access: {
      check: () => ALLOWED,
      onChange: (l) => {
        accessListeners.push(l);
        return () => {};
      },
      applyRemoteChange: async (change) => void calls.push(`access.apply ${JSON.stringify(change)}`),
      resync: () => {
        const d = deferred();
        reloads.push(d);
        calls.push('access.resync');
        reloadStarted.shift()?.();
        return d.promise;
      },
      forgetVerifiedTokens: (subscribeKey) => void calls.push(`access.forget ${subscribeKey}`),
    },
    rotation: {
      onChange: (l) => {
        secretsListeners.push(l);
        return () => {};
      },
      reload: async (subscribeKey) => void calls.push(`rotation.reload ${subscribeKey}`),
    },
    groups: {
      onChange: (l) => {
        groupListeners.push(l);
        return () => {};
      },
      changed: (subscribeKey, group, origin) => {
        calls.push(`groups.changed ${subscribeKey} ${group} ${origin}`);
        for (const l of groupListeners) l(subscribeKey, group, origin);
      },
      clearCache: () => void calls.push('groups.clearCache'),
    },
    hub: {
      waiters: (subscribeKey?: string) => waiters.filter((w) => subscribeKey === undefined || w.subscribeKey === subscribeKey),
      waitersOfGroup: (subscribeKey: string, group: string) =>
        waiters.filter((w) => w.subscribeKey === subscribeKey && (w.groups.includes(group) || w.groups.includes(`${group}-pnpres`))),
      invalidateCoverage: (tt) => void coverage.push(tt),
    },
    nodeStats: { receive: (nodeId) => void calls.push(`nodeStats.receive ${nodeId}`) },
    timetokens: { now: () => BigInt(clock.nowMs()) * 10_000n },
    keysets,
    clock,
    log: pino({ level: 'silent' }),
    retryDelayMs: 0,
  };
  const sync = new ClusterSync(deps);
  const request = (keyset: Keyset) => ({ keyset }) as AccessRequest;
  return {
    sync,
    broker,
    clock,
    calls,
    coverage,
    reloads,
    /**
     * Resolves when the next access.resync() call starts; rejects after 5 s. The retry timer is unref'd
     * (a retry must not keep a stopping process alive), so this wait holds the event loop open itself.
     */
    nextReload: () =>
      new Promise<void>((resolve, reject) => {
        const bound = setTimeout(() => reject(new Error('no retry within 5 s')), 5000);
        reloadStarted.push(() => {
          clearTimeout(bound);
          resolve();
        });
      }),
    decide: (keyset: Keyset) => sync.check(request(keyset)),
    /** AccessManager.onChange: a change made here ('local') or applied from another node ('remote'). */
    emitAccess: (change: AccessChange, origin: 'local' | 'remote') => {
      for (const l of accessListeners) l(change, origin);
    },
    /** SecretRotation.onChange. */
    emitSecrets: (subscribeKey: string, change: 'rotated' | 'window-ended', origin: 'local' | 'remote') => {
      for (const l of secretsListeners) l(subscribeKey, change, origin);
    },
    /** ChannelGroupService.changed: a membership change made here ('local') or reported ('remote'). */
    emitGroup: (subscribeKey: string, group: string, origin: 'local' | 'remote') => deps.groups.changed(subscribeKey, group, origin),
  };
}

/** Lets settled promises' callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Resolves after every timer already due within retryDelayMs 0 (Node runs same-delay timers in the order they were set). */
const afterTimersDue = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test('a gap closes secured keysets until every mirror reloaded; open keysets never close', async () => {
  const f = fixture({ keysets: [SECURED, OTHER, OPEN] });
  assert.deepEqual(f.decide(SECURED), ALLOWED);
  assert.deepEqual(f.sync.mirrorHealth(), { ok: true });

  f.broker.gap();
  assert.deepEqual(f.decide(SECURED), UNAVAILABLE);
  assert.deepEqual(f.decide(OTHER), UNAVAILABLE);
  assert.deepEqual(f.decide(OPEN), ALLOWED, 'a keyset without a secret key is never closed');
  assert.deepEqual(f.sync.mirrorHealth(), { ok: false, reason: RELOADING_REASON });
  assert.equal(f.sync.isAccessVerifiable(), false);
  assert.deepEqual(
    f.calls.filter((c) => c.startsWith('access.resync') || c.startsWith('rotation.reload')),
    ['access.resync', 'rotation.reload sub-s', 'rotation.reload sub-t', 'rotation.reload sub-o'],
    'the access mirrors and every keyset secrets are reloaded',
  );

  await settle();
  assert.deepEqual(f.decide(SECURED), UNAVAILABLE, 'still closed while the access mirrors reload');
  f.reloads[0].resolve();
  await settle();
  assert.deepEqual(f.decide(SECURED), ALLOWED);
  assert.deepEqual(f.sync.mirrorHealth(), { ok: true });
});

test('while the broker may be missing events, secured keysets are closed; readiness leaves that to the broker', () => {
  const f = fixture();
  f.broker.healthy = false;
  assert.deepEqual(f.decide(SECURED), UNAVAILABLE);
  assert.deepEqual(f.decide(OPEN), ALLOWED);
  assert.deepEqual(f.sync.mirrorHealth(), { ok: true }, 'the broker reports its own link (Broker.health)');
  f.broker.healthy = true;
  assert.deepEqual(f.decide(SECURED), ALLOWED);
});

test('a reload for an older gap that finishes after a newer gap began does not reopen', async () => {
  const f = fixture();
  f.broker.gap();
  f.broker.gap();
  assert.equal(f.reloads.length, 2);
  f.reloads[0].resolve();
  await settle();
  assert.deepEqual(f.decide(SECURED), UNAVAILABLE, 'the older reload may have missed what the newer gap lost');
  f.reloads[1].resolve();
  await settle();
  assert.deepEqual(f.decide(SECURED), ALLOWED);
});

test('the newest reload reopens even while an older one is still running, and the older one cannot close again', async () => {
  const f = fixture();
  f.broker.gap();
  f.broker.gap();
  f.reloads[1].resolve();
  await settle();
  assert.deepEqual(f.decide(SECURED), ALLOWED);
  f.reloads[0].reject(new Error('late failure'));
  await settle();
  assert.deepEqual(f.decide(SECURED), ALLOWED);
  assert.equal(f.reloads.length, 2, 'a superseded reload is not retried');
});

test('a failed reload is retried until it succeeds, and the keysets stay closed meanwhile', async () => {
  const f = fixture();
  f.broker.gap();
  for (let attempt = 0; attempt < 3; attempt++) {
    const retried = f.nextReload();
    f.reloads[attempt].reject(new Error('store down'));
    await retried;
    assert.deepEqual(f.decide(SECURED), UNAVAILABLE);
  }
  assert.equal(f.reloads.length, 4);
  f.reloads[3].resolve();
  await settle();
  assert.deepEqual(f.decide(SECURED), ALLOWED);
});

test('after close() a failed reload is not retried and a later gap starts none', async () => {
  const f = fixture();
  f.broker.gap();
  f.sync.close();
  f.reloads[0].reject(new Error('store closed'));
  await settle();
  await afterTimersDue();
  f.broker.gap();
  assert.equal(f.reloads.length, 1);
});

test('a gap forgets group memberships, moves the hub coverage ahead and ends every parked poll of every keyset', () => {
  const parked = [waiter(SECURED.subscribeKey), waiter(OPEN.subscribeKey), waiter(OPEN.subscribeKey, ['g'])];
  const f = fixture({ waiters: parked });
  const before = BigInt(f.clock.nowMs()) * 10_000n;
  f.broker.gap();
  assert.ok(f.calls.includes('groups.clearCache'));
  assert.deepEqual(f.coverage, [before + 10_000_000n], 'one second ahead of this node clock');
  assert.deepEqual(
    parked.map((w) => w.interrupted),
    [1, 1, 1],
  );
});

test('remote control events reach access, groups, rotation and node stats, and are not broadcast back', async () => {
  const inGroup = waiter(SECURED.subscribeKey, ['g']);
  const inPresence = waiter(SECURED.subscribeKey, ['g-pnpres']);
  const elsewhere = waiter(SECURED.subscribeKey, ['h']);
  const f = fixture({ waiters: [inGroup, inPresence, elsewhere] });
  f.broker.control({ kind: 'token-revoked', subscribeKey: 'sub-s', tokenId: 't1', expiresAtMs: 5 });
  f.broker.control({ kind: 'grants-changed', subscribeKey: 'sub-s' });
  f.broker.control({ kind: 'uuid-kicked', subscribeKey: 'sub-s', uuid: 'mallory', kickedAtMs: 7 });
  f.broker.control({ kind: 'secret-rotated', subscribeKey: 'sub-s' });
  f.broker.control({ kind: 'group-changed', subscribeKey: 'sub-s', group: 'g' });
  f.broker.control({ kind: 'node-stats', nodeId: 'node-2', sample: SAMPLE });
  f.broker.control({ kind: 'objects-changed', subscribeKey: 'sub-s' });
  await settle();
  assert.deepEqual(f.calls, [
    // The broadcaster's bound on the expiry is dropped (the access manager finds its own).
    'access.apply {"kind":"token-revoked","subscribeKey":"sub-s","tokenId":"t1"}',
    'access.apply {"kind":"grants-changed","subscribeKey":"sub-s"}',
    'access.apply {"kind":"uuid-kicked","subscribeKey":"sub-s","uuid":"mallory","kickedAtMs":7}',
    'rotation.reload sub-s',
    'groups.changed sub-s g remote',
    'nodeStats.receive node-2',
  ]);
  assert.deepEqual(
    [inGroup, inPresence, elsewhere].map((w) => w.interrupted),
    [1, 1, 0],
    'a membership change ends the polls of the group and of its presence',
  );
  assert.deepEqual(f.broker.broadcasts, []);
});

test('changes made here re-check parked polls and are broadcast; the same changes from other nodes only re-check', () => {
  const here = waiter(SECURED.subscribeKey, ['g']);
  const there = waiter(OPEN.subscribeKey, ['g']);
  const f = fixture({ waiters: [here, there] });

  f.emitAccess({ kind: 'token-revoked', subscribeKey: 'sub-s', tokenId: 't1' }, 'local');
  f.emitAccess({ kind: 'grants-changed', subscribeKey: 'sub-s' }, 'remote');
  assert.equal(here.rechecked, 2);
  assert.equal(there.rechecked, 0, 'another keyset is untouched');

  f.emitSecrets('sub-s', 'rotated', 'local');
  f.emitSecrets('sub-s', 'window-ended', 'local');
  f.emitSecrets('sub-s', 'rotated', 'remote');
  assert.equal(here.rechecked, 5);
  assert.deepEqual(
    f.calls.filter((c) => c.startsWith('access.forget')),
    ['access.forget sub-s', 'access.forget sub-s', 'access.forget sub-s'],
    'every secrets change drops verified tokens',
  );

  f.emitAccess({ kind: 'grants-changed', subscribeKey: 'sub-s' }, 'local');
  f.broker.control({ kind: 'group-changed', subscribeKey: 'sub-o', group: 'g' });
  assert.equal(there.interrupted, 1);

  assert.deepEqual(f.broker.broadcasts, [
    { kind: 'token-revoked', subscribeKey: 'sub-s', tokenId: 't1', expiresAtMs: f.clock.nowMs() + MAX_TOKEN_TTL_MINUTES * 60_000 },
    { kind: 'secret-rotated', subscribeKey: 'sub-s' },
    { kind: 'grants-changed', subscribeKey: 'sub-s' },
  ]);
});

test('an access change re-checks only the polls it can concern: those of its auth keys, its token, its kicked uuid', () => {
  const polls = {
    alice: waiter('sub-s', [], { uuid: 'ua', accessKey: accessKeyOf({ kind: 'authKey', authKey: 'alice' }) }),
    bob: waiter('sub-s', [], { uuid: 'ub', accessKey: accessKeyOf({ kind: 'authKey', authKey: 'bob' }) }),
    noAuth: waiter('sub-s', [], { uuid: 'un', accessKey: accessKeyOf({ kind: 'authKey', authKey: '' }) }),
    token1: waiter('sub-s', [], { uuid: 'ua', accessKey: accessKeyOf({ kind: 'token', tokenId: 't1', token: 'x' }) }),
    token2: waiter('sub-s', [], { uuid: 'ub', accessKey: accessKeyOf({ kind: 'token', tokenId: 't2', token: 'y' }) }),
    secret: waiter('sub-s', [], { uuid: 'ua', accessKey: accessKeyOf({ kind: 'secret' }) }),
    unknown: waiter('sub-s', [], { uuid: 'ub' }),
  };
  const f = fixture({ waiters: Object.values(polls) });
  const rechecked = () => Object.entries(polls).flatMap(([name, w]) => (w.rechecked > 0 ? [name] : []));
  const after = (change: AccessChange): string[] => {
    for (const w of Object.values(polls)) w.rechecked = 0;
    f.emitAccess(change, 'remote');
    return rechecked();
  };
  const target = (authKey: string) => ({ level: 'channel' as const, resource: 'room', authKey });
  assert.deepEqual(after({ kind: 'grants-changed', subscribeKey: 'sub-s', targets: [target('alice')] }), ['alice', 'unknown']);
  assert.deepEqual(after({ kind: 'grants-changed', subscribeKey: 'sub-s', targets: [target('alice'), target('bob')] }), ['alice', 'bob', 'unknown']);
  assert.deepEqual(
    after({ kind: 'grants-changed', subscribeKey: 'sub-s', targets: [target('')] }),
    ['alice', 'bob', 'noAuth', 'unknown'],
    'every auth key: every v2 poll',
  );
  assert.deepEqual(after({ kind: 'grants-changed', subscribeKey: 'sub-s', targets: [] }), ['unknown']);
  assert.deepEqual(after({ kind: 'grants-changed', subscribeKey: 'sub-s' }), Object.keys(polls), 'unnamed grants: every poll');
  assert.deepEqual(after({ kind: 'token-revoked', subscribeKey: 'sub-s', tokenId: 't2' }), ['token2', 'unknown']);
  assert.deepEqual(after({ kind: 'uuid-kicked', subscribeKey: 'sub-s', uuid: 'ua', kickedAtMs: 1 }), ['token1', 'unknown'], "the uuid's token polls");
});

test('a group change made here is broadcast, and node stats are shared under the broker node id', async () => {
  const f = fixture();
  f.emitGroup('sub-s', 'g', 'local');
  await f.sync.shareNodeStats(SAMPLE);
  assert.deepEqual(f.broker.broadcasts, [
    { kind: 'group-changed', subscribeKey: 'sub-s', group: 'g' },
    { kind: 'node-stats', nodeId: 'node-test', sample: SAMPLE },
  ]);
});

test('a failed broadcast is logged, never thrown nor left unhandled', async () => {
  const f = fixture();
  f.broker.failBroadcasts = true;
  assert.doesNotThrow(() => {
    f.emitAccess({ kind: 'grants-changed', subscribeKey: 'sub-s' }, 'local');
    f.emitSecrets('sub-s', 'rotated', 'local');
    f.emitGroup('sub-s', 'g', 'local');
  });
  await settle();
  assert.deepEqual(f.broker.broadcasts, []);
});
