/**
 * Access Manager v2 grant and audit (wire-protocol.md §7.1, §7.2) on top of GrantStore: request
 * parsing and validation, the records a grant writes, and the payload shapes PubNub answers with.
 * No I/O here; AccessManager stores the records and updates the index.
 */
import { ParleyError } from '../errors.ts';
import type { GrantLevel, GrantRecord } from '../store/types.ts';
import { bitsToFlags, flagBit, MAX_PERMISSION_VALUE, V2_FLAGS, type V2Flag } from './permissions.ts';
import { isWellFormedUnicode, validateV2ChannelName } from './patterns.ts';

export const DEFAULT_GRANT_TTL_MINUTES = 1440;
export const MAX_GRANT_TTL_MINUTES = 525_600;
/**
 * Grants one request may write: (channels + groups + uuids, or 1 at key level) × auth keys. A grant is
 * one record per pair, stored, mirrored on every node and named to them in one event; without a bound a
 * 16 KiB query of 4,000 short names and 4,000 auth keys would write 16 million.
 */
export const MAX_GRANT_RECORDS = 10_000;

export interface GrantV2Params {
  channels?: readonly string[];
  groups?: readonly string[];
  /** `target-uuid`: App Context uuid permissions (not with channels or groups). */
  targetUuids?: readonly string[];
  /** Auth keys granted to; empty or absent = every auth key. */
  authKeys?: readonly string[];
  /** Permission bitmask (permissions.flagsToBits); 0 withdraws. */
  perms: number;
  /** Minutes; absent = 1440, 0 = no expiry. */
  ttlMinutes?: number;
}

export interface AuditV2Params {
  channel?: string;
  group?: string;
  authKeys?: readonly string[];
}

/** A validated grant. */
export interface ResolvedGrantV2 {
  channels: string[];
  groups: string[];
  targetUuids: string[];
  /** [''] when the grant is for every auth key. */
  authKeys: string[];
  perms: number;
  ttlMinutes: number;
  isKeyLevel: boolean;
}

const CHANNEL_FLAGS: readonly V2Flag[] = V2_FLAGS;
const GROUP_FLAGS: readonly V2Flag[] = ['r', 'm'];
const UUID_FLAGS: readonly V2Flag[] = ['g', 'u', 'd'];

function invalid(location: string, problem: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `grant.${location}: ${problem}`, { details: { location } });
}

function splitList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',');
}

function parseFlag(query: ReadonlyMap<string, string>, flag: V2Flag): boolean {
  const value = query.get(flag);
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw invalid(flag, `must be 1 or 0 (got ${JSON.stringify(value.slice(0, 20))})`);
}

/** §7.1 query (already percent-decoded) → params. Lists are comma-joined before encoding. */
export function parseGrantV2Query(query: ReadonlyMap<string, string>): GrantV2Params {
  let perms = 0;
  for (const flag of V2_FLAGS) if (parseFlag(query, flag)) perms |= flagBit(flag);
  const ttl = query.get('ttl');
  let ttlMinutes: number | undefined;
  if (ttl !== undefined) {
    if (!/^\d{1,7}$/.test(ttl)) throw invalid('ttl', `must be a whole number of minutes (got ${JSON.stringify(ttl.slice(0, 20))})`);
    ttlMinutes = Number(ttl);
  }
  return {
    channels: splitList(query.get('channel')),
    groups: splitList(query.get('channel-group')),
    targetUuids: splitList(query.get('target-uuid')),
    authKeys: splitList(query.get('auth')),
    perms,
    ttlMinutes,
  };
}

/** §7.2 query → params. */
export function parseAuditV2Query(query: ReadonlyMap<string, string>): AuditV2Params {
  return { channel: query.get('channel'), group: query.get('channel-group'), authKeys: splitList(query.get('auth')) };
}

function checkNames(names: readonly string[] | undefined, location: string, channel: boolean): string[] {
  if (names === undefined) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (name.length === 0) throw invalid(`${location}[${i}]`, 'must not be empty');
    if (!isWellFormedUnicode(name)) throw invalid(`${location}[${i}]`, 'must be valid Unicode');
    if (channel) {
      const check = validateV2ChannelName(name);
      if (!check.ok) throw invalid(`${location}[${JSON.stringify(name)}]`, check.reason);
    }
    if (seen.has(name)) return;
    seen.add(name);
    out.push(name);
  });
  return out;
}

