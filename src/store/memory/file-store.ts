import { compareFilesNewestFirst, decodeFileCursor, encodeFileCursor, isAfter } from '../shared/file-cursor.ts';
import type { FileStore, StoredFile } from '../types.ts';

interface Entry {
  file: StoredFile;
  bytes: Buffer;
}

/** Files and their bytes in process memory; buffers are copied in and out so callers cannot alias them. */
export class MemoryFileStore implements FileStore {
  private readonly channels = new Map<string, Map<string, Entry>>();

  async put(file: StoredFile, bytes: Buffer): Promise<boolean> {
    const key = channelKey(file.subscribeKey, file.channel);
    let files = this.channels.get(key);
    if (files === undefined) {
      files = new Map();
      this.channels.set(key, files);
    }
    if (files.has(file.id)) return false;
    files.set(file.id, { file: { ...file }, bytes: Buffer.from(bytes) });
    return true;
  }

  async get(subscribeKey: string, channel: string, id: string): Promise<{ file: StoredFile; bytes: Buffer } | undefined> {
    const entry = this.channels.get(channelKey(subscribeKey, channel))?.get(id);
    return entry === undefined ? undefined : { file: { ...entry.file }, bytes: Buffer.from(entry.bytes) };
  }

  async delete(subscribeKey: string, channel: string, id: string): Promise<boolean> {
    const key = channelKey(subscribeKey, channel);
    const files = this.channels.get(key);
    if (files === undefined || !files.delete(id)) return false;
    if (files.size === 0) this.channels.delete(key);
    return true;
  }

  async list(subscribeKey: string, channel: string, limit: number, next: string | null): Promise<{ files: StoredFile[]; next: string | null }> {
    const position = next === null ? null : decodeFileCursor(next);
    const n = Math.max(1, Math.floor(limit));
    const all = [...(this.channels.get(channelKey(subscribeKey, channel))?.values() ?? [])]
      .map((e) => e.file)
      .filter((f) => position === null || isAfter(f, position))
      .sort(compareFilesNewestFirst);
    const page = all.slice(0, n).map((f) => ({ ...f }));
    return { files: page, next: all.length > n ? encodeFileCursor(page[page.length - 1]) : null };
  }
}

function channelKey(subscribeKey: string, channel: string): string {
  return JSON.stringify([subscribeKey, channel]);
}
