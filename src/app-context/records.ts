import { createHash } from 'node:crypto';
import { ParleyError } from '../errors.ts';
import type { CustomFields, MembershipRecord, ObjectKind, ObjectMetadata } from '../store/types.ts';
import type { RecordView } from './filter.ts';

/** The metadata fields a PATCH may set, per kind (the SDK's UUIDMetadataFields / ChannelMetadataFields). */
const FIELDS = {
  uuid: ['name', 'externalId', 'profileUrl', 'email', 'status', 'type'],
  channel: ['name', 'description', 'status', 'type'],
} as const satisfies Record<ObjectKind, readonly (keyof ObjectMetadata)[]>;

type TextField = 'name' | 'externalId' | 'profileUrl' | 'email' | 'description' | 'status' | 'type';

/** What a PATCH body carries: only the fields it names; null clears a field. */
export interface MetadataPatch {
  fields: Partial<Record<TextField, string | null>>;
  /** Replaces custom as a whole (PubNub does not merge custom keys); absent keeps it. */
  custom?: CustomFields | null;
}

/** One entry of a memberships/members PATCH `set` list. */
export interface RelationInput {
  id: string;
  status?: string | null;
  type?: string | null;
  custom?: CustomFields | null;
}

/** Longest accepted text field; PubNub's own limits are lower for some fields, none higher. */
const MAX_TEXT = 2048;
const MAX_CUSTOM_KEYS = 100;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(value: unknown, path: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new ParleyError('INVALID_PARAM', `${path}: must be a string or null`);
  if (value.length > MAX_TEXT) throw new ParleyError('INVALID_PARAM', `${path}: longer than ${MAX_TEXT} characters`);
  return value;
}

/** App Context custom data holds scalars only (app-context.ts CustomData). */
export function parseCustom(value: unknown, path: string): CustomFields | null {
  if (value === null) return null;
  if (!isPlainObject(value)) throw new ParleyError('INVALID_PARAM', `${path}: must be an object of scalar values`);
  const entries = Object.entries(value);
  if (entries.length > MAX_CUSTOM_KEYS) throw new ParleyError('INVALID_PARAM', `${path}: more than ${MAX_CUSTOM_KEYS} keys`);
  const out: CustomFields = {};
  for (const [k, v] of entries) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new ParleyError('INVALID_PARAM', `${path}.${k}: values must be strings, numbers, booleans or null`);
    }
    out[k] = v;
  }
  return out;
}

export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'the request body is not valid JSON');
  }
}

/** Validates a uuid or channel PATCH body. Unknown keys are ignored, as the SDK may send newer fields. */
export function parseMetadataPatch(kind: ObjectKind, body: unknown): MetadataPatch {
  if (!isPlainObject(body)) throw new ParleyError('INVALID_PARAM', 'body: must be a JSON object');
  const patch: MetadataPatch = { fields: {} };
  for (const field of FIELDS[kind]) {
    if (Object.hasOwn(body, field) && body[field] !== undefined) patch.fields[field] = text(body[field], `body.${field}`);
  }
  if (Object.hasOwn(body, 'custom')) patch.custom = parseCustom(body.custom, 'body.custom');
  return patch;
}

/**
 * Validates a memberships (`channel`) or members (`uuid`) PATCH body: `{set?: [...], delete?: [...]}`,
 * each entry `{<side>: {id}, status?, type?, custom?}`. A key missing from an entry leaves that field
 * of an existing relation as it is.
 */
