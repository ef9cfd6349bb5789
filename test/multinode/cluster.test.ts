import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeClient, record } from '../helpers/clients.ts';
import { type ClusterNode, startCluster } from '../helpers/cluster.ts';
import { createJumpingClock } from '../helpers/fake-clock.ts';
import { adminClient, deleteKeysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { OPEN_KEYSET, PAM_KEYSET, startServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Three real Parley processes on one Redis, with a key prefix of their own. */
let cluster: Awaited<ReturnType<typeof startCluster>>;
let nodes: ClusterNode[];
type Node = ClusterNode;
const client = (node: Node, keyset: typeof OPEN_KEYSET, userId: string, extra: Record<string, unknown> = {}) => cluster.client(node, keyset, userId, extra);

before(async () => {
  cluster = await startCluster(3, { keysets: [OPEN_KEYSET, PAM_KEYSET], presence: { sweepIntervalMs: 200 } });
  nodes = [...cluster.nodes];
});

after(() => cluster.stop());

test('a publish on A reaches subscribers on B and C once, in order; history reads the same from every node', async () => {
  const [a, b, c] = nodes;
  const subs = [client(b, OPEN_KEYSET, 'sub-b'), client(c, OPEN_KEYSET, 'sub-c', { enableEventEngine: false })];
  const seen = subs.map(record);
  for (const s of subs) s.subscribe({ channels: ['mn.room'] });
  for (const s of seen) await waitFor(() => s.statuses.find((x) => x.category === 'PNConnectedCategory'), 'connected');
  const pubA = client(a, OPEN_KEYSET, 'pub-a');
  const pubB = client(b, OPEN_KEYSET, 'pub-b');
  const sent: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await (i % 2 ? pubB : pubA).publish({ channel: 'mn.room', message: { i } });
    sent.push(r.timetoken as string);
  }
  for (const s of seen) await waitFor(() => s.messages.length >= 30, '30 messages on each node');
  for (const s of seen) {
    assert.deepEqual(
      s.messages.map((m) => m.message.i),
      [...Array(30).keys()],
    );
    assert.deepEqual(
      s.messages.map((m) => m.timetoken),
      sent,
    );
  }
  for (let i = 1; i < sent.length; i++) assert.ok(BigInt(sent[i]) > BigInt(sent[i - 1]), 'timetokens increase across nodes');
  for (const n of nodes) {
    const h = await client(n, OPEN_KEYSET, 'reader').fetchMessages({ channels: ['mn.room'], count: 100 });
    assert.deepEqual(
      h.channels['mn.room'].map((m: any) => m.timetoken),
      sent,
    );
  }
});

test('grant on A is enforced on B; revoke on A answers a parked subscriber on B with 403 TOKEN_REVOKED', async () => {
  const [a, b] = nodes;
  const admin = client(a, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  const onB = client(b, PAM_KEYSET, 'u-b', { authKey: 'mn-key' });
  await assert.rejects(onB.publish({ channel: 'mn.secure', message: 'x' }), (e: any) => e.status.statusCode === 403);
  await admin.grant({ channels: ['mn.secure'], authKeys: ['mn-key'], write: true, ttl: 5 });
  await waitFor(
    async () =>
      onB.publish({ channel: 'mn.secure', message: 'ok' }).then(
        () => true,
        () => false,
      ),
    'grant visible on B',
    2000,
  );

  // How fast is bench/latency.ts's to measure; here, that the revocation reaches the poll parked on the other node.
  const S = PAM_KEYSET.subscribeKey;
  for (let trial = 0; trial < 3; trial++) {
    const token = await admin.grantToken({ ttl: 5, authorized_uuid: 'watcher', resources: { channels: { 'mn.watch': { read: true } } } });
    const tt = (await (await fetch(`${b.url}/time/0`)).text()).slice(1, -1);
    // A raw long-poll on B, parked with the token.
    const poll = fetch(`${b.url}/v2/subscribe/${S}/mn.watch/0?tt=${tt}&uuid=watcher&auth=${token}`);
    await waitFor(
      async () => ((await (await fetch(`${b.url}/metrics`)).text()).match(/parley_long_polls_parked (\d+)/)?.[1] ?? '0') !== '0',
      'poll parked on B',
    );
    await admin.revokeToken(token);
    const r = await poll;
    assert.equal(r.status, 403);
    assert.equal((await r.json()).code, 'TOKEN_REVOKED');
  }
});

test('presence is shared: a join on B is seen on A and counted from C, and its leave is seen on A', async () => {
  const [a, b, c] = nodes;
  const watcher = client(a, OPEN_KEYSET, 'mn-watcher');
  const seen = record(watcher);
  watcher.subscribe({ channels: ['mn.presence'], withPresence: true });
  await waitFor(() => seen.presence.find((p) => p.uuid === 'mn-watcher'), 'watcher join');
  const onB = client(b, OPEN_KEYSET, 'on-b');
  onB.subscribe({ channels: ['mn.presence'] });
  await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'on-b'), 'join from B seen on A');
  const here = await client(c, OPEN_KEYSET, 'counter').hereNow({ channels: ['mn.presence'] });
  assert.deepEqual(here.channels['mn.presence'].occupants.map((o: any) => o.uuid).sort(), ['mn-watcher', 'on-b']);
  onB.unsubscribeAll();
  await waitFor(() => seen.presence.find((p) => p.action === 'leave' && p.uuid === 'on-b'), 'leave from B seen on A');
});

