import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { ParleyError } from '../errors.ts';
import type { FileStore, OutgoingMessage, StoredFile } from '../store/types.ts';

/** Longest file name, characters. */
export const MAX_FILE_NAME_LENGTH = 255;

export interface FileServiceDeps {
  store: FileStore;
  /** The publish pipeline: a file message travels as an `e:4` message. */
  publish: (message: OutgoingMessage) => Promise<bigint>;
  clock: Clock;
  /** history.retentionHours: how long a stored file message is kept when its publish names no ttl; 0 = the keyset's retention only. */
  retentionHours: number;
  /** Draws file ids; a random UUID unless given (tests). */
  newId?: () => string;
}

/** One file of a channel: a file is addressed by its id and its name together. */
export interface FileRef {
  subscribeKey: string;
  channel: string;
  id: string;
  name: string;
}

/** §11 step 3: the message that shares an uploaded file on its channel. */
export interface FileMessage {
  subscribeKey: string;
  channel: string;
  publisher: string;
  /** Raw JSON text: `{message?, file: {id, name}}`, or a JSON string when the client encrypted it. */
  payload: string;
  /** Raw JSON text of an object, or null. */
  meta: string | null;
  customMessageType: string | null;
  /** Append to history as well as deliver. */
  store: boolean;
  /** History retention of this message, hours; undefined or 0 = retentionHours. */
  ttlHours: number | undefined;
}

/**
 * File sharing (wire-protocol.md §11 files): names and ids of uploads, the files themselves, and the
 * `e:4` messages that share them. Transport-agnostic: routes authorize (and verify their signed upload
 * and download URLs) first, then call here. A file's message stays in history after the file is
 * deleted, as in PubNub.
 */
export class FileService {
  private readonly newId: () => string;

  constructor(private readonly deps: FileServiceDeps) {
    this.newId = deps.newId ?? (() => randomUUID());
  }

  /**
   * Checks a name for a file about to be uploaded and assigns the file's id; nothing is stored until
   * save(). INVALID_PARAM for an empty or over-long name, or one with control characters.
   */
  newFile(name: string): { id: string; name: string } {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
    if (name.length === 0 || name.length > MAX_FILE_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new ParleyError('INVALID_PARAM', `name must be 1-${MAX_FILE_NAME_LENGTH} characters without control characters`);
    }
    return { id: this.newId(), name };
  }

  /**
   * Stores an uploaded file, created now. Resolves false and stores nothing when the channel already
   * has a file with that id: each id is uploaded once, and an upload never replaces a file.
   */
  save(ref: FileRef, contentType: string, bytes: Buffer): Promise<boolean> {
    const file: StoredFile = {
      subscribeKey: ref.subscribeKey,
      channel: ref.channel,
      id: ref.id,
      name: ref.name,
      size: bytes.length,
      created: new Date(this.deps.clock.nowMs()).toISOString(),
      contentType,
    };
    return this.deps.store.put(file, bytes);
  }

  /**
   * Publishes a file message as `e:4` and resolves with its timetoken. INVALID_JSON when the payload is
   * not JSON; INVALID_PARAM when it names no file.id and file.name (an encrypted message, a JSON string,
   * cannot be looked into and is taken as it is).
   */
  async publish(m: FileMessage): Promise<bigint> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(m.payload);
    } catch {
      throw new ParleyError('INVALID_JSON', 'Invalid JSON in message');
    }
    const fileRef = (parsed as { file?: { id?: unknown; name?: unknown } } | null)?.file;
    if (typeof parsed !== 'string' && (typeof fileRef?.id !== 'string' || typeof fileRef.name !== 'string')) {
      throw new ParleyError('INVALID_PARAM', 'a file message needs file.id and file.name');
    }
    const retentionHours = m.ttlHours || this.deps.retentionHours;
    return this.deps.publish({
      subscribeKey: m.subscribeKey,
      channel: m.channel,
      publisher: m.publisher,
      payload: m.payload,
      meta: m.meta,
      customMessageType: m.customMessageType,
      type: 4,
      store: m.store,
      expiresAtMs: m.store && retentionHours > 0 ? this.deps.clock.nowMs() + retentionHours * 3_600_000 : null,
    });
  }

  /** The channel's files, newest first, `limit` (at least 1) at a time; `next` as FileStore.list. */
  list(subscribeKey: string, channel: string, limit: number, next: string | null): Promise<{ files: StoredFile[]; next: string | null }> {
    return this.deps.store.list(subscribeKey, channel, limit, next);
  }

  /** The file and its bytes; NOT_FOUND unless the channel has a file with this id and this name. */
  async get(ref: FileRef): Promise<{ file: StoredFile; bytes: Buffer }> {
    const found = await this.deps.store.get(ref.subscribeKey, ref.channel, ref.id);
    if (found === undefined || found.file.name !== ref.name) throw notFound();
    return found;
  }

  /** Deletes the file (its message stays in history); NOT_FOUND as get(). */
  async remove(ref: FileRef): Promise<void> {
    const { file } = await this.get(ref);
    if (!(await this.deps.store.delete(file.subscribeKey, file.channel, file.id))) throw notFound();
  }
}

function notFound(): ParleyError {
  return new ParleyError('NOT_FOUND', 'File does not exist');
}
