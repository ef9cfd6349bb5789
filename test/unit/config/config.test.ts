import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig, prepareDataDir } from '../../../src/config/load.ts';
import { demoPolicy } from '../../../src/demo/attach.ts';
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
    () =>
      loadConfig({
        env: {},
        overrides: {
          keysets: [
            { publishKey: 'p', subscribeKey: 's' },
            { publishKey: 'q', subscribeKey: 's' },
          ],
        },
      }),
    /duplicate subscribeKey/,
  );
});

test('docs/config.md is generated from the schema and up to date', () => {
  const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDoc(), 'run: npx tsx scripts/gen-config-doc.ts');
});

test('demo.enabled is auto, true or false: auto runs the demo only on the demo keyset, true warns on a real one', () => {
  const keyset = { publishKey: 'p', subscribeKey: 's', secretKey: 'k' };
  const auto = loadConfig({ env: {} });
  assert.equal(auto.demo.enabled, 'auto');
  assert.deepEqual(demoPolicy(auto), { enabled: true, warning: null });
  assert.deepEqual(demoPolicy(loadConfig({ env: {}, overrides: { keysets: [keyset] } })), { enabled: false, warning: null });
  const forced = demoPolicy(loadConfig({ env: { PARLEY_DEMO_ENABLED: 'true' }, overrides: { keysets: [keyset] } }));
  assert.equal(forced.enabled, true);
  assert.match(forced.warning!, /grants any visitor read\+write/);
  assert.deepEqual(demoPolicy(loadConfig({ env: { PARLEY_DEMO_ENABLED: 'off' } })), { enabled: false, warning: null });
  assert.equal(loadConfig({ env: { PARLEY_DEMO_ENABLED: 'AUTO' } }).demo.enabled, 'auto');
  assert.equal(loadConfig({ env: {}, overrides: { demo: { enabled: false } } }).demo.enabled, false);
  assert.throws(() => loadConfig({ env: { PARLEY_DEMO_ENABLED: 'maybe' } }), /PARLEY_DEMO_ENABLED: expected auto, true or false \(got "maybe"\)/);
  assert.throws(() => loadConfig({ env: {}, overrides: { demo: { enabled: 'sometimes' } } }), ConfigError);
});

test('presence.maxTimeoutSec: set from the environment; a default timeout above it stops start-up', () => {
  assert.throws(
    () => loadConfig({ env: { PARLEY_PRESENCE_DEFAULT_TIMEOUT_SEC: '600', PARLEY_PRESENCE_MAX_TIMEOUT_SEC: '300' } }),
    /presence\.defaultTimeoutSec \(600\) is above presence\.maxTimeoutSec \(300\)/,
  );
  assert.equal(loadConfig({ env: { PARLEY_PRESENCE_MAX_TIMEOUT_SEC: '320' } }).presence.maxTimeoutSec, 320);
});

test('prepareDataDir: creates a missing directory; refuses a file, with one line naming it; ignores engines that do not use it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  const nested = join(dir, 'a', 'b');
  prepareDataDir({ dataDir: nested, store: { kind: 'sqlite' } });
  assert.ok(statSync(nested).isDirectory());
  const file = join(dir, 'file');
  writeFileSync(file, '');
  assert.throws(
    () => prepareDataDir({ dataDir: file, store: { kind: 'sqlite' } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `invalid configuration: dataDir (PARLEY_DATA_DIR): ${file} is a file, not a directory`);
      return true;
    },
  );
  prepareDataDir({ dataDir: file, store: { kind: 'memory' } });
  rmSync(dir, { recursive: true, force: true });
});