/** §7.1 semantics and limits; throws ParleyError('INVALID_PARAM') naming the field. */
export function resolveGrantV2(params: GrantV2Params): ResolvedGrantV2 {
  const channels = checkNames(params.channels, 'channels', true);
  const groups = checkNames(params.groups, 'channel-groups', false);
  const targetUuids = checkNames(params.targetUuids, 'target-uuids', false);
  const authKeys = checkNames(params.authKeys, 'auths', false);
  if (targetUuids.length > 0 && (channels.length > 0 || groups.length > 0)) {
    throw invalid('target-uuids', 'uuid grants cannot be combined with channels or channel groups');
  }
  const ttlMinutes = params.ttlMinutes ?? DEFAULT_GRANT_TTL_MINUTES;
  if (!Number.isInteger(ttlMinutes) || ttlMinutes < 0 || ttlMinutes > MAX_GRANT_TTL_MINUTES) {
    throw invalid('ttl', `out of range 0..${MAX_GRANT_TTL_MINUTES} (got ${ttlMinutes})`);
  }
  if (!Number.isInteger(params.perms) || params.perms < 0 || params.perms > MAX_PERMISSION_VALUE) {
    throw invalid('perms', `must be a permission bitmask 0..${MAX_PERMISSION_VALUE}`);
  }
  const isKeyLevel = channels.length === 0 && groups.length === 0 && targetUuids.length === 0;
  const resources = isKeyLevel ? 1 : channels.length + groups.length + targetUuids.length;
  const records = resources * Math.max(1, authKeys.length);
  if (records > MAX_GRANT_RECORDS) {
    throw invalid(
      'auths',
      `${resources} channels, groups or uuids × ${Math.max(1, authKeys.length)} auth keys make ${records} grants; at most ${MAX_GRANT_RECORDS} per request: split it`,
    );
  }
  return {
    channels,
    groups,
    targetUuids,
    authKeys: authKeys.length > 0 ? authKeys : [''],
    perms: params.perms,
    ttlMinutes,
    isKeyLevel,
  };
}

/** One record per (level, resource, auth key); perms 0 withdraws (GrantStore.put). */
export function grantRecords(subscribeKey: string, grant: ResolvedGrantV2, nowMs: number): GrantRecord[] {
  const expiresAtMs = grant.perms === 0 || grant.ttlMinutes === 0 ? null : nowMs + grant.ttlMinutes * 60_000;
  const targets: Array<[GrantLevel, string]> = grant.isKeyLevel
    ? [['subkey', '']]
    : [
        ...grant.channels.map((c): [GrantLevel, string] => ['channel', c]),
        ...grant.groups.map((g): [GrantLevel, string] => ['channel-group', g]),
        ...grant.targetUuids.map((u): [GrantLevel, string] => ['uuid', u]),
      ];
  const records: GrantRecord[] = [];
  for (const [level, resource] of targets) {
    for (const authKey of grant.authKeys) {
      records.push({ subscribeKey, level, resource, authKey, perms: grant.perms, ttlMinutes: grant.ttlMinutes, expiresAtMs });
    }
  }
  return records;
}

type Flags = Record<string, number>;

/**
 * Objects keyed by names from requests are filled with defineProperty, so a channel or auth key
 * named "__proto__" is an ordinary key rather than a prototype assignment.
 */
function put<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function authsOf(authKeys: readonly string[], flags: Flags): Record<string, Flags> {
  const auths: Record<string, Flags> = {};
  for (const k of authKeys) put(auths, k, { ...flags });
  return auths;
}

function perResource(names: readonly string[], authKeys: readonly string[] | undefined, flags: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) put(out, name, authKeys ? { auths: authsOf(authKeys, flags) } : { ...flags });
  return out;
}

/** The `payload` of a grant answer, in the §7.1 shape of its level. */
export function grantPayload(subscribeKey: string, grant: ResolvedGrantV2): Record<string, unknown> {
  const base = { subscribe_key: subscribeKey, ttl: grant.ttlMinutes };
  const withAuth = grant.authKeys[0] !== '' ? grant.authKeys : undefined;
  const channelFlags = bitsToFlags(grant.perms, CHANNEL_FLAGS);
  if (grant.isKeyLevel) {
    return { level: 'subkey', ...base, ...channelFlags, ...(withAuth ? { auths: authsOf(withAuth, channelFlags) } : {}) };
  }
  if (grant.targetUuids.length > 0) {
    return { level: 'user', ...base, uuids: perResource(grant.targetUuids, withAuth, bitsToFlags(grant.perms, UUID_FLAGS)) };
  }
  const groupFlags = bitsToFlags(grant.perms, GROUP_FLAGS);
  if (grant.groups.length === 0) {
    if (grant.channels.length === 1 && withAuth) {
      return { level: 'channel+auth', ...base, channel: grant.channels[0], auths: authsOf(withAuth, channelFlags) };
    }
    return { level: 'channel', ...base, channels: perResource(grant.channels, withAuth, channelFlags) };
  }
  if (grant.channels.length === 0) {
    if (grant.groups.length === 1 && withAuth) {
      return { level: 'channel-group+auth', ...base, 'channel-group': grant.groups[0], auths: authsOf(withAuth, groupFlags) };
    }
    return { level: 'channel-group', ...base, 'channel-groups': perResource(grant.groups, withAuth, groupFlags) };
  }
  return {
    level: 'channel',
    ...base,
    channels: perResource(grant.channels, withAuth, channelFlags),
    'channel-groups': perResource(grant.groups, withAuth, groupFlags),
  };
}

