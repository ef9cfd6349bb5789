import { ParleyError } from '../../errors.ts';
import type { StoredFile } from '../types.ts';

/** Where a listFiles page ended: the last file's sort key (created descending, then id descending). */
export interface FilePosition {
  created: string;
  id: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The `next` cursor of FileStore.list, the same in every backend so a page started on one node of a
 * deployment can continue on another. Opaque to clients: base64url of "created\nid".
 */
export function encodeFileCursor(file: Pick<StoredFile, 'created' | 'id'>): string {
  return Buffer.from(`${file.created}\n${file.id}`, 'utf8').toString('base64url');
}

export function decodeFileCursor(cursor: string): FilePosition {
  const text = /^[A-Za-z0-9_-]{1,1400}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const nl = text.indexOf('\n');
  const created = text.slice(0, nl);
  const id = text.slice(nl + 1);
  if (nl < 0 || !ISO.test(created) || id.length === 0) throw new ParleyError('INVALID_PARAM', 'next is not a cursor this server issued');
  return { created, id };
}

/** True when `file` sorts after the position in listing order (older, or as old with a smaller id). */
export function isAfter(file: Pick<StoredFile, 'created' | 'id'>, position: FilePosition): boolean {
  return file.created < position.created || (file.created === position.created && file.id < position.id);
}

/** Listing order: newest first, then id descending. */
export function compareFilesNewestFirst(a: Pick<StoredFile, 'created' | 'id'>, b: Pick<StoredFile, 'created' | 'id'>): number {
  if (a.created !== b.created) return a.created < b.created ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}
