import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { OPEN_KEYSET, PAM_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { harness } from '../helpers/harness.ts';
import type { Keyset } from '../../src/keyset.ts';

/** A server plus SDK clients that are all destroyed after the test. */
/** A server plus SDK clients (keyset before options, open keyset by default), all torn down after the test. */
async function setup(t: TestContext, store: 'memory' | 'sqlite' = 'memory') {
  const { server, client } = await harness(t, { store }, OPEN_KEYSET);
  return { server, client: (userId: string, keyset: Keyset = OPEN_KEYSET, extra: Record<string, unknown> = {}) => client(userId, extra, keyset) };
}

const statusOf = (expected: number, category?: string) => (err: any) => {
  assert.equal(err.status?.statusCode, expected, JSON.stringify(err.status));
  if (category) assert.equal(err.status?.category, category);
  return true;
};

test('uuid metadata: set merges like PATCH, get includes custom, remove makes it 404', async (t) => {
  const { client } = await setup(t, 'sqlite');
  const alice = client('alice');
  const set = await alice.objects.setUUIDMetadata({
    uuid: 'alice',
    data: { name: 'Alice', email: 'alice@example.com', status: 'active', type: 'admin', custom: { role: 'admin', level: 3 } },
    include: { customFields: true },
  });
  assert.equal(set.status, 200);
  assert.deepEqual(
    { ...set.data, updated: undefined, eTag: undefined },
    {
      id: 'alice',
      name: 'Alice',
      externalId: null,
      profileUrl: null,
      email: 'alice@example.com',
      status: 'active',
      type: 'admin',
      custom: { role: 'admin', level: 3 },
      updated: undefined,
      eTag: undefined,
    },
  );
  assert.match(set.data.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // Only the named field changes; the eTag follows the content.
  const renamed = await alice.objects.setUUIDMetadata({ uuid: 'alice', data: { name: 'Alice A.' }, include: { customFields: true } });
  assert.equal(renamed.data.email, 'alice@example.com');
  assert.deepEqual(renamed.data.custom, { role: 'admin', level: 3 });
  assert.notEqual(renamed.data.eTag, set.data.eTag);
  const same = await alice.objects.setUUIDMetadata({ uuid: 'alice', data: { name: 'Alice A.' }, include: { customFields: false } });
  assert.equal(same.data.eTag, renamed.data.eTag, 'an unchanged record keeps its eTag');
  assert.equal(same.data.updated, renamed.data.updated);
  assert.equal('custom' in same.data, false, 'custom only when included');

  const got = await alice.objects.getUUIDMetadata({ uuid: 'alice', include: { customFields: true } });
  assert.deepEqual(got.data, renamed.data);

  const removed = await alice.objects.removeUUIDMetadata({ uuid: 'alice' });
  assert.equal(removed.status, 200);
  await assert.rejects(alice.objects.getUUIDMetadata({ uuid: 'alice' }), (err: any) => {
    assert.equal(err.status.statusCode, 404);
    assert.equal(err.status.errorData.error.source, 'objects');
    return true;
  });
});

test('getAllUUIDMetadata: filter, sort, limit, next/prev paging and totalCount', async (t) => {
  const { client } = await setup(t);
  const admin = client('admin');
  const people = [
    ['u1', 'Zoe', 'admin'],
    ['u2', 'alice', 'member'],
    ['u3', 'Albert', 'admin'],
    ['u4', 'Bob', 'member'],
    ['u5', 'Alma', 'member'],
    ['u6', 'Carl', 'admin'],
    ['u7', 'Ann', 'admin'],
  ] as const;
  for (const [uuid, name, role] of people) {
    await admin.objects.setUUIDMetadata({ uuid, data: { name, custom: { role } } });
  }

  const admins = await admin.objects.getAllUUIDMetadata({
    filter: "custom.role == 'admin'",
    sort: { name: 'desc' },
    include: { totalCount: true, customFields: true },
  });
  assert.deepEqual(
    admins.data.map((u: any) => u.name),
    ['Zoe', 'Carl', 'Ann', 'Albert'],
  );
  assert.equal(admins.totalCount, 4);

  // LIKE ignores case; || and parentheses group.
  const a = await admin.objects.getAllUUIDMetadata({ filter: "name LIKE 'al*' && !(id == 'u5')", sort: { name: 'asc' } });
  assert.deepEqual(
    a.data.map((u: any) => u.id),
    ['u3', 'u2'],
  );
  const either = await admin.objects.getAllUUIDMetadata({ filter: "id == 'u4' || (id == 'u6')" });
  assert.deepEqual(
    either.data.map((u: any) => u.id),
    ['u4', 'u6'],
  );

  // Pages of 3 by name, forwards with next and back with prev.
  const seen: string[] = [];
  let page = await admin.objects.getAllUUIDMetadata({ sort: { name: 'asc' }, limit: 3, include: { totalCount: true } });
  assert.equal(page.totalCount, 7);
  assert.equal(page.prev, undefined);
  const pages = [page];
  seen.push(...page.data.map((u: any) => u.name));
  while (page.next) {
    page = await admin.objects.getAllUUIDMetadata({ sort: { name: 'asc' }, limit: 3, page: { next: page.next } });
    pages.push(page);
    seen.push(...page.data.map((u: any) => u.name));
  }
  // Code point order: capitals before lower case.
  assert.deepEqual(seen, ['Albert', 'Alma', 'Ann', 'Bob', 'Carl', 'Zoe', 'alice']);
  assert.equal(pages.length, 3);
  assert.equal(page.next, undefined);
  const back = await admin.objects.getAllUUIDMetadata({ sort: { name: 'asc' }, limit: 3, page: { prev: pages[2].prev } });
  assert.deepEqual(
    back.data.map((u: any) => u.name),
    ['Bob', 'Carl', 'Zoe'],
  );

  // Two sort keys, sent by the SDK as two `sort` parameters.
  const twoKeys = await admin.objects.getAllUUIDMetadata({ sort: { type: 'asc', id: 'desc' } as any, limit: 2 });
  assert.deepEqual(
    twoKeys.data.map((u: any) => u.id),
    ['u7', 'u6'],
  );

  await assert.rejects(admin.objects.getAllUUIDMetadata({ filter: 'name ==' }), statusOf(400, 'PNBadRequestCategory'));
});

test('channel metadata: set, get, list with a filter on custom and status', async (t) => {
  const { client } = await setup(t);
  const admin = client('admin');
  await admin.objects.setChannelMetadata({ channel: 'general', data: { name: 'General', description: 'everyone', status: 'open', custom: { public: true } } });
  await admin.objects.setChannelMetadata({ channel: 'secret', data: { name: 'Secret', status: 'archived', custom: { public: false } } });
  const got = await admin.objects.getChannelMetadata({ channel: 'general', include: { customFields: true } });
  assert.deepEqual(
    { ...got.data, updated: undefined, eTag: undefined },
    {
      id: 'general',
      name: 'General',
      description: 'everyone',
      status: 'open',
      type: null,
      custom: { public: true },
      updated: undefined,
      eTag: undefined,
    },
  );
  const open = await admin.objects.getAllChannelMetadata({ filter: "custom.public == true && status != 'archived'", include: { totalCount: true } });
  assert.deepEqual(
    open.data.map((c: any) => c.id),
    ['general'],
  );
  assert.equal(open.totalCount, 1);
  const recent = await admin.objects.getAllChannelMetadata({ filter: "updated > '2000-01-01T00:00:00Z'" });
  assert.equal(recent.data.length, 2);
  await admin.objects.removeChannelMetadata({ channel: 'secret' });
  assert.deepEqual(
    (await admin.objects.getAllChannelMetadata({})).data.map((c: any) => c.id),
    ['general'],
  );
});

test('If-Match: a stale eTag gets 412 and changes nothing; the current one succeeds', async (t) => {
  const { client } = await setup(t);
  const c = client('editor');
  const v1 = await c.objects.setChannelMetadata({ channel: 'doc', data: { name: 'v1' } });
  const v2 = await c.objects.setChannelMetadata({ channel: 'doc', data: { name: 'v2' }, ifMatchesEtag: v1.data.eTag });
  assert.equal(v2.data.name, 'v2');
  await assert.rejects(c.objects.setChannelMetadata({ channel: 'doc', data: { name: 'lost update' }, ifMatchesEtag: v1.data.eTag }), (err: any) => {
    assert.equal(err.status.statusCode, 412);
    assert.equal(err.status.errorData.error.source, 'objects');
    return true;
  });
  await assert.rejects(c.objects.setUUIDMetadata({ uuid: 'nobody', data: { name: 'x' }, ifMatchesEtag: 'anything' }), statusOf(412));
  assert.equal((await c.objects.getChannelMetadata({ channel: 'doc' })).data.name, 'v2');
});

test('memberships and members: set, get with include/filter/sort, update, remove', async (t) => {
  const { client } = await setup(t, 'sqlite');
  const admin = client('admin');
  await admin.objects.setChannelMetadata({ channel: 'general', data: { name: 'General', type: 'public', custom: { topic: 'all' } } });
  await admin.objects.setChannelMetadata({ channel: 'random', data: { name: 'Random' } });
  await admin.objects.setUUIDMetadata({ uuid: 'alice', data: { name: 'Alice', custom: { tz: 'UTC' } } });

  const set = await admin.objects.setMemberships({
    uuid: 'alice',
    channels: [{ id: 'general', custom: { lastRead: '17000000000000000' }, status: 'active' }, 'random', 'no-metadata'],
    include: { customFields: true, channelFields: true, customChannelFields: true, totalCount: true },
  });
  assert.equal(set.totalCount, 3);
  assert.deepEqual(
    set.data.map((m: any) => m.channel.id),
    ['general', 'no-metadata', 'random'],
  );
  const general = set.data[0] as any;
  assert.equal(general.channel.name, 'General');
  assert.deepEqual(general.channel.custom, { topic: 'all' });
  assert.equal(general.status, 'active');
  assert.deepEqual(general.custom, { lastRead: '17000000000000000' });
  assert.deepEqual(set.data[1].channel, { id: 'no-metadata' }, 'a channel without metadata is just its id');

  // A second set updates custom and keeps the status it does not name.
  await admin.objects.setMemberships({ uuid: 'alice', channels: [{ id: 'general', custom: { lastRead: '17000000000000001' } }] });
  const got = await admin.objects.getMemberships({
    uuid: 'alice',
    filter: "channel.name LIKE 'gen*'",
    include: { customFields: true, statusField: true, channelFields: true },
  });
  assert.equal(got.data.length, 1);
  assert.equal(got.data[0].status, 'active');
  assert.deepEqual(got.data[0].custom, { lastRead: '17000000000000001' });
  const byName = await admin.objects.getMemberships({ uuid: 'alice', sort: { 'channel.name': 'desc' } });
  // Descending puts the channel without a name first, as SQL orders nulls.
  assert.deepEqual(
    byName.data.map((m: any) => m.channel.id),
    ['no-metadata', 'random', 'general'],
  );

  await admin.objects.setChannelMembers({ channel: 'general', uuids: [{ id: 'bob', custom: { role: 'mod' }, type: 'moderator' }] });
  const members = await admin.objects.getChannelMembers({
    channel: 'general',
    include: { UUIDFields: true, customUUIDFields: true, customFields: true, typeField: true, totalCount: true },
  });
  assert.equal(members.totalCount, 2);
  assert.deepEqual(
    members.data.map((m: any) => m.uuid.id),
    ['alice', 'bob'],
  );
  assert.equal((members.data[0].uuid as any).name, 'Alice');
  assert.deepEqual((members.data[0].uuid as any).custom, { tz: 'UTC' });
  assert.deepEqual(members.data[1].uuid, { id: 'bob' });
  assert.equal(members.data[1].type, 'moderator');
  const mods = await admin.objects.getChannelMembers({ channel: 'general', filter: "type == 'moderator' || custom.role == 'mod'" });
  assert.deepEqual(
    mods.data.map((m: any) => m.uuid.id),
    ['bob'],
  );

  const afterRemove = await admin.objects.removeMemberships({ uuid: 'alice', channels: ['random', 'no-metadata'] });
  assert.deepEqual(
    afterRemove.data.map((m: any) => m.channel.id),
    ['general'],
  );
  await admin.objects.removeChannelMembers({ channel: 'general', uuids: ['bob'] });
  assert.deepEqual(
    (await admin.objects.getChannelMembers({ channel: 'general' })).data.map((m: any) => m.uuid.id),
    ['alice'],
  );

  // Removing the uuid removes its memberships.
  await admin.objects.removeUUIDMetadata({ uuid: 'alice' });
  assert.deepEqual((await admin.objects.getChannelMembers({ channel: 'general' })).data, []);
});

test('subscribers receive objects events (e:2) on the channel and on the uuid', async (t) => {
  const { client } = await setup(t);
  const watcher = client('watcher');
  const seen = record(watcher);
  const events: any[] = [];
  watcher.addListener({ objects: (e: any) => events.push(e) });
  watcher.subscribe({ channels: ['room', 'alice'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'watcher connected');

  const actor = client('actor');
  const ch = await actor.objects.setChannelMetadata({ channel: 'room', data: { name: 'Room' } });
  await actor.objects.setUUIDMetadata({ uuid: 'alice', data: { name: 'Alice' } });
  await actor.objects.setUUIDMetadata({ uuid: 'alice', data: { email: 'a@example.com' } });
  await actor.objects.setUUIDMetadata({ uuid: 'alice', data: { email: 'a@example.com' } });
  await actor.objects.setMemberships({ uuid: 'alice', channels: [{ id: 'room', custom: { n: 1 } }] });
  await actor.objects.removeChannelMetadata({ channel: 'room' });
  await waitFor(() => events.length >= 6, 'six objects events');

  const summary = events.map((e) => `${e.channel} ${e.message.event} ${e.message.type}`);
  assert.deepEqual(summary.sort(), [
    'alice set membership',
    'alice set uuid',
    'alice set uuid',
    'room delete channel',
    'room set channel',
    'room set membership',
  ]);
  const roomSet = events.find((e) => e.channel === 'room' && e.message.type === 'channel' && e.message.event === 'set');
  assert.equal(roomSet.message.source, 'objects');
  assert.equal(roomSet.message.version, '2.0');
  assert.equal(roomSet.message.data.name, 'Room');
  assert.equal(roomSet.message.data.eTag, ch.data.eTag);
  // An update announces what changed, with the new eTag; the unchanged repeat announced nothing.
  const emailSet = events.filter((e) => e.message.type === 'uuid')[1].message.data;
  assert.deepEqual(Object.keys(emailSet).sort(), ['eTag', 'email', 'id', 'updated']);
  const membership = events.find((e) => e.message.type === 'membership').message.data;
  assert.deepEqual(membership.channel, { id: 'room' });
  assert.deepEqual(membership.uuid, { id: 'alice' });
  assert.deepEqual(membership.custom, { n: 1 });
  assert.deepEqual(events.find((e) => e.message.event === 'delete').message.data, { id: 'room' });
  assert.equal(events.length, 6);
});

test('Access Manager: alice may get/update herself and get/join the room, and nothing else', async (t) => {
  const { client } = await setup(t);
  const admin = client('admin', PAM_KEYSET, { secretKey: PAM_KEYSET.secretKey });
  await admin.objects.setChannelMetadata({ channel: 'room', data: { name: 'Room' } });
  await admin.objects.setChannelMetadata({ channel: 'other', data: { name: 'Other' } });
  await admin.objects.setUUIDMetadata({ uuid: 'bob', data: { name: 'Bob' } });
  const token = await admin.grantToken({
    ttl: 15,
    authorized_uuid: 'alice',
    resources: { uuids: { alice: { get: true, update: true } }, channels: { room: { get: true, join: true } } },
  });
  const alice = client('alice', PAM_KEYSET);
  alice.setToken(token);
  const denied = statusOf(403, 'PNAccessDeniedCategory');

  await alice.objects.setUUIDMetadata({ uuid: 'alice', data: { name: 'Alice' } });
  assert.equal((await alice.objects.getUUIDMetadata({ uuid: 'alice' })).data.name, 'Alice');
  assert.equal((await alice.objects.getChannelMetadata({ channel: 'room' })).data.name, 'Room');
  const joined = await alice.objects.setMemberships({ uuid: 'alice', channels: ['room'] });
  assert.deepEqual(
    joined.data.map((m: any) => m.channel.id),
    ['room'],
  );
  assert.deepEqual(
    (await alice.objects.getMemberships({ uuid: 'alice' })).data.map((m: any) => m.channel.id),
    ['room'],
  );
  await alice.objects.getChannelMembers({ channel: 'room' });

  await assert.rejects(alice.objects.removeUUIDMetadata({ uuid: 'alice' }), denied);
  await assert.rejects(alice.objects.getUUIDMetadata({ uuid: 'bob' }), (err: any) => {
    denied(err);
    assert.deepEqual(err.status.errorData.payload, { uuids: ['bob'] });
    return true;
  });
  await assert.rejects(alice.objects.setUUIDMetadata({ uuid: 'bob', data: { name: 'pwned' } }), denied);
  await assert.rejects(alice.objects.setChannelMetadata({ channel: 'room', data: { name: 'mine' } }), denied);
  await assert.rejects(alice.objects.removeChannelMetadata({ channel: 'room' }), denied);
  await assert.rejects(alice.objects.getChannelMetadata({ channel: 'other' }), denied);
  await assert.rejects(alice.objects.setMemberships({ uuid: 'alice', channels: ['room', 'other'] }), (err: any) => {
    denied(err);
    assert.deepEqual(err.status.errorData.payload, { channels: ['other'] });
    return true;
  });
  await assert.rejects(alice.objects.setChannelMembers({ channel: 'room', uuids: ['bob'] }), denied);
  await assert.rejects(alice.objects.getAllUUIDMetadata({}), denied);
  await assert.rejects(alice.objects.getAllChannelMetadata({}), denied);
  await assert.rejects(alice.objects.getMemberships({ uuid: 'bob' }), denied);

  // Nothing denied was changed.
  assert.equal((await admin.objects.getUUIDMetadata({ uuid: 'bob' })).data.name, 'Bob');
  assert.equal((await admin.objects.getChannelMetadata({ channel: 'room' })).data.name, 'Room');
  assert.deepEqual(
    (await admin.objects.getChannelMembers({ channel: 'room' })).data.map((m: any) => m.uuid.id),
    ['alice'],
  );
});
