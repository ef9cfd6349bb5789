import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** style.md §1: core code takes interfaces; only the composition root and store/index pick implementations. */
const SRC = new URL('../../../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
}

test('realtime/, access/ and app-context/ import neither protocol/ nor a concrete store', () => {
  const offenders: string[] = [];
  for (const area of ['realtime', 'access', 'app-context']) {
    for (const file of files(join(SRC, area))) {
      for (const spec of imports(file)) {
        if (/\/protocol\//.test(spec) || /\/store\/(memory|sqlite|redis)\//.test(spec)) offenders.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('only app.ts and store/index.ts pick a store implementation', () => {
  const offenders: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('store/') || rel === 'app.ts') continue;
    for (const spec of imports(file)) if (/store\/(memory|sqlite|redis)\//.test(spec)) offenders.push(`${rel} → ${spec}`);
  }
  assert.deepEqual(offenders, []);
});
