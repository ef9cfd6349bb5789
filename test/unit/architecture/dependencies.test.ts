import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

/**
 * style.md §1, the dependency rule, as one table: every part of src/ lists what it may import, and any
 * other edge fails. Core (realtime, access, app-context) sees storage only through store/types.ts and
 * never sees protocol/; only store/index.ts picks a concrete store; store/* never reaches up into the
 * core; the demo reaches Parley only over HTTP. A part is a folder (everything under it, unless a
 * deeper part is listed) or a root file. A target ending in / is a whole folder, otherwise one file.
 * `node:` built-ins are allowed everywhere; any other package must be listed.
 */
interface Part {
  may: readonly string[];
  packages?: readonly string[];
}

const CORE_BASICS = ['store/types.ts', 'errors.ts', 'clock.ts', 'log.ts', 'text-order.ts'];
const STORE_IMPL_BASICS = ['store/shared/', 'store/types.ts', 'errors.ts', 'text-order.ts'];

const RULES: Record<string, Part> = {
  'protocol/': {
    may: ['protocol/', 'realtime/', 'access/', 'app-context/', ...CORE_BASICS, 'config/schema.ts', 'keyset.ts', 'metrics.ts', 'console/node-stats.ts'],
    packages: ['@fastify/busboy'],
  },
  'realtime/': { may: ['realtime/', ...CORE_BASICS] },
  'access/': { may: ['access/', ...CORE_BASICS, 'keyset.ts'], packages: ['re2js'] },
  'app-context/': { may: ['app-context/', ...CORE_BASICS] },
  'store/': { may: ['store/types.ts', 'store/memory/', 'store/sqlite/', 'store/redis/', 'errors.ts', 'config/schema.ts'] },
  'store/shared/': { may: ['store/shared/', 'store/types.ts', 'errors.ts'] },
  'store/memory/': { may: ['store/memory/', ...STORE_IMPL_BASICS] },
  'store/sqlite/': { may: ['store/sqlite/', ...STORE_IMPL_BASICS], packages: ['better-sqlite3'] },
  'store/redis/': { may: ['store/redis/', ...STORE_IMPL_BASICS], packages: ['ioredis'] },
  'demo/': { may: ['demo/', 'config/schema.ts', 'keyset.ts', 'log.ts'], packages: ['pubnub'] },
  'cli/': { may: ['cli/', 'access/', 'config/', 'realtime/timetoken.ts', 'store/index.ts', 'errors.ts', 'keyset.ts', 'log.ts', 'main.ts'] },
  'console/': { may: ['console/', 'store/types.ts', 'clock.ts', 'config/schema.ts', 'log.ts'] },
  'config/': { may: ['config/', 'keyset.ts'], packages: ['zod'] },
  // The composition root: app.ts is the entry (createParley and its types), app/ builds, starts and syncs.
  'app.ts': { may: ['app/', 'keyset.ts', 'protocol/server.ts', 'protocol/services.ts'] },
  'app/': {
    may: [
      'app/',
      'protocol/',
      'realtime/',
      'access/',
      'app-context/',
      'console/',
      'config/',
      'store/index.ts',
      'store/types.ts',
      'clock.ts',
      'keyset.ts',
      'log.ts',
      'metrics.ts',
    ],
  },
  'main.ts': { may: ['app.ts', 'cluster.ts', 'cluster-metrics.ts', 'config/', 'demo/', 'errors.ts', 'log.ts'] },
  'cluster.ts': { may: ['config/schema.ts', 'log.ts'] },
  // A worker's scrape is the primary's aggregate of every worker (prom-client's AggregatorRegistry).
  'cluster-metrics.ts': { may: ['log.ts', 'metrics.ts'], packages: ['prom-client'] },
  'log.ts': { may: ['log-destination.ts'], packages: ['pino'] },
  'log-destination.ts': { may: [] },
  'clock.ts': { may: [] },
  'errors.ts': { may: [] },
  'keyset.ts': { may: [] },
  'text-order.ts': { may: [] },
  'metrics.ts': { may: [], packages: ['prom-client'] },
};

