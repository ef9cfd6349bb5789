/**
 * Validation of the grant-token request body (wire-protocol.md §8.1). Errors come back as data in
 * the §1.5 Access Manager v3 400 shape (`details[{message, location}]`), every problem listed,
 * each with a path such as `permissions.patterns.channels["^a(.*)*$"]` (style.md §3.4).
 */
import { isPermissionValue, MAX_PERMISSION_VALUE } from '../permissions.ts';
import { isWellFormedUnicode, MAX_TOKEN_PATTERN_PROGRAM_SIZE, patternProgramSize, validateRegexPattern, type PatternCheck } from '../patterns.ts';

/** How patterns are judged; AccessManager passes its memoizing PatternCache.validate. */
export type PatternValidator = (source: string) => PatternCheck;
import type { MetaValue, PermissionMaps } from './codec.ts';

/** §8.1 service rule: ttl in minutes, 1..43200 (30 days). */
export const MIN_TOKEN_TTL_MINUTES = 1;
export const MAX_TOKEN_TTL_MINUTES = 43_200;

export interface GrantTokenRequest {
  readonly ttlMinutes: number;
  readonly authorizedUuid?: string;
  readonly resources: PermissionMaps;
  readonly patterns: PermissionMaps;
  readonly meta: ReadonlyMap<string, MetaValue>;
}

export interface GrantBodyIssue {
  message: string;
  location: string;
}

export type GrantBodyResult = { ok: true; value: GrantTokenRequest } | { ok: false; message: string; details: GrantBodyIssue[] };

/** Body keys → Parley kinds. `users`/`spaces` are the SDK's newer names for uuids/channels. */
const SECTION_KINDS = {
  channels: 'channels',
  groups: 'groups',
  uuids: 'uuids',
  spaces: 'channels',
  users: 'uuids',
} as const;
type SectionKey = keyof typeof SECTION_KINDS;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `["name"]` keeps names with dots, spaces or quotes unambiguous in a location. */
function at(path: string, name: string): string {
  return `${path}[${JSON.stringify(name)}]`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

interface Section {
  channels: Map<string, number>;
  groups: Map<string, number>;
  uuids: Map<string, number>;
}

function readSection(raw: unknown, path: string, isPattern: boolean, issues: GrantBodyIssue[], validate: PatternValidator): Section {
  const section: Section = { channels: new Map(), groups: new Map(), uuids: new Map() };
  if (raw === undefined) return section;
  if (!isPlainObject(raw)) {
    issues.push({ message: `${path} must be an object`, location: path });
    return section;
  }
  for (const [key, entries] of Object.entries(raw)) {
    const sectionPath = `${path}.${key}`;
    if (!Object.hasOwn(SECTION_KINDS, key)) {
      issues.push({ message: `unknown resource type "${key}" (expected channels, groups, uuids, users, spaces)`, location: sectionPath });
      continue;
    }
    if (entries === undefined || entries === null) continue;
    if (!isPlainObject(entries)) {
      issues.push({ message: `${sectionPath} must be an object of name → permission bits`, location: sectionPath });
      continue;
    }
    const target = section[SECTION_KINDS[key as SectionKey]];
    for (const [name, bits] of Object.entries(entries)) {
      const location = at(sectionPath, name);
      if (name.length === 0) {
        issues.push({ message: 'resource names must not be empty', location });
        continue;
      }
      if (!isWellFormedUnicode(name)) {
        issues.push({ message: 'resource names must be valid Unicode (no lone surrogates)', location });
        continue;
      }
      if (!isPermissionValue(bits)) {
        issues.push({ message: `permission must be an integer 0..${MAX_PERMISSION_VALUE} (got ${describe(bits)})`, location });
        continue;
      }
      if (isPattern) {
        const check = validate(name);
        if (!check.ok) {
          issues.push({ message: `invalid pattern: ${check.reason}`, location });
          continue;
        }
      }
      // spaces/users fold onto channels/uuids as the SDK does; a name in both keeps every bit.
      target.set(name, (target.get(name) ?? 0) | bits);
    }
  }
  return section;
}

function readMeta(raw: unknown, issues: GrantBodyIssue[]): Map<string, MetaValue> {
  const meta = new Map<string, MetaValue>();
  if (raw === undefined || raw === null) return meta;
  if (!isPlainObject(raw)) {
    issues.push({ message: 'meta must be an object', location: 'permissions.meta' });
    return meta;
  }
  for (const [key, value] of Object.entries(raw)) {
    const location = at('permissions.meta', key);
    if (!isWellFormedUnicode(key)) {
      issues.push({ message: 'meta keys must be valid Unicode', location });
      continue;
    }
    const scalar =
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'string' && isWellFormedUnicode(value)) ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!scalar) {
      issues.push({ message: `meta values must be strings, numbers, booleans or null (got ${describe(value)})`, location });
      continue;
    }
    meta.set(key, value as MetaValue);
  }
  return meta;
}

