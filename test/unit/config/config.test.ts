import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { renderConfigDoc } from '../../../src/config/doc.ts';

test('defaults, file < env precedence, short names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  const file = join(dir, 'parley.json');
  writeFileSync(file, JSON.stringify({ port: 9000, presence: { defaultTimeoutSec: 120 }, keysets: [{ publishKey: 'p', subscribeKey: 's' }] }));
  const cfg = loadConfig({ env: { PARLEY_CONFIG: file, PORT: '9100', PARLEY_PRESENCE_SWEEP_INTERVAL_MS: '250', PARLEY_HISTORY_STORE_BY_DEFAULT: 'false' } });
  assert.equal(cfg.port, 9100);
  assert.equal(cfg.presence.defaultTimeoutSec, 120);
  assert.equal(cfg.presence.sweepIntervalMs, 250);
  assert.equal(cfg.history.storeByDefault, false);
  assert.equal(cfg.subscribe.longPollTimeoutSec, 280);
  assert.deepEqual(cfg.keysets, [{ publishKey: 'p', subscribeKey: 's', secretKey: '' }]);
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.presence));

  const env = loadConfig({ env: { PARLEY_PUBLISH_KEY: 'a', PARLEY_SUBSCRIBE_KEY: 'b', PARLEY_SECRET_KEY: 'c', PARLEY_STORE: 'memory' } });
  assert.deepEqual(env.keysets, [{ publishKey: 'a', subscribeKey: 'b', secretKey: 'c' }]);
  assert.equal(env.store.kind, 'memory');
});

test('bad config lists every problem with its path', () => {
  assert.throws(
    () => loadConfig({ env: { PORT: 'eighty', PARLEY_SUBSCRIBE_REGION: '0', PARLEY_SECRET_KEY: 'x' }, overrides: { bogus: 1 } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /PORT: expected a number/);
      assert.match(text, /PARLEY_PUBLISH_KEY and PARLEY_SUBSCRIBE_KEY must be set together/);
      assert.match(text, /subscribe\.region/);
      assert.match(text, /bogus/);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ env: {}, overrides: { keysets: [{ publishKey: 'p', subscribeKey: 's' }, { publishKey: 'q', subscribeKey: 's' }] } }),
    /duplicate subscribeKey/,
  );
});

test('docs/config.md is generated from the schema and up to date', () => {
  const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDoc(), 'run: npx tsx scripts/gen-config-doc.ts');
});