/**
 * Timeouts on a clock the test moves: two in-process nodes on one Redis prefix share a clock that jumps
 * ahead on advance(). Each node's sweep timer is stopped and the test sweeps in step with the jumps, so
 * that no sweep runs between a jump and the sweep of the node that holds the poll (a clock that moves
 * smoothly gives every node a sweep within each stretch of time).
 */
test('a uuid parked on C outlives its timeout while C runs, and times out on A once C is gone (clock moved by the test)', async (t) => {
  const prefix = uniqueRedisPrefix();
  const redis = adminClient();
  t.after(async () => {
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });
  const clock = createJumpingClock();
  const start = async (): Promise<TestServer> => {
    const node = await startServer({ clock, keysets: [OPEN_KEYSET], overrides: { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix } } });
    t.after(() => node.stop());
    node.parley.services.presence.close();
    return node;
  };
  const [a, c] = [await start(), await start()];
  const sweep = async (...on: TestServer[]): Promise<void> => {
    for (const node of on) await node.parley.services.presence.sweep();
  };
  const watcher = makeClient(a.origin, OPEN_KEYSET, 'mn-watcher');
  t.after(() => watcher.destroy());
  const seen = record(watcher);
  watcher.subscribe({ channels: ['mn.timeout'], withPresence: true });
  await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'mn-watcher'), 'watcher join');

  // A raw long-poll parked on C with a 5 s presence timeout.
  const { timetoken } = await watcher.time();
  const poll = fetch(`${c.url}/v2/subscribe/${OPEN_KEYSET.subscribeKey}/mn.timeout/0?tt=${timetoken}&heartbeat=5&uuid=on-c`).catch(() => null);
  await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'on-c'), 'join from C seen on A');
  // 8 s in 1 s steps: C refreshes the uuid its poll keeps present, and A finds nothing of it expired.
  for (let s = 0; s < 8; s++) {
    clock.advance(1000);
    await sweep(c, a);
  }
  const here = await watcher.hereNow({ channels: ['mn.timeout'] });
  assert.deepEqual(here.channels['mn.timeout'].occupants.map((o: any) => o.uuid).sort(), ['mn-watcher', 'on-c']);
  assert.equal(seen.presence.filter((p) => p.uuid === 'on-c' && p.action === 'timeout').length, 0, 'a parked poll on C keeps its uuid present');

  // C goes away (its poll is answered, nothing refreshes the uuid any more): past the timeout, A times it out.
  await c.stop();
  await poll;
  clock.advance(6000);
  await sweep(a);
  const timeout = await waitFor(() => seen.presence.find((p) => p.action === 'timeout' && p.uuid === 'on-c'), 'timeout after C stopped');
  assert.equal(timeout.channel, 'mn.timeout');
  assert.equal(seen.presence.filter((p) => p.uuid === 'mn-watcher' && p.action !== 'join').length, 0, 'the watcher on A stays present');
});

test('App Context written on A reads the same on B, its events reach a subscriber on B, and If-Match holds across nodes', async () => {
  const [a, b] = nodes;
  const watcher = client(b, OPEN_KEYSET, 'watcher');
  const seen = record(watcher);
  const events: any[] = [];
  watcher.addListener({ objects: (e: any) => events.push(e) });
  watcher.subscribe({ channels: ['mn.ctx'] });
  await waitFor(() => seen.statuses.find((x) => x.category === 'PNConnectedCategory'), 'connected');
  const onA = client(a, OPEN_KEYSET, 'writer-a');
  const onB = client(b, OPEN_KEYSET, 'writer-b');
  const v1 = await onA.objects.setChannelMetadata({ channel: 'mn.ctx', data: { name: 'v1' } });
  await onA.objects.setMemberships({ uuid: 'mn-alice', channels: ['mn.ctx'] });
  assert.equal((await onB.objects.getChannelMetadata({ channel: 'mn.ctx' })).data.eTag, v1.data.eTag);
  assert.deepEqual(
    (await onB.objects.getChannelMembers({ channel: 'mn.ctx' })).data.map((m: any) => m.uuid.id),
    ['mn-alice'],
  );
  await onB.objects.setChannelMetadata({ channel: 'mn.ctx', data: { name: 'v2' }, ifMatchesEtag: v1.data.eTag });
  await assert.rejects(
    onA.objects.setChannelMetadata({ channel: 'mn.ctx', data: { name: 'stale' }, ifMatchesEtag: v1.data.eTag }),
    (err: any) => err.status.statusCode === 412,
  );
  await waitFor(() => events.length >= 3, 'three objects events on B');
  assert.deepEqual(
    events.map((e) => `${e.message.event} ${e.message.type}`),
    ['set channel', 'set membership', 'set channel'],
  );
});