export function parseRelationsPatch(other: ObjectKind, body: unknown): { set: RelationInput[]; remove: string[] } {
  if (!isPlainObject(body)) throw new ParleyError('INVALID_PARAM', 'body: must be a JSON object');
  const list = (key: 'set' | 'delete'): Record<string, unknown>[] => {
    const v = body[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ParleyError('INVALID_PARAM', `body.${key}: must be an array`);
    return v.map((entry, i) => {
      if (!isPlainObject(entry)) throw new ParleyError('INVALID_PARAM', `body.${key}[${i}]: must be an object`);
      return entry;
    });
  };
  const idOf = (entry: Record<string, unknown>, path: string): string => {
    const ref = entry[other];
    const id = isPlainObject(ref) ? ref.id : undefined;
    if (typeof id !== 'string' || id === '') throw new ParleyError('INVALID_PARAM', `${path}.${other}.id: must be a non-empty string`);
    return id;
  };
  const set = list('set').map((entry, i): RelationInput => {
    const path = `body.set[${i}]`;
    const input: RelationInput = { id: idOf(entry, path) };
    if (entry.status !== undefined) input.status = text(entry.status, `${path}.status`);
    if (entry.type !== undefined) input.type = text(entry.type, `${path}.type`);
    if (entry.custom !== undefined) input.custom = parseCustom(entry.custom, `${path}.custom`);
    return input;
  });
  const remove = list('delete').map((entry, i) => idOf(entry, `body.delete[${i}]`));
  if (set.length + remove.length === 0) throw new ParleyError('INVALID_PARAM', 'body: set or delete must list at least one entry');
  return { set, remove };
}

/** JSON with object keys sorted, so equal content always hashes alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A content hash: records with equal content share an eTag, whatever their history. */
function hash(parts: unknown[]): string {
  return createHash('sha256').update(canonical(parts)).digest('base64url').slice(0, 16);
}

function metadataContent(r: ObjectMetadata): unknown[] {
  return [r.id, r.name, r.externalId, r.profileUrl, r.email, r.description, r.status, r.type, r.custom];
}

function membershipContent(r: MembershipRecord): unknown[] {
  return [r.uuid, r.channel, r.status, r.type, r.custom];
}

export function emptyMetadata(id: string): ObjectMetadata {
  return { id, name: null, externalId: null, profileUrl: null, email: null, description: null, status: null, type: null, custom: null, updated: '', eTag: '' };
}

/** The record after the patch, and which wire fields changed (empty when the PATCH changes nothing). */
export function applyMetadataPatch(
  current: ObjectMetadata | undefined,
  id: string,
  patch: MetadataPatch,
  updated: string,
): {
  record: ObjectMetadata;
  changed: string[];
} {
  const base = current ?? emptyMetadata(id);
  const next: ObjectMetadata = { ...base, custom: base.custom === null ? null : { ...base.custom } };
  const changed: string[] = [];
  for (const [field, value] of Object.entries(patch.fields) as [TextField, string | null][]) {
    if (next[field] !== value) changed.push(field);
    next[field] = value;
  }
  if (patch.custom !== undefined) {
    if (canonical(next.custom) !== canonical(patch.custom)) changed.push('custom');
    next.custom = patch.custom === null ? null : { ...patch.custom };
  }
  if (current !== undefined && changed.length === 0) return { record: current, changed };
  next.updated = updated;
  next.eTag = hash(metadataContent(next));
  return { record: next, changed: current === undefined ? ['*'] : changed };
}

/** The membership after a `set` entry, or undefined when it would change nothing. */
export function applyRelationInput(
  current: MembershipRecord | undefined,
  uuid: string,
  channel: string,
  input: RelationInput,
  updated: string,
): MembershipRecord | undefined {
  const next: MembershipRecord = {
    uuid,
    channel,
    status: input.status !== undefined ? input.status : (current?.status ?? null),
    type: input.type !== undefined ? input.type : (current?.type ?? null),
    custom: input.custom !== undefined ? input.custom : (current?.custom ?? null),
    updated,
    eTag: '',
  };
  next.eTag = hash(membershipContent(next));
  if (current !== undefined && current.eTag === next.eTag) return undefined;
  return next;
}

/** The fields of a record as the filter and sort see them (and as the wire names them). */
export function metadataView(kind: ObjectKind, r: ObjectMetadata): RecordView {
  const view: RecordView = { id: r.id, name: r.name };
  if (kind === 'uuid') Object.assign(view, { externalId: r.externalId, profileUrl: r.profileUrl, email: r.email });
  else view.description = r.description;
  return Object.assign(view, { status: r.status, type: r.type, custom: r.custom, updated: r.updated, eTag: r.eTag });
}

/** A membership seen from `side`: the other side's full metadata (or just its id) under its kind. */
export function relationView(side: ObjectKind, m: MembershipRecord, other: ObjectMetadata | undefined): RecordView {
  const otherKind: ObjectKind = side === 'uuid' ? 'channel' : 'uuid';
  const otherId = side === 'uuid' ? m.channel : m.uuid;
  return {
    [otherKind]: other ? metadataView(otherKind, other) : { id: otherId },
    [side]: { id: side === 'uuid' ? m.uuid : m.channel },
    status: m.status,
    type: m.type,
    custom: m.custom,
    updated: m.updated,
    eTag: m.eTag,
  };
}