// ---------------------------------------------------------------------------------------------
// Audit

/** Remaining lifetime in whole minutes, rounded up; 0 for grants without expiry (as granted). */
export function remainingTtlMinutes(record: GrantRecord, nowMs: number): number {
  if (record.expiresAtMs === null) return 0;
  return Math.max(1, Math.ceil((record.expiresAtMs - nowMs) / 60_000));
}

function flagsFor(level: GrantLevel): readonly V2Flag[] {
  return level === 'channel-group' ? GROUP_FLAGS : level === 'uuid' ? UUID_FLAGS : CHANNEL_FLAGS;
}

function entryOf(record: GrantRecord, nowMs: number): Flags {
  return { ...bitsToFlags(record.perms, flagsFor(record.level)), ttl: remainingTtlMinutes(record, nowMs) };
}

/** `{name: {flags of the every-auth grant, ttl, auths:{key: {flags, ttl}}}}` for one level. */
function resourceMap(records: readonly GrantRecord[], nowMs: number): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of records) {
    if (!Object.hasOwn(out, r.resource)) put(out, r.resource, {});
    const entry = out[r.resource];
    if (r.authKey === '') Object.assign(entry, entryOf(r, nowMs));
    else {
      if (entry.auths === undefined) entry.auths = {};
      put(entry.auths as Record<string, Flags>, r.authKey, entryOf(r, nowMs));
    }
  }
  return out;
}

function authMap(records: readonly GrantRecord[], nowMs: number): Record<string, Flags> {
  const out: Record<string, Flags> = {};
  for (const r of records) put(out, r.authKey, entryOf(r, nowMs));
  return out;
}

/** The `payload` of an audit answer (§7.2): live grants at the requested level, remaining ttl. */
export function auditPayload(subscribeKey: string, records: readonly GrantRecord[], params: AuditV2Params, nowMs: number): Record<string, unknown> {
  const wanted = params.authKeys && params.authKeys.length > 0 ? new Set(params.authKeys) : undefined;
  const live = records.filter(
    (r) => r.subscribeKey === subscribeKey && (r.expiresAtMs === null || r.expiresAtMs > nowMs) && (!wanted || wanted.has(r.authKey)),
  );
  const at = (level: GrantLevel, resource?: string) => live.filter((r) => r.level === level && (resource === undefined || r.resource === resource));
  const base = { subscribe_key: subscribeKey };

  if (params.channel !== undefined && params.group === undefined) {
    const found = at('channel', params.channel);
    if (wanted)
      return {
        level: 'channel+auth',
        ...base,
        channel: params.channel,
        auths: authMap(
          found.filter((r) => r.authKey !== ''),
          nowMs,
        ),
      };
    return { level: 'channel', ...base, channels: resourceMap(found, nowMs) };
  }
  if (params.group !== undefined && params.channel === undefined) {
    const found = at('channel-group', params.group);
    if (wanted)
      return {
        level: 'channel-group+auth',
        ...base,
        'channel-group': params.group,
        auths: authMap(
          found.filter((r) => r.authKey !== ''),
          nowMs,
        ),
      };
    return { level: 'channel-group', ...base, 'channel-groups': resourceMap(found, nowMs) };
  }
  if (params.channel !== undefined && params.group !== undefined) {
    return {
      level: 'channel',
      ...base,
      channels: resourceMap(at('channel', params.channel), nowMs),
      'channel-groups': resourceMap(at('channel-group', params.group), nowMs),
    };
  }
  const subkey = at('subkey');
  const everyAuth = subkey.find((r) => r.authKey === '');
  const perAuth = subkey.filter((r) => r.authKey !== '');
  return {
    level: 'subkey',
    ...base,
    ...(everyAuth ? entryOf(everyAuth, nowMs) : {}),
    ...(perAuth.length > 0 ? { auths: authMap(perAuth, nowMs) } : {}),
    channels: resourceMap(at('channel'), nowMs),
    'channel-groups': resourceMap(at('channel-group'), nowMs),
    objects: resourceMap(at('uuid'), nowMs),
  };
}
