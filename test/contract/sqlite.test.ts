import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteStores } from '../../src/store/sqlite/index.ts';
import { loadMigrations, migrate } from '../../src/store/sqlite/migrate.ts';
import type { StoredMessage, Stores } from '../../src/store/types.ts';
import { brokerContract } from './broker.contract.ts';
import { nodeFromConfig, type ContractOptions } from './contract-options.ts';
import { storesContract } from './stores.contract.ts';
import { BASE_TIMETOKEN, storedAt } from '../helpers/stored-messages.ts';

function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
}

const options: ContractOptions = {
  name: 'sqlite',
  create: async () => {
    const dir = makeTempDir();
    const stores = createSqliteStores({ file: join(dir, 'parley.db') });
    return {
      stores,
      cleanup: async () => {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

storesContract(options);

brokerContract({
  name: 'sqlite',
  singleNode: 'a sqlite engine is one node: one process owns its database file',
  create: async (clock, count) => {
    if (count !== 1) throw new Error(`the sqlite engine has one node (asked for ${count})`);
    const dir = makeTempDir();
    const node = nodeFromConfig({ store: { kind: 'sqlite' }, redis: { url: '', prefix: 'parley' }, dataDir: dir }, clock);
    return {
      nodes: [node],
      cleanup: async () => {
        await node.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

const T = BASE_TIMETOKEN;
const SUB = 'sub-a';
const MIGRATIONS_DIR = new URL('../../src/store/sqlite/migrations/', import.meta.url);
const KILL_FIXTURE = fileURLToPath(new URL('./fixtures/append-until-killed.ts', import.meta.url));

function tempFile(t: TestContext): string {
  const dir = makeTempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'parley.db');
}

function open(t: TestContext, file: string): Stores {
  const stores = createSqliteStores({ file });
  t.after(() => stores.close());
  return stores;
}

const msg = (channel: string, offset: number): StoredMessage => storedAt(SUB, channel, offset);

function everything(stores: Stores, channels: string[]): Promise<StoredMessage[]> {
  return stores.messages.query({ subscribeKey: SUB, channels, range: {}, limit: Number.MAX_SAFE_INTEGER, keep: 'oldest', nowMs: 0 });
}

describe('sqlite engine', () => {
  test('an acknowledged append survives kill -9 of the process, and no batch is half-written', async (t) => {
    const file = tempFile(t);
    const batchSize = 10;
    const child = spawn(process.execPath, ['--import', 'tsx', KILL_FIXTURE, file, String(batchSize)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const acked: bigint[] = [];
    let pending = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^acked (\d+)$/.exec(line);
        if (match !== null) acked.push(BigInt(match[1]));
      }
      // Killed while it keeps appending, so the kill usually lands inside a transaction.
      if (acked.length >= 50 && child.signalCode === null) child.kill('SIGKILL');
    });
    const [, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL', `child ended without being killed: ${stderr}`);
    assert.ok(acked.length >= 50);

    const stores = open(t, file);
    const stored = await everything(stores, ['ch-0', 'ch-1', 'ch-2']);
    const storedTimetokens = new Set(stored.map((m) => m.timetoken));
    for (const tt of acked) assert.ok(storedTimetokens.has(tt), `acked timetoken ${tt} lost`);
    assert.ok(stored.length >= acked.length * batchSize);
    assert.equal(stored.length % batchSize, 0, 'a batch was partly stored');
  });

  test('reopening keeps every kind of data and re-running migrations is a no-op', async (t) => {
    const file = tempFile(t);
    const first = createSqliteStores({ file });
    await first.messages.append([msg('a', 1), msg('a', 2)]);
    await first.channelGroups.addChannels(SUB, 'cg', ['a', 'b']);
    const grant = { subscribeKey: SUB, level: 'channel', resource: 'a', authKey: 'k', perms: 3, ttlMinutes: 0, expiresAtMs: null } as const;
    await first.grants.put([grant]);
    await first.denyList.add({ subscribeKey: SUB, tokenId: 'aa11', expiresAtMs: 10_000 });
    const action = { subscribeKey: SUB, channel: 'a', messageTimetoken: T + 1n, actionTimetoken: T + 5n, type: 'reaction', value: 'smiley', uuid: 'u-2' };
    await first.messageActions.add(action);
    const shared = {
      subscribeKey: SUB,
      channel: 'a',
      id: 'f-1',
      name: 'a.bin',
      size: 3,
      created: '2024-01-01T00:00:00.000Z',
      contentType: 'application/octet-stream',
    };
    await first.files.put(shared, Buffer.from([0, 1, 255]));
    await first.denyList.addKick({ subscribeKey: SUB, uuid: 'mallory', kickedAtMs: 5_000 });
    const rotation = { subscribeKey: SUB, rotatedAtMs: 6_000, previousValidUntilMs: 66_000, sealedNew: 'n', sealedPrevious: 'p' };
    await first.secretRotations.append(rotation);
    await first.close();

    for (let reopen = 0; reopen < 2; reopen++) {
      const stores = createSqliteStores({ file });
      assert.deepEqual(await everything(stores, ['a']), [msg('a', 1), msg('a', 2)]);
      assert.deepEqual(await stores.channelGroups.listChannels(SUB, 'cg'), ['a', 'b']);
      assert.deepEqual(await stores.grants.list(SUB, 0), [grant]);
      assert.equal(await stores.denyList.has(SUB, 'aa11', 0), true);
      assert.deepEqual(await stores.messageActions.list(SUB, 'a', {}, 10), [action]);
      assert.deepEqual(await stores.files.get(SUB, 'a', 'f-1'), { file: shared, bytes: Buffer.from([0, 1, 255]) });
      assert.deepEqual(await stores.denyList.listKicks(0), [{ subscribeKey: SUB, uuid: 'mallory', kickedAtMs: 5_000 }]);
      assert.deepEqual(await stores.secretRotations.list(SUB), [rotation]);
      await stores.close();
    }

    const db = new Database(file, { readonly: true });
    t.after(() => db.close());
    assert.equal(db.pragma('user_version', { simple: true }), loadMigrations(MIGRATIONS_DIR).length);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  });

  test('creates a missing data directory', async (t) => {
    const file = join(tempFile(t), '..', 'nested', 'deeper', 'parley.db');
    const stores = open(t, file);
    await stores.messages.append([msg('a', 1)]);
    assert.equal((await everything(stores, ['a'])).length, 1);
  });

  test('refuses a database migrated by a newer Parley', (t) => {
    const file = tempFile(t);
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    assert.throws(() => createSqliteStores({ file }), { code: 'STORE_UNAVAILABLE' });
  });

  test('a database failure mid-batch rolls back the whole batch and is STORE_UNAVAILABLE', async (t) => {
    const file = tempFile(t);
    const stores = open(t, file);
    await stores.messages.append([msg('a', 1)]);
    // A second connection adds a trigger that fails one row, as a full disk or I/O error would.
    const saboteur = new Database(file);
    saboteur.exec("CREATE TRIGGER fail_boom BEFORE INSERT ON messages WHEN NEW.channel = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    saboteur.close();
    const failure = stores.messages.append([msg('a', 2), msg('b', 2), msg('boom', 2), msg('a', 3)]);
    await assert.rejects(failure, (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err && err.code === 'STORE_UNAVAILABLE');
      assert.ok(err.cause instanceof Error, 'the SQLite error is kept as cause');
      return true;
    });
    assert.deepEqual(await everything(stores, ['a', 'b', 'boom']), [msg('a', 1)]);
  });

  test('the deny list epoch survives a reopen; a new database file records a new one', async (t) => {
    const file = tempFile(t);
    const first = createSqliteStores({ file });
    assert.equal(await first.denyList.epoch(1_000), 1_000);
    await first.close();
    const reopened = open(t, file);
    assert.equal(await reopened.denyList.epoch(5_000), 1_000);
    const fresh = open(t, tempFile(t));
    assert.equal(await fresh.denyList.epoch(5_000), 5_000);
  });

  test('a database from before the epoch existed (schema 3) gets epoch 0 on upgrade: its deny list was never lost', async (t) => {
    const file = tempFile(t);
    const old = new Database(file);
    migrate(old, loadMigrations(MIGRATIONS_DIR).slice(0, 3));
    old.close();
    const stores = open(t, file);
    assert.equal(await stores.denyList.epoch(5_000), 0);
  });

  test('health: ready while the file is in place; not ready once it is deleted, its directory removed, or the file replaced', async (t) => {
    const dir = makeTempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'parley.db');
    const stores = open(t, file);
    assert.deepEqual(await stores.health(), { ok: true });
    rmSync(dir, { recursive: true, force: true });
    const gone = await stores.health();
    assert.equal(gone.ok, false);
    assert.match(gone.reason!, /database file is gone/);

    const file2 = tempFile(t);
    const other = open(t, file2);
    rmSync(file2);
    writeFileSync(file2, '');
    const replaced = await other.health();
    assert.equal(replaced.ok, false);
    assert.match(replaced.reason!, /replaced/);
  });

  test('after close every store rejects with STORE_UNAVAILABLE, and close is idempotent', async (t) => {
    const stores = createSqliteStores({ file: tempFile(t) });
    await stores.close();
    await stores.close();
    await assert.rejects(stores.messages.append([msg('a', 1)]), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(everything(stores, ['a']), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.messages.count(SUB, 'a', {}, 10, 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.channelGroups.listGroups(SUB), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.grants.list(SUB, 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.denyList.has(SUB, 'x', 0), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.messageActions.list(SUB, 'a', {}, 10), { code: 'STORE_UNAVAILABLE' });
    await assert.rejects(stores.files.get(SUB, 'a', 'f'), { code: 'STORE_UNAVAILABLE' });
  });
});
