import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PAM_KEYSET, OPEN_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startCluster, type ClusterNode } from '../helpers/cluster.ts';

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
  subs.forEach((s) => s.subscribe({ channels: ['mn.room'] }));
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
    assert.deepEqual(s.messages.map((m) => m.message.i), [...Array(30).keys()]);
    assert.deepEqual(s.messages.map((m) => m.timetoken), sent);
  }
  for (let i = 1; i < sent.length; i++) assert.ok(BigInt(sent[i]) > BigInt(sent[i - 1]), 'timetokens increase across nodes');
  for (const n of nodes) {
    const h = await client(n, OPEN_KEYSET, 'reader').fetchMessages({ channels: ['mn.room'], count: 100 });
    assert.deepEqual(h.channels['mn.room'].map((m: any) => m.timetoken), sent);
  }
});

test('grant on A is enforced on B; revoke on A denies a parked subscriber on B within 250 ms (p50/p99 printed)', async () => {
  const [a, b] = nodes;
  const admin = client(a, PAM_KEYSET, 'admin', { secretKey: PAM_KEYSET.secretKey });
  const onB = client(b, PAM_KEYSET, 'u-b', { authKey: 'mn-key' });
  await assert.rejects(onB.publish({ channel: 'mn.secure', message: 'x' }), (e: any) => e.status.statusCode === 403);
  await admin.grant({ channels: ['mn.secure'], authKeys: ['mn-key'], write: true, ttl: 5 });
  await waitFor(async () => onB.publish({ channel: 'mn.secure', message: 'ok' }).then(() => true, () => false), 'grant visible on B', 2000);

  const timings: number[] = [];
  const S = PAM_KEYSET.subscribeKey;
  for (let trial = 0; trial < 40; trial++) {
    const token = await admin.grantToken({ ttl: 5, authorized_uuid: 'watcher', resources: { channels: { 'mn.watch': { read: true } } } });
    const tt = (await (await fetch(`${b.url}/time/0`)).json())[0];
    // A raw long-poll on B, parked with the token.
    const poll = fetch(`${b.url}/v2/subscribe/${S}/mn.watch/0?tt=${BigInt(tt) * 1n}&uuid=watcher&auth=${token}`);
    await waitFor(async () => ((await (await fetch(`${b.url}/metrics`)).text()).match(/parley_long_polls_parked (\d+)/)?.[1] ?? '0') !== '0', 'poll parked on B');
    const started = performance.now();
    await admin.revokeToken(token);
    const r = await poll;
    timings.push(performance.now() - started);
    assert.equal(r.status, 403);
    assert.equal((await r.json()).code, 'TOKEN_REVOKED');
  }
  timings.sort((x, y) => x - y);
  const p = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))];
  console.log(`revocation on A → parked poll on B answered 403: p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms over ${timings.length} trials (includes the revoke call itself)`);
  assert.ok(p(0.99) < 250, `p99 ${p(0.99)} ms`);
});

test('presence is shared: a join on B is seen on A, counted from C, and a killed node\'s uuid times out', async () => {
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

  // A uuid parked on C (5 s presence timeout) stays present while C lives, and times out after C dies.
  const { timetoken } = await watcher.time();
  void fetch(`${c.url}/v2/subscribe/${OPEN_KEYSET.subscribeKey}/mn.presence/0?tt=${timetoken}&heartbeat=5&uuid=on-c`).catch(() => null);
  await waitFor(() => seen.presence.find((p) => p.action === 'join' && p.uuid === 'on-c'), 'join from C');
  const joinedAt = Date.now();
  await waitFor(() => Date.now() - joinedAt > 6000, 'longer than the 5 s timeout', 8000);
  assert.equal(seen.presence.filter((p) => p.uuid === 'on-c' && p.action === 'timeout').length, 0, 'a parked poll on C keeps its uuid present');
  c.child.kill('SIGKILL');
  await c.exited;
  nodes.splice(nodes.indexOf(c), 1);
  const timeout = await waitFor(() => seen.presence.find((p) => p.action === 'timeout' && p.uuid === 'on-c'), 'timeout after C died', 10_000);
  assert.equal(timeout.channel, 'mn.presence');
});

test('App Context written on A reads the same on B, its events reach a subscriber on B, and If-Match holds across nodes', async () => {
  // Runs after the presence test killed node C: two nodes remain.
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
  assert.deepEqual((await onB.objects.getChannelMembers({ channel: 'mn.ctx' })).data.map((m: any) => m.uuid.id), ['mn-alice']);
  await onB.objects.setChannelMetadata({ channel: 'mn.ctx', data: { name: 'v2' }, ifMatchesEtag: v1.data.eTag });
  await assert.rejects(onA.objects.setChannelMetadata({ channel: 'mn.ctx', data: { name: 'stale' }, ifMatchesEtag: v1.data.eTag }), (err: any) => err.status.statusCode === 412);
  await waitFor(() => events.length >= 3, 'three objects events on B');
  assert.deepEqual(events.map((e) => `${e.message.event} ${e.message.type}`), ['set channel', 'set membership', 'set channel']);
});
