import { decodeFileCursor, encodeFileCursor } from '../shared/file-cursor.ts';
import type { FileStore, StoredFile } from '../types.ts';
import type { RedisConnection } from './connection.ts';
import type { KeysetRegistry } from './keyset-registry.ts';
import type { KeysetKeys, RedisKeys } from './keys.ts';
import { SCRIPTS } from './scripts.ts';

/** Metadata as stored: JSON [name, size, created, contentType]. */
type FileMeta = [string, number, string, string];

/**
 * Files in Redis (docs/redis.md). Per channel: a HASH of metadata, a HASH of bytes (Redis strings are
 * binary-safe) and a score-0 ZSET of `<created> <id>` members; ISO timestamps have a fixed width, so
 * ZREVRANGEBYLEX walks files newest first and a cursor is just the last member.
 */
export class RedisFileStore implements FileStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly registry: KeysetRegistry,
  ) {}

  async put(file: StoredFile, bytes: Buffer): Promise<boolean> {
    await this.registry.ensure([file.subscribeKey]);
    const ks = this.keys.keyset(file.subscribeKey);
    const meta: FileMeta = [file.name, file.size, file.created, file.contentType];
    const stored = await this.connection.script('putFile', {
      script: SCRIPTS.filePut,
      keys: fileKeys(ks, file.channel),
      args: [file.id, JSON.stringify(meta), bytes, `${file.created} ${file.id}`],
    });
    return Number(stored) === 1;
  }

  async get(subscribeKey: string, channel: string, id: string): Promise<{ file: StoredFile; bytes: Buffer } | undefined> {
    const ks = this.keys.keyset(subscribeKey);
    // MULTI: metadata and bytes from one point in time, never a half-deleted file.
    const [meta, bytes] = await this.connection.run('getFile', async (client) => {
      const replies = await client.multi().hget(ks.fileMeta(channel), id).hgetBuffer(ks.fileBytes(channel), id).exec();
      if (replies === null) throw new Error('transaction discarded');
      return replies.map(([err, value]) => {
        if (err) throw err;
        return value;
      }) as [string | null, Buffer | null];
    });
    if (meta === null || bytes === null) return undefined;
    return { file: toFile(subscribeKey, channel, id, meta), bytes };
  }

  async delete(subscribeKey: string, channel: string, id: string): Promise<boolean> {
    const deleted = await this.connection.script('deleteFile', {
      script: SCRIPTS.fileDelete,
      keys: fileKeys(this.keys.keyset(subscribeKey), channel),
      args: [id],
    });
    return Number(deleted) === 1;
  }

  async list(subscribeKey: string, channel: string, limit: number, next: string | null): Promise<{ files: StoredFile[]; next: string | null }> {
    const position = next === null ? null : decodeFileCursor(next);
    const n = Math.max(1, Math.floor(limit));
    const ks = this.keys.keyset(subscribeKey);
    const max = position === null ? '+' : `(${position.created} ${position.id}`;
    const members = await this.connection.run('listFiles', (client) => client.zrevrangebylex(ks.fileIndex(channel), max, '-', 'LIMIT', 0, n + 1));
    const ids = members.slice(0, n).map((m) => m.slice(m.indexOf(' ') + 1));
    const metas = ids.length === 0 ? [] : await this.connection.run('listFiles', (client) => client.hmget(ks.fileMeta(channel), ...ids));
    const files: StoredFile[] = [];
    ids.forEach((id, i) => {
      const meta = metas[i];
      if (meta !== null && meta !== undefined) files.push(toFile(subscribeKey, channel, id, meta));
    });
    const last = members[Math.min(n, members.length) - 1];
    // The cursor is the page's last index member, even if that file was deleted between the two reads.
    const cursor = members.length > n ? encodeFileCursor({ created: last.slice(0, last.indexOf(' ')), id: last.slice(last.indexOf(' ') + 1) }) : null;
    return { files, next: cursor };
  }
}

function fileKeys(ks: KeysetKeys, channel: string): string[] {
  return [ks.fileMeta(channel), ks.fileBytes(channel), ks.fileIndex(channel)];
}

function toFile(subscribeKey: string, channel: string, id: string, meta: string): StoredFile {
  const [name, size, created, contentType] = JSON.parse(meta) as FileMeta;
  return { subscribeKey, channel, id, name, size, created, contentType };
}
