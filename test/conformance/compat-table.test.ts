import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOC, withFreshTable } from './compat-table.ts';

test('docs/compat.md carries the SDK × feature table of the recorded cases (regenerate: node --import tsx test/conformance/compat-table.ts --write)', () => {
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(doc, withFreshTable(doc));
});