/** Edges the architecture forbids: each must be refused by RULES, so the table cannot drift into allowing them. */
const FORBIDDEN: ReadonlyArray<[from: string, to: string]> = [
  ['realtime/hub.ts', 'protocol/server.ts'],
  ['access/authorize.ts', 'protocol/route.ts'],
  ['app-context/object-service.ts', 'protocol/services.ts'],
  ['realtime/publish.ts', 'store/memory/broker.ts'],
  ['access/access-manager.ts', 'store/redis/index.ts'],
  ['app-context/object-service.ts', 'store/sqlite/index.ts'],
  ['realtime/publish.ts', 'store/index.ts'],
  ['store/sqlite/index.ts', 'store/memory/index.ts'],
  ['store/redis/broker.ts', 'store/memory/broker.ts'],
  ['store/memory/broker.ts', 'realtime/timetoken.ts'],
  ['store/redis/broker.ts', 'protocol/timetoken.ts'],
  ['store/shared/message-query.ts', 'access/types.ts'],
  ['store/shared/file-cursor.ts', 'store/memory/file-store.ts'],
  ['demo/attach.ts', 'app.ts'],
  ['demo/app-server.ts', 'protocol/server.ts'],
  ['app.ts', 'store/memory/index.ts'],
  ['app/wiring.ts', 'store/sqlite/index.ts'],
  ['app/cluster-sync.ts', 'store/redis/broker.ts'],
  ['realtime/hub.ts', 'app/cluster-sync.ts'],
  ['protocol/server.ts', 'app/wiring.ts'],
  ['access/access-manager.ts', 'app/lifecycle.ts'],
  ['cli/index.ts', 'store/redis/index.ts'],
  ['console/node-stats.ts', 'protocol/services.ts'],
];

const SRC = new URL('../../../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [relative(SRC, p).split(sep).join('/')] : [];
  });
}

/** Import specifiers of a module: static imports and re-exports (statement level, so strings are not mistaken for them) and dynamic imports. */
function specifiers(text: string): string[] {
  const patterns = [/^\s*(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
}

/** The part a src/ file belongs to: the root file itself, or the deepest listed folder above it. */
function partOf(file: string): string | undefined {
  if (RULES[file] !== undefined) return file;
  const folders = Object.keys(RULES).filter((k) => k.endsWith('/') && file.startsWith(k));
  return folders.sort((a, b) => b.length - a.length)[0];
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Why `from` may not import `spec`, or undefined when the table allows it. */
function refusal(from: string, spec: string): string | undefined {
  const part = partOf(from);
  if (part === undefined) return 'not in any part of the table';
  if (!spec.startsWith('.')) {
    if (spec.startsWith('node:')) return undefined;
    return RULES[part].packages?.includes(packageName(spec)) ? undefined : `package ${packageName(spec)} not allowed for ${part}`;
  }
  const target = posix.normalize(posix.join(dirname(from), spec));
  if (target.startsWith('..')) return `${target} is outside src/`;
  const allowed = RULES[part].may.some((t) => (t.endsWith('/') ? target.startsWith(t) : target === t));
  return allowed ? undefined : `${target} not allowed for ${part}`;
}

function relativeSpec(from: string, to: string): string {
  const spec = posix.relative(posix.dirname(from), to);
  return spec.startsWith('.') ? spec : `./${spec}`;
}

test('every import edge in src/ is one the table allows', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of specifiers(readFileSync(join(SRC, file), 'utf8'))) {
      const why = refusal(file, spec);
      if (why !== undefined) offenders.push(`${file} → ${spec} (${why})`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('every file of src/ belongs to a part of the table, and every part has files', () => {
  const files = sourceFiles(SRC);
  assert.deepEqual(
    files.filter((f) => partOf(f) === undefined),
    [],
  );
  assert.deepEqual(
    Object.keys(RULES).filter((part) => !files.some((f) => partOf(f) === part)),
    [],
  );
});

test('the table refuses the edges the architecture forbids', () => {
  const allowed = FORBIDDEN.filter(([from, to]) => refusal(from, relativeSpec(from, to)) === undefined).map(([from, to]) => `${from} → ${to}`);
  assert.deepEqual(allowed, []);
  assert.equal(refusal('store/sqlite/index.ts', 'pubnub'), 'package pubnub not allowed for store/sqlite/');
});

test('import specifiers are found in every form, and not inside strings', () => {
  const text = [
    "import { a } from './a.ts';",
    'import type {\n  B,\n  C,\n} from "../b.ts";',
    "export { d } from './d.ts';",
    "import './side-effect.ts';",
    "const e = await import('./e.ts');",
    "const s = 'from', 'x';",
  ].join('\n');
  assert.deepEqual(specifiers(text).sort(), ['../b.ts', './a.ts', './d.ts', './e.ts', './side-effect.ts']);
});
