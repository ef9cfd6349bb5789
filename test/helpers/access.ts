/**
 * Builders for Access Manager tests: keysets, an AccessManager on memory stores with a fake
 * clock, AccessRequests as the protocol layer would build them, and SDK-style signing.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import PubNub from 'pubnub';
import type { Keyset } from '../../src/keyset.ts';
import type { AccessRequest, Requirement } from '../../src/access/types.ts';
import { AccessManager, type AccessManagerDeps } from '../../src/access/access-manager.ts';
import { encodeString, signRequest } from '../../src/access/signature.ts';
import { parseQuery } from '../../src/protocol/query.ts';
import { createMemoryStores } from '../../src/store/memory/index.ts';
import type { Stores } from '../../src/store/types.ts';
import { createFakeClock, type FakeClock } from './fake-clock.ts';

export const KEYSET_A: Keyset = { publishKey: 'pub-a', subscribeKey: 'sub-a', secretKey: 'secret-a-0123456789abcdef0123456789' };
export const KEYSET_B: Keyset = { publishKey: 'pub-b', subscribeKey: 'sub-b', secretKey: 'secret-b-0123456789abcdef0123456789' };
export const OPEN_KEYSET: Keyset = { publishKey: 'pub-o', subscribeKey: 'sub-o', secretKey: '' };

/** A logger whose lines the test can read (to prove secrets never reach them). */
export function captureLogger(level = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

export const silentLogger: Logger = pino({ level: 'silent' });

export interface AccessFixture {
  manager: AccessManager;
  stores: Stores;
  clock: FakeClock;
  lines: string[];
}

export async function startAccess(
  options: Partial<Omit<AccessManagerDeps, 'grants' | 'denyList' | 'clock' | 'log'>> & { clock?: FakeClock; stores?: Stores } = {},
): Promise<AccessFixture> {
  const clock = options.clock ?? createFakeClock();
  const stores = options.stores ?? createMemoryStores();
  const { log, lines } = captureLogger();
  const manager = new AccessManager({
    grants: stores.grants,
    denyList: stores.denyList,
    clock,
    log,
    keysets: options.keysets ?? [KEYSET_A, KEYSET_B, OPEN_KEYSET],
    signatureWindowSec: options.signatureWindowSec,
    tokenCacheSize: options.tokenCacheSize,
    purgeIntervalMs: 0,
  });
  await manager.start();
  return { manager, stores, clock, lines };
}

/** The request with its query re-encoded, edited as raw text and parsed again (tampering tests). */
export function withRawQuery(req: AccessRequest, edit: (rawQuery: string) => string): AccessRequest {
  const raw = req.query.pairs.map((p) => `${p.name}=${encodeString(p.value)}`).join('&');
  return { ...req, query: parseQuery(edit(raw)) };
}

/** An AccessRequest as the protocol layer builds it: query encoded with the SDK's encodeString. */
export function accessRequest(
  keyset: Keyset,
  options: {
    requirements?: readonly Requirement[];
    params?: Record<string, string>;
    uuid?: string;
    method?: string;
    path?: string;
    body?: string;
    adminOnly?: boolean;
  } = {},
): AccessRequest {
  const uuid = options.uuid ?? 'user-1';
  const params: Record<string, string> = { uuid, pnsdk: 'PubNub-JS-Nodejs/12.0.3', ...options.params };
  const rawQuery = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeString(v)}`)
    .join('&');
  return {
    keyset,
    method: options.method ?? 'GET',
    path: options.path ?? `/publish/${keyset.publishKey}/${keyset.subscribeKey}/0/ch1/0/%22hi%22`,
    query: parseQuery(rawQuery),
    body: options.body ?? '',
    uuid,
    requirements: options.requirements ?? [],
    adminOnly: options.adminOnly ?? false,
  };
}

/** The same request, signed with the keyset's secret as the SDK would sign it. */
export function signedRequest(keyset: Keyset, nowMs: number, options: Parameters<typeof accessRequest>[1] = {}): AccessRequest {
  const method = options.method ?? 'GET';
  const path = options.path ?? `/v2/auth/grant/sub-key/${keyset.subscribeKey}`;
  const params: Record<string, string> = {
    uuid: options.uuid ?? 'admin-1',
    pnsdk: 'PubNub-JS-Nodejs/12.0.3',
    ...options.params,
    timestamp: String(Math.floor(nowMs / 1000)),
  };
  const signature = signRequest(keyset, { method, path, params, body: options.body });
  return accessRequest(keyset, { ...options, method, path, uuid: params.uuid, params: { ...params, signature } });
}

/** The real SDK's token parser (wire-protocol.md §8.5): what clients will see. */
export function sdkParseToken(token: string): ReturnType<PubNub['parseToken']> {
  const pubnub = new PubNub({ publishKey: 'p', subscribeKey: 's', userId: 'u' });
  return pubnub.parseToken(token);
}
