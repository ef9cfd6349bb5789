import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A Lua script from lua/, read once per process; its SHA1 is what EVALSHA names it by. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function load(name: string): LuaScript {
  const source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  historyAppend: load('history-append'),
  historyQuery: load('history-query'),
  historyCount: load('history-count'),
  historyDelete: load('history-delete'),
  historyPurge: load('history-purge'),
  commit: load('commit'),
  groupAdd: load('group-add'),
  groupRemove: load('group-remove'),
  grantPut: load('grant-put'),
  grantPurge: load('grant-purge'),
  presenceTouch: load('presence-touch'),
  presenceRemove: load('presence-remove'),
  presenceExpire: load('presence-expire'),
  objectPut: load('object-put'),
  objectRemove: load('object-remove'),
  indexedPage: load('indexed-page'),
  actionAdd: load('action-add'),
  actionRemove: load('action-remove'),
  filePut: load('file-put'),
  fileDelete: load('file-delete'),
} as const;