/** Parses and validates a grant-token body; never throws. */
export function parseGrantTokenBody(json: unknown, validate: PatternValidator = validateRegexPattern): GrantBodyResult {
  const issues: GrantBodyIssue[] = [];
  if (!isPlainObject(json)) {
    return fail([{ message: 'request body must be a JSON object', location: 'body' }]);
  }

  const ttl = json.ttl;
  if (ttl === undefined) {
    issues.push({ message: 'ttl is required', location: 'ttl' });
  } else if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TOKEN_TTL_MINUTES || ttl > MAX_TOKEN_TTL_MINUTES) {
    issues.push({
      message: `ttl must be an integer number of minutes between ${MIN_TOKEN_TTL_MINUTES} and ${MAX_TOKEN_TTL_MINUTES} (got ${describe(ttl)})`,
      location: 'ttl',
    });
  }

  const permissions = json.permissions;
  if (!isPlainObject(permissions)) {
    issues.push({ message: 'permissions must be an object', location: 'permissions' });
    return fail(issues);
  }

  let authorizedUuid: string | undefined;
  if (permissions.uuid !== undefined && permissions.uuid !== null) {
    if (typeof permissions.uuid !== 'string' || permissions.uuid.length === 0 || !isWellFormedUnicode(permissions.uuid)) {
      issues.push({ message: `authorized uuid must be a non-empty string (got ${describe(permissions.uuid)})`, location: 'permissions.uuid' });
    } else {
      authorizedUuid = permissions.uuid;
    }
  }

  const resources = readSection(permissions.resources, 'permissions.resources', false, issues, validate);
  const patterns = readSection(permissions.patterns, 'permissions.patterns', true, issues, validate);
  const meta = readMeta(permissions.meta, issues);

  const total = resources.channels.size + resources.groups.size + resources.uuids.size + patterns.channels.size + patterns.groups.size + patterns.uuids.size;
  if (total === 0 && !issues.some((i) => i.location.startsWith('permissions.resources') || i.location.startsWith('permissions.patterns'))) {
    issues.push({ message: 'at least one resource or pattern permission is required', location: 'permissions' });
  }

  if (issues.length === 0) patternBudget(patterns, issues);
  if (issues.length > 0) return fail(issues);
  return {
    ok: true,
    value: { ttlMinutes: ttl as number, authorizedUuid, resources, patterns, meta },
  };
}

const SECTIONS = ['resources', 'patterns'] as const;
const KINDS = ['channels', 'groups', 'uuids'] as const;

function patternProblem(check: PatternCheck): string | undefined {
  return check.ok ? undefined : `invalid pattern: ${check.reason}`;
}

/**
 * The same rules for a request built in code (demo app server, CLI) rather than parsed from JSON:
 * every token Parley signs has passed them, so verify.ts can trust a signed token's patterns.
 */
export function checkGrantTokenRequest(request: GrantTokenRequest, validate: PatternValidator = validateRegexPattern): GrantBodyIssue[] {
  const issues: GrantBodyIssue[] = [];
  const ttl = request.ttlMinutes;
  if (!Number.isInteger(ttl) || ttl < MIN_TOKEN_TTL_MINUTES || ttl > MAX_TOKEN_TTL_MINUTES) {
    issues.push({
      message: `ttl must be an integer number of minutes between ${MIN_TOKEN_TTL_MINUTES} and ${MAX_TOKEN_TTL_MINUTES} (got ${ttl})`,
      location: 'ttl',
    });
  }
  if (request.authorizedUuid !== undefined && (request.authorizedUuid.length === 0 || !isWellFormedUnicode(request.authorizedUuid))) {
    issues.push({ message: 'authorized uuid must be a non-empty string', location: 'permissions.uuid' });
  }
  let total = 0;
  for (const section of SECTIONS) {
    for (const kind of KINDS) {
      for (const [name, bits] of request[section][kind]) {
        total++;
        // Locations are built only for problems: this runs for every token minted.
        const problem =
          name.length === 0 || !isWellFormedUnicode(name)
            ? 'resource names must be non-empty, valid Unicode'
            : !isPermissionValue(bits)
              ? `permission must be an integer 0..${MAX_PERMISSION_VALUE} (got ${bits})`
              : section === 'patterns'
                ? patternProblem(validate(name))
                : undefined;
        if (problem !== undefined) issues.push({ message: problem, location: at(`permissions.${section}.${kind}`, name) });
      }
    }
  }
  if (total === 0) issues.push({ message: 'at least one resource or pattern permission is required', location: 'permissions' });
  if (issues.length === 0) patternBudget(request.patterns, issues);
  for (const [key, value] of request.meta) {
    const scalar = value === null || typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
    if (!scalar || !isWellFormedUnicode(key))
      issues.push({ message: 'meta values must be strings, numbers, booleans or null', location: at('permissions.meta', key) });
  }
  return issues;
}

/** The per-token cost cap of patterns (patterns.ts MAX_TOKEN_PATTERN_PROGRAM_SIZE), per kind. */
function patternBudget(patterns: PermissionMaps, issues: GrantBodyIssue[]): void {
  for (const kind of KINDS) {
    let size = 0;
    for (const name of patterns[kind].keys()) size += patternProgramSize(name);
    if (size > MAX_TOKEN_PATTERN_PROGRAM_SIZE) {
      issues.push({
        message: `the ${kind} patterns compile to ${size} RE2 instructions together, more than ${MAX_TOKEN_PATTERN_PROGRAM_SIZE}: use fewer or simpler patterns`,
        location: `permissions.patterns.${kind}`,
      });
    }
  }
}

function fail(details: GrantBodyIssue[]): GrantBodyResult {
  // The §1.5 shape's top-level `error.message` names the first problem, e.g. "Invalid ttl".
  const first = details[0];
  const message = first.location === 'ttl' ? 'Invalid ttl' : first.location === 'body' ? 'Invalid request body' : 'Invalid permissions';
  return { ok: false, message, details };
}
