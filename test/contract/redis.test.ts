import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, test, type TestContext } from 'node:test';
import { createRedisStores } from '../../src/store/redis/index.ts';
import type { StoredMessage, Stores } from '../../src/store/types.ts';
import { objectRecord } from '../helpers/object-records.ts';
import { adminClient, deleteKeysWithPrefix, keysWithPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.ts';
import { brokerContract } from './broker.contract.ts';
import { nodeFromConfig, type ContractOptions } from './contract-options.ts';
import { storesContract } from './stores.contract.ts';
import { BASE_TIMETOKEN, storedAt } from '../helpers/stored-messages.ts';

const admin = adminClient();
after(() => admin.quit());

/** Stores on a fresh prefix; cleanup closes them and deletes every key under the prefix. */
function freshRedis(t: TestContext, prefix = uniqueRedisPrefix()): Stores {
  const stores = createRedisStores({ url: REDIS_URL, prefix });
  t.after(async () => {
    await stores.close();
    await deleteKeysWithPrefix(admin, prefix);
  });
  return stores;
}

const options: ContractOptions = {
  name: 'redis',
  create: async () => {
    const prefix = uniqueRedisPrefix();
    const stores = createRedisStores({ url: REDIS_URL, prefix });
    return {
      stores,
      cleanup: async () => {
        await stores.close();
        await deleteKeysWithPrefix(admin, prefix);
      },
    };
  },
};

storesContract(options);

brokerContract({
  name: 'redis',
  create: async (clock, count) => {
    const prefix = uniqueRedisPrefix();
    const config = { store: { kind: 'redis' }, redis: { url: REDIS_URL, prefix }, dataDir: '.' } as const;
    const nodes = Array.from({ length: count }, () => nodeFromConfig(config, clock));
    return {
      nodes,
      cleanup: async () => {
        await Promise.all(nodes.map((n) => n.close()));
        await deleteKeysWithPrefix(admin, prefix);
      },
    };
  },
});

const SUB = 'sub-a';
const T = BASE_TIMETOKEN;
const NOW = 1_700_000_000_000;

const msg = (subscribeKey: string, channel: string, offset: number): StoredMessage => storedAt(subscribeKey, channel, offset);

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('redis engine', () => {
  test('every key of a keyset carries the keyset hash tag, node-wide keys the prefix tag', async (t) => {
    const prefix = uniqueRedisPrefix();
    const stores = freshRedis(t, prefix);
    await stores.messages.append([{ ...msg('sub-{x}:y', 'a:b', 1), expiresAtMs: NOW + 1 }]);
    await stores.channelGroups.addChannels('sub-{x}:y', 'g', ['a']);
    await stores.grants.put([{ subscribeKey: 'sub-{x}:y', level: 'channel', resource: 'a', authKey: '', perms: 1, ttlMinutes: 1, expiresAtMs: NOW }]);
    await stores.denyList.add({ subscribeKey: 'sub-{x}:y', tokenId: 'aa', expiresAtMs: NOW });
    await stores.presence.touch('sub-{x}:y', 'a', 'u', NOW);
    await stores.messageActions.add({
      subscribeKey: 'sub-{x}:y',
      channel: 'a:b',
      messageTimetoken: T,
      actionTimetoken: T + 1n,
      type: 't',
      value: 'v',
      uuid: 'u',
    });
    await stores.files.put(
      { subscribeKey: 'sub-{x}:y', channel: 'a:b', id: 'f', name: 'f.txt', size: 1, created: new Date(NOW).toISOString(), contentType: 'text/plain' },
      Buffer.from('x'),
    );
    const keys = await keysWithPrefix(admin, prefix);
    assert.ok(keys.length >= 17, `keys: ${keys.join(' ')}`);
    for (const key of keys) {
      const tag = /^[^{]*\{([^}]*)\}/.exec(key)?.[1];
      assert.ok(tag === 'sub-%7Bx%7D%3Ay' || tag === prefix, `unexpected hash tag in ${key}`);
    }
    assert.deepEqual(await admin.smembers(`${prefix}:{${prefix}}:keysets`), ['sub-{x}:y']);
  });

  test('two engines on one prefix share data; engines on different prefixes do not', async (t) => {
    const prefix = uniqueRedisPrefix();
    const a = freshRedis(t, prefix);
    const b = createRedisStores({ url: REDIS_URL, prefix });
    t.after(() => b.close());
    const other = freshRedis(t);
    await a.messages.append([msg(SUB, 'ch', 1)]);
    await a.channelGroups.addChannels(SUB, 'g', ['ch']);
    const all = { subscribeKey: SUB, channels: ['ch'], range: {}, limit: 10, keep: 'newest', nowMs: NOW } as const;
    assert.deepEqual(await b.messages.query(all), [msg(SUB, 'ch', 1)]);
    assert.deepEqual(await b.channelGroups.listChannels(SUB, 'g'), ['ch']);
    assert.deepEqual(await other.messages.query(all), []);
    assert.deepEqual(await other.channelGroups.listGroups(SUB), []);
  });

  test('when several nodes sweep presence at once, each expired entry is returned exactly once', async (t) => {
    const prefix = uniqueRedisPrefix();
    const nodes = [freshRedis(t, prefix), ...[1, 2, 3].map(() => createRedisStores({ url: REDIS_URL, prefix }))];
    for (const n of nodes.slice(1)) t.after(() => n.close());
    const expected: string[] = [];
    for (let i = 0; i < 1200; i++) {
      const channel = `ch-${i % 7}`;
      const uuid = `u-${i}`;
      await nodes[i % nodes.length].presence.touch(i % 2 === 0 ? SUB : 'sub-b', channel, uuid, NOW - (i % 13));
      expected.push(`${i % 2 === 0 ? SUB : 'sub-b'}/${channel}/${uuid}`);
    }
    await nodes[0].presence.touch(SUB, 'ch-0', 'stays', NOW + 1);
    const results = await Promise.all(nodes.map((n) => n.presence.expire(NOW)));
    const seen = results.flat().map((e) => `${e.subscribeKey}/${e.channel}/${e.uuid}`);
    assert.equal(seen.length, expected.length, 'an entry was returned twice or not at all');
    assert.deepEqual(seen.sort(), expected.sort());
    assert.deepEqual(await nodes[1].presence.occupants(SUB, 'ch-0'), ['stays']);
    assert.deepEqual(await nodes[2].presence.channels('sub-b'), []);
  });

  test('a large history page, and purge over many channels, stay within script limits', async (t) => {
    const stores = freshRedis(t);
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ ...msg(SUB, `ch-${i % 300}`, i), expiresAtMs: i % 2 === 0 ? NOW : null }));
    await stores.messages.append(rows);
    const page = await stores.messages.query({ subscribeKey: SUB, channels: ['ch-0'], range: {}, limit: 100_000, keep: 'oldest', nowMs: 0 });
    assert.equal(page.length, 40);
    assert.equal(await stores.messages.purgeExpired(NOW), 6000);
    assert.equal(await stores.messages.count(SUB, 'ch-1', {}, 100_000, 0), 40);
    assert.equal(await stores.messages.count(SUB, 'ch-0', {}, 100_000, 0), 0);
  });

  test('nodes on one prefix share one deny list epoch; once Redis lost the data the next call records a new one', async (t) => {
    const prefix = uniqueRedisPrefix();
    const a = freshRedis(t, prefix);
    const b = createRedisStores({ url: REDIS_URL, prefix });
    t.after(() => b.close());
    const [ea, eb] = await Promise.all([a.denyList.epoch(NOW), b.denyList.epoch(NOW + 7)]);
    assert.equal(ea, eb);
    await a.denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: NOW + 60_000 });
    assert.equal(await b.denyList.epoch(NOW + 1000), ea);
    // Redis restarted without its data: only this prefix's keys go, as the shared test server is not ours.
    await deleteKeysWithPrefix(admin, prefix);
    assert.equal(await b.denyList.has(SUB, 'aa11', NOW), false);
    assert.equal(await b.denyList.epoch(NOW + 2000), NOW + 2000);
    assert.equal(await a.denyList.epoch(NOW + 3000), NOW + 2000);
  });

  test('health: not ready while Redis is unreachable', async (t) => {
    const port = await unusedPort();
    const stores = createRedisStores({ url: `redis://127.0.0.1:${port}`, prefix: uniqueRedisPrefix() });
    t.after(() => stores.close());
    await assert.rejects(stores.grants.list(SUB, 0), { code: 'STORE_UNAVAILABLE' });
    const report = await stores.health();
    assert.equal(report.ok, false);
    assert.match(report.reason!, /redis/);
  });

  test('after close every store rejects with STORE_UNAVAILABLE, and close is idempotent', async (t) => {
    const stores = freshRedis(t);
    await stores.messages.append([msg(SUB, 'a', 1)]);
    await stores.close();
    await stores.close();
    await assert.rejects(stores.messages.append([msg(SUB, 'a', 2)]), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.messages.count(SUB, 'a', {}, 10, 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.channelGroups.listGroups(SUB), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.grants.list(SUB, 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.denyList.has(SUB, 'x', 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.presence.occupants(SUB, 'a'), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.messageActions.list(SUB, 'a', {}, 10), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.files.get(SUB, 'a', 'f'), { code: 'STORE_UNAVAILABLE' });
  });

  // How fast they fail is a figure of bench/latency.ts, not asserted here.
  test('with Redis unreachable, calls fail with STORE_UNAVAILABLE and keep the cause', async (t) => {
    const port = await unusedPort();
    const stores = createRedisStores({ url: `redis://127.0.0.1:${port}`, prefix: uniqueRedisPrefix() });
    t.after(() => stores.close());
    await assert.rejects(stores.grants.list(SUB, 0), (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err && err.code === 'STORE_UNAVAILABLE');
      assert.ok(err.cause instanceof Error, 'the ioredis error is kept as cause');
      return true;
    });
    await assert.rejects(stores.messages.append([msg(SUB, 'a', 1)]), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.presence.expire(NOW), { code: 'STORE_UNAVAILABLE' });
  });

  test('after the server lost its script cache (restart, SCRIPT FLUSH) scripts are re-sent and work', async (t) => {
    const stores = freshRedis(t);
    await stores.messages.append([msg(SUB, 'a', 1)]);
    await admin.script('FLUSH');
    await stores.messages.append([msg(SUB, 'a', 2)]);
    assert.equal(await stores.messages.count(SUB, 'a', {}, 10, NOW), 2);
  });

  test('App Context records written before the id index existed are paged once page() has rebuilt it', async (t) => {
    const prefix = uniqueRedisPrefix();
    const stores = freshRedis(t, prefix);
    await stores.objects.put('sub-idx', 'uuid', objectRecord('m'));
    // Records as an older node wrote them: in the HASH only.
    const hash = `${prefix}:{sub-idx}:obj:uuid`;
    assert.equal(await admin.hexists(hash, 'm'), 1, 'the HASH is where the test thinks');
    for (const id of ['c', 'a', 'z']) await admin.hset(hash, id, JSON.stringify(objectRecord(id)));
    const page = await stores.objects.page('sub-idx', 'uuid', { after: 'a' }, 2);
    assert.deepEqual(
      page.records.map((r) => r.id),
      ['c', 'm'],
    );
    assert.deepEqual([page.hasBefore, page.hasAfter], [true, true]);
    assert.equal(await admin.zcard(`${prefix}:{sub-idx}:objidx:uuid`), 4);

    // Members written before their index existed: the first page rebuilds it too.
    const members = `${prefix}:{sub-idx}:mbr:room`;
    for (const uuid of ['u3', 'u1', 'u2'])
      await admin.hset(members, uuid, JSON.stringify({ uuid, channel: 'room', status: null, type: null, custom: null, updated: 'x', eTag: 'm' }));
    const firstMembers = await stores.objects.membershipPage('sub-idx', 'channel', 'room', null, 2);
    assert.deepEqual(
      firstMembers.records.map((m) => m.uuid),
      ['u1', 'u2'],
    );
    assert.deepEqual([firstMembers.hasBefore, firstMembers.hasAfter], [false, true]);
  });

  test('a prefix with braces is refused', () => {
    assert.throws(() => createRedisStores({ url: REDIS_URL, prefix: 'a{b}' }), { code: 'INVALID_PARAM' });
  });
});
