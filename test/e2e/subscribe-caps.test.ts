import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * docs/security.md "Limits", channel groups: what one subscribe (or heartbeat, here-now, leave)
 * expands to is capped, and so is what all parked long-polls of a node hold together. Counts, not time.
 */

const SUB = OPEN_KEYSET.subscribeKey;
const LIMITS = { maxChannelsPerGroup: 50, maxGroupsPerSubscribe: 3, maxChannelsPerSubscription: 120, maxSubscribedChannelsPerNode: 250 };

async function setup(t: TestContext) {
  const s = await startServer({ store: 'memory', overrides: { limits: LIMITS } });
  const polls: AbortController[] = [];
  t.after(async () => {
    for (const p of polls) p.abort();
    await s.stop();
  });
  for (const g of ['g1', 'g2', 'g3', 'g4']) {
    const add = Array.from({ length: 50 }, (_, i) => `${g}-ch${i}`).join(',');
    const res = await fetch(`${s.url}/v1/channel-registration/sub-key/${SUB}/channel-group/${g}?add=${add}&uuid=admin`);
    assert.equal(res.status, 200);
  }
  /** A long-poll (tt=1: not the handshake; heartbeat=0: no presence events to wake it); resolves with its answer, or stays parked until aborted. */
  const poll = (channels: string[], groups: string[]) => {
    const ac = new AbortController();
    polls.push(ac);
    const path = `/v2/subscribe/${SUB}/${channels.length ? channels.join(',') : ','}/0?uuid=u&tt=1&heartbeat=0${groups.length ? `&channel-group=${groups.join(',')}` : ''}`;
    const answer = fetch(`${s.url}${path}`, { signal: ac.signal }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { message?: string; code?: string },
    }));
    answer.catch(() => {});
    return { answer, abort: () => ac.abort() };
  };
  return { s, poll, held: () => s.parley.services.subscriptions.subscribedChannels };
}

const refusals = (s: TestServer, cap: string) => s.parley.services.metrics.value('parley_cap_refusals_total', { cap });

test('a subscribe past limits.maxChannelsPerSubscription once expanded is a 400 naming the cap; a group named 5,000 times counts once', async (t) => {
  const { s, poll, held } = await setup(t);
  const over = await poll([], ['g1', 'g2', 'g3']).answer;
  assert.equal(over.status, 400);
  assert.equal(over.body.code, 'INVALID_PARAM');
  assert.match(over.body.message!, /limits\.maxChannelsPerSubscription/);
  assert.equal(refusals(s, 'maxChannelsPerSubscription'), 1);

  // g1 named 5,000 times and g2 once: 100 channels, parked.
  poll([], [...new Array<string>(5000).fill('g1'), 'g2']);
  await waitFor(() => held() === 100, 'the 5,000-fold group parked as 100 channels');

  // Exactly at the cap: g1 (50) + its presence twin (50) + 20 direct channels = 120.
  const direct = Array.from({ length: 20 }, (_, i) => `d${i}`);
  poll(direct, ['g1', 'g1-pnpres']);
  await waitFor(() => held() === 220, 'a subscribe at the cap parked');

  const fourGroups = await poll([], ['g1', 'g2', 'g3', 'g4']).answer;
  assert.equal(fourGroups.status, 400);
  assert.match(fourGroups.body.message!, /limits\.maxGroupsPerSubscribe/);
  // Three groups with their presence twins are three groups, but 300 channels.
  const twins = await poll([], ['g1', 'g1-pnpres', 'g2', 'g2-pnpres', 'g3', 'g3-pnpres']).answer;
  assert.equal(twins.status, 400);
  assert.match(twins.body.message!, /limits\.maxChannelsPerSubscription/);
  assert.equal(held(), 220, 'refused subscribes hold nothing');
});

test('the channels all long-polls of a node hold are capped (429 naming the cap) and given back when a poll ends', async (t) => {
  const { s, poll, held } = await setup(t);
  const a = poll([], ['g1', 'g2']);
  poll([], ['g3', 'g4']);
  await waitFor(() => held() === 200, 'two polls of 100 channels parked');
  const c = await poll([], ['g1', 'g2']).answer;
  assert.equal(c.status, 429);
  assert.equal(c.body.code, 'TOO_MANY_REQUESTS');
  assert.match(c.body.message!, /limits\.maxSubscribedChannelsPerNode/);
  assert.equal(refusals(s, 'maxSubscribedChannelsPerNode'), 1);
  a.abort();
  await waitFor(() => held() === 100, 'the aborted poll gave its channels back');
  poll([], ['g1', 'g2']);
  await waitFor(() => held() === 200, 'a new poll fits again');
});

test('heartbeat, here-now and leave expand groups within the same caps', async (t) => {
  const { s } = await setup(t);
  const get = async (path: string) => {
    const r = await fetch(`${s.url}${path}`);
    return { status: r.status, body: (await r.json()) as { message?: string } };
  };
  const hb4 = await get(`/v2/presence/sub-key/${SUB}/channel/,/heartbeat?uuid=u&channel-group=g1,g2,g3,g4`);
  assert.equal(hb4.status, 400);
  assert.match(hb4.body.message!, /limits\.maxGroupsPerSubscribe/);
  for (const path of [
    `/v2/presence/sub-key/${SUB}/channel/,/heartbeat?uuid=u&channel-group=g1,g2,g3`,
    `/v2/presence/sub-key/${SUB}/channel/,?uuid=u&channel-group=g1,g2,g3`,
    `/v2/presence/sub-key/${SUB}/channel/,/leave?uuid=u&channel-group=g1,g2,g3`,
  ]) {
    const r = await get(path);
    assert.equal(r.status, 400, path);
    assert.match(r.body.message!, /limits\.maxChannelsPerSubscription/, path);
  }
  const ok = await get(`/v2/presence/sub-key/${SUB}/channel/,/heartbeat?uuid=u&channel-group=g1,g2`);
  assert.equal(ok.status, 200);
});
