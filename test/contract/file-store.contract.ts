import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { StoredFile } from '../../src/store/types.ts';
import { freshStores, type ContractOptions } from './contract-options.ts';

const SUB = 'sub-a';
const OTHER_SUB = 'sub-b';
const BASE_MS = Date.UTC(2024, 0, 1);

function file(id: string, createdOffsetMs: number, extra: Partial<StoredFile> = {}): StoredFile {
  return {
    subscribeKey: SUB,
    channel: 'ch',
    id,
    name: `${id}.txt`,
    size: 3,
    created: new Date(BASE_MS + createdOffsetMs).toISOString(),
    contentType: 'text/plain; charset=utf-8',
    ...extra,
  };
}

const ids = (files: readonly StoredFile[]): string[] => files.map((f) => f.id);

export function fileStoreContract(options: ContractOptions): void {
  describe(`${options.name}: FileStore`, { skip: options.skip }, () => {
    test('round-trips metadata and bytes exactly (every byte value, unicode names)', async (t) => {
      const { files } = await freshStores(t, options);
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(70_000)]);
      const meta = file('f-1', 0, { channel: 'ch 😀/x', name: 'naïve résumé (1).pdf', size: bytes.length, contentType: 'application/pdf' });
      assert.equal(await files.put(meta, bytes), true);
      const got = await files.get(SUB, meta.channel, 'f-1');
      assert.ok(got);
      assert.deepEqual(got.file, meta);
      assert.ok(got.bytes.equals(bytes));
      assert.equal(await files.get(SUB, meta.channel, 'f-2'), undefined);
      assert.equal(await files.get(SUB, 'ch', 'f-1'), undefined);
    });

    test('an empty file is a file', async (t) => {
      const { files } = await freshStores(t, options);
      assert.equal(await files.put(file('empty', 0, { size: 0 }), Buffer.alloc(0)), true);
      const got = await files.get(SUB, 'ch', 'empty');
      assert.equal(got?.bytes.length, 0);
      assert.equal(got?.file.size, 0);
    });

    test('put never replaces: a second put with the same id is refused and changes nothing', async (t) => {
      const { files } = await freshStores(t, options);
      assert.equal(await files.put(file('f', 0), Buffer.from('one')), true);
      assert.equal(await files.put(file('f', 5, { name: 'other.bin' }), Buffer.from('two')), false);
      const got = await files.get(SUB, 'ch', 'f');
      assert.equal(got?.bytes.toString(), 'one');
      assert.equal(got?.file.name, 'f.txt');
      assert.equal((await files.list(SUB, 'ch', 10, null)).files.length, 1);
    });

    test('returned bytes are a copy: changing them changes nothing stored', async (t) => {
      const { files } = await freshStores(t, options);
      const input = Buffer.from('abc');
      await files.put(file('f', 0), input);
      input[0] = 0x7a;
      const first = await files.get(SUB, 'ch', 'f');
      first!.bytes[1] = 0x7a;
      assert.equal((await files.get(SUB, 'ch', 'f'))?.bytes.toString(), 'abc');
    });

    test('delete removes metadata, bytes and listing entry, and reports whether it existed', async (t) => {
      const { files } = await freshStores(t, options);
      await files.put(file('a', 0), Buffer.from('a'));
      await files.put(file('b', 1), Buffer.from('b'));
      assert.equal(await files.delete(SUB, 'ch', 'a'), true);
      assert.equal(await files.delete(SUB, 'ch', 'a'), false);
      assert.equal(await files.delete(SUB, 'other', 'b'), false);
      assert.equal(await files.get(SUB, 'ch', 'a'), undefined);
      assert.deepEqual(ids((await files.list(SUB, 'ch', 10, null)).files), ['b']);
      assert.equal(await files.put(file('a', 2), Buffer.from('again')), true, 'a deleted id may be used again');
    });

    test('list is newest first, ties by id descending, and pages with next until null', async (t) => {
      const { files } = await freshStores(t, options);
      const order = [
        ['c', 5],
        ['a', 1],
        ['e', 9],
        ['b', 5],
        ['d', 5],
        ['f', 0],
        ['g', 9],
      ] as const;
      for (const [id, at] of order) await files.put(file(id, at), Buffer.from(id));
      const expected = ['g', 'e', 'd', 'c', 'b', 'a', 'f'];
      const whole = await files.list(SUB, 'ch', 100, null);
      assert.deepEqual(ids(whole.files), expected);
      assert.equal(whole.next, null);

      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const page: { files: StoredFile[]; next: string | null } = await files.list(SUB, 'ch', 3, next);
        seen.push(...ids(page.files));
        next = page.next;
        pages++;
      } while (next !== null);
      assert.deepEqual(seen, expected);
      assert.equal(pages, 3);

      const exact = await files.list(SUB, 'ch', 7, null);
      assert.equal(exact.next, null, 'a page that ends exactly at the last file has no next');
      assert.deepEqual(await files.list(SUB, 'empty', 10, null), { files: [], next: null });
    });

    test('a cursor survives deletion of the file it points at', async (t) => {
      const { files } = await freshStores(t, options);
      for (let i = 0; i < 5; i++) await files.put(file(`f${i}`, i), Buffer.from('x'));
      const first = await files.list(SUB, 'ch', 2, null);
      assert.deepEqual(ids(first.files), ['f4', 'f3']);
      await files.delete(SUB, 'ch', 'f3');
      await files.delete(SUB, 'ch', 'f2');
      const second = await files.list(SUB, 'ch', 2, first.next);
      assert.deepEqual(ids(second.files), ['f1', 'f0']);
      assert.equal(second.next, null);
    });

    test('a cursor the store did not issue is INVALID_PARAM', async (t) => {
      const { files } = await freshStores(t, options);
      await assert.rejects(files.list(SUB, 'ch', 10, 'not a cursor!'), { code: 'INVALID_PARAM' });
      await assert.rejects(files.list(SUB, 'ch', 10, Buffer.from('garbage').toString('base64url')), { code: 'INVALID_PARAM' });
    });

    test('channels and keysets are isolated', async (t) => {
      const { files } = await freshStores(t, options);
      await files.put(file('f', 0), Buffer.from('sub-a ch'));
      assert.equal(await files.put(file('f', 0, { channel: 'ch2' }), Buffer.from('sub-a ch2')), true);
      assert.equal(await files.put(file('f', 0, { subscribeKey: OTHER_SUB }), Buffer.from('sub-b ch')), true);
      assert.equal(await files.delete(OTHER_SUB, 'ch', 'f'), true);
      assert.equal((await files.get(SUB, 'ch', 'f'))?.bytes.toString(), 'sub-a ch');
      assert.equal((await files.get(SUB, 'ch2', 'f'))?.bytes.toString(), 'sub-a ch2');
      assert.deepEqual((await files.list(OTHER_SUB, 'ch', 10, null)).files, []);
    });

    test('concurrent puts of one id: exactly one wins', async (t) => {
      const { files } = await freshStores(t, options);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => files.put(file('f', i), Buffer.from(`v${i}`))));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await files.get(SUB, 'ch', 'f'))?.bytes.toString(), `v${winner}`);
    });
  });
}
