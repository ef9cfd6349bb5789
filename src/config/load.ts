import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigSchema, type Config } from './schema.ts';

/** Exit code for bad configuration (sysexits EX_CONFIG). */
export const EX_CONFIG = 78;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(issues.length === 1 ? `invalid configuration: ${issues[0]}` : `invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, Json>;

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** How an env value is read: like its default's type; a default of "auto" takes auto, true or false. */
type LeafType = 'number' | 'boolean' | 'string' | 'auto';

/** Every scalar leaf of the defaults, with its derived env name: one list, derived from the schema. */
function envLeaves(): Array<{ path: string[]; env: string; type: LeafType }> {
  const out: Array<{ path: string[]; env: string; type: LeafType }> = [];
  const walk = (obj: Obj, path: string[]): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Obj, [...path, k]);
      else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
        const type: LeafType = v === 'auto' ? 'auto' : (typeof v as 'number' | 'boolean' | 'string');
        out.push({ path: [...path, k], env: `PARLEY_${[...path, k].map(snake).join('_')}`, type });
      }
    }
  };
  walk(ConfigSchema.parse({}) as unknown as Obj, []);
  return out;
}

/** The env names Parley reads, for docs and `parley config`. */
export function envNames(): string[] {
  return [
    'PORT',
    'PARLEY_CONFIG',
    'PARLEY_PUBLISH_KEY',
    'PARLEY_SUBSCRIBE_KEY',
    'PARLEY_SECRET_KEY',
    'PARLEY_STORE',
    'PARLEY_REDIS_URL',
    ...envLeaves().map((l) => l.env),
  ];
}

function setPath(target: Obj, path: string[], value: Json): void {
  let cur = target;
  for (const p of path.slice(0, -1)) {
    if (cur[p] === undefined || typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Obj;
  }
  cur[path[path.length - 1]] = value;
}

function coerce(raw: string, type: LeafType, env: string, issues: string[]): Json | undefined {
  if (type === 'string') return raw;
  if (type === 'auto' && /^auto$/i.test(raw.trim())) return 'auto';
  if (type === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) {
      issues.push(`${env}: expected a number (got "${raw}")`);
      return undefined;
    }
    return Number(raw);
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  issues.push(`${env}: expected ${type === 'auto' ? 'auto, true' : 'true'} or false (got "${raw}")`);
  return undefined;
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? deepMerge(b as Obj, v as Obj) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file (overrides PARLEY_CONFIG). */
  file?: string;
  /** Highest precedence (CLI flags, tests). */
  overrides?: Record<string, unknown>;
}

/** defaults < config file < PARLEY_* env < overrides; validated and frozen. Throws ConfigError listing every issue. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const issues: string[] = [];
  let merged: Obj = {};

  const file = options.file ?? env.PARLEY_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) issues.push(`${file}: must hold a JSON object`);
      else merged = parsed;
    } catch (err) {
      issues.push(`${file}: ${(err as Error).message}`);
    }
  }

  const fromEnv: Obj = {};
  for (const leaf of envLeaves()) {
    const raw = env[leaf.env];
    if (raw === undefined || raw === '') continue;
    const v = coerce(raw, leaf.type, leaf.env, issues);
    if (v !== undefined) setPath(fromEnv, leaf.path, v);
  }
  if (env.PORT) {
    const v = coerce(env.PORT, 'number', 'PORT', issues);
    if (v !== undefined) fromEnv.port = v;
  }
  if (env.PARLEY_STORE) setPath(fromEnv, ['store', 'kind'], env.PARLEY_STORE);
  // The documented short name: a Redis URL selects the Redis engine unless a store kind says otherwise.
  if (env.PARLEY_REDIS_URL) {
    setPath(fromEnv, ['redis', 'url'], env.PARLEY_REDIS_URL);
    if (!env.PARLEY_STORE && !env.PARLEY_STORE_KIND) setPath(fromEnv, ['store', 'kind'], 'redis');
  }
  const { PARLEY_PUBLISH_KEY: pub, PARLEY_SUBSCRIBE_KEY: sub, PARLEY_SECRET_KEY: sec } = env;
  if (pub || sub || sec) {
    if (!pub || !sub) issues.push('PARLEY_PUBLISH_KEY and PARLEY_SUBSCRIBE_KEY must be set together (PARLEY_SECRET_KEY is optional)');
    else fromEnv.keysets = [{ publishKey: pub, subscribeKey: sub, secretKey: sec ?? '' }];
  }
  merged = deepMerge(deepMerge(merged, fromEnv), (options.overrides ?? {}) as Obj);

  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.length ? issue.path.join('.') : '(root)';
      issues.push(`${path}: ${issue.message}`);
    }
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return deepFreeze(result.data);
}

/** Path depth bound for walking up to an existing parent. */
const MAX_PATH_DEPTH = 256;

/**
 * Makes sure the data directory can hold the SQLite database, creating it (and missing parents) when
 * needed, so that a directory that is a file, cannot be created or is not writable stops start-up with
 * one line and EX_CONFIG instead of a stack trace from deep inside the engine. Only the sqlite engine
 * writes there (the database, the demo keyset's file); other engines never touch it. Throws ConfigError.
 */
export function prepareDataDir(config: Pick<Config, 'dataDir' | 'store'>): void {
  if (config.store.kind !== 'sqlite') return;
  const dir = resolve(config.dataDir);
  const problem = dataDirProblem(dir);
  if (problem !== null) throw new ConfigError([`dataDir (PARLEY_DATA_DIR): ${dir} ${problem}`]);
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function dataDirProblem(dir: string): string | null {
  // Walk up to the nearest existing directory, then create the missing levels one by one: a recursive
  // mkdir is avoided, as Node's can spin forever on a pseudo-filesystem (mkdir -p /proc/x).
  const missing: string[] = [];
  let cur = dir;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_PATH_DEPTH) return 'is nested too deeply';
    let isDirectory: boolean;
    try {
      isDirectory = statSync(cur).isDirectory();
    } catch (err) {
      // ENOTDIR: some ancestor is a file; walking up finds and names it.
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') return `cannot be read (${errno(err)})`;
      missing.push(cur);
      const parent = dirname(cur);
      if (parent === cur) return 'cannot be created (no parent directory exists)';
      cur = parent;
      continue;
    }
    if (!isDirectory) return cur === dir ? 'is a file, not a directory' : `cannot be created: ${cur} is a file, not a directory`;
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if (errno(err) !== 'EEXIST') return `cannot be created (${errno(err)})`;
    }
  }
  const probe = join(dir, `.parley-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    return `is not writable (${errno(err)})`;
  }
  return null;
}
