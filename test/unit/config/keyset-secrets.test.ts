import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EX_CONFIG, loadConfig } from '../../../src/config/load.ts';

const SHARED = 'sec-shared-0123456789abcdef0123456789';
const keysets = [
  { publishKey: 'pub-1', subscribeKey: 'sub-1', secretKey: SHARED },
  { publishKey: 'pub-2', subscribeKey: 'sub-2', secretKey: 'sec-own-0123456789abcdef0123456789ab' },
  { publishKey: 'pub-3', subscribeKey: 'sub-3', secretKey: SHARED },
];

test('two keysets with one secret key are refused, naming both and never the secret', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { keysets } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /keysets\.2\.secretKey: keysets\[2\]\.secretKey is also the secret key of keysets\[0\]; each keyset needs its own secret key/);
      assert.equal(err.issues.length, 1, text);
      assert.ok(!text.includes(SHARED), 'the secret must not appear in the message');
      return true;
    },
  );
});

test('keysets without a secret key (Access Manager off) may coexist; distinct secrets are fine', () => {
  const open = loadConfig({
    env: {},
    overrides: {
      keysets: [
        { publishKey: 'p1', subscribeKey: 's1' },
        { publishKey: 'p2', subscribeKey: 's2', secretKey: '' },
      ],
    },
  });
  assert.equal(open.keysets.length, 2);
  const distinct = loadConfig({ env: {}, overrides: { keysets: keysets.slice(0, 2) } });
  assert.equal(distinct.keysets.length, 2);
});

test('the server refuses to start on such a config with exit code 78', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  const file = join(dir, 'parley.json');
  writeFileSync(file, JSON.stringify({ store: { kind: 'memory' }, demo: { enabled: false }, keysets }));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PARLEY_') && k !== 'PORT') env[k] = v;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../../../', import.meta.url),
    env: { ...env, PARLEY_CONFIG: file, PORT: '0' },
    encoding: 'utf8',
    // Were the config accepted, the server would listen: bound the wait and kill it outright.
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.status, EX_CONFIG, r.stderr);
  assert.match(r.stderr, /each keyset needs its own secret key/);
  assert.ok(!r.stderr.includes(SHARED));
});

test("previousSecretKey (a rotation in the config): set with its deadline, for a keyset with a secret, never another keyset's, never echoed", () => {
  const OLD = 'sec-old-0123456789abcdef0123456789abc';
  const until = '2030-01-01T00:00:00Z';
  const ok = loadConfig({ env: {}, overrides: { keysets: [{ ...keysets[1], previousSecretKey: OLD, previousSecretValidUntil: until }] } });
  assert.equal(ok.keysets[0].previousSecretKey, OLD);
  const problems = (ks: unknown[]): string[] => {
    try {
      loadConfig({ env: {}, overrides: { keysets: ks } });
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.issues;
    }
  };
  assert.match(
    problems([{ ...keysets[1], previousSecretKey: OLD }]).join('\n'),
    /keysets\.0\.previousSecretValidUntil: .*set together \(got only previousSecretKey\)/,
  );
  assert.match(problems([{ ...keysets[1], previousSecretValidUntil: until }]).join('\n'), /keysets\.0\.previousSecretKey: .*set together/);
  assert.match(problems([{ ...keysets[1], previousSecretKey: OLD, previousSecretValidUntil: 'tomorrow' }]).join('\n'), /previousSecretValidUntil/);
  assert.match(problems([{ publishKey: 'p', subscribeKey: 's', previousSecretKey: OLD, previousSecretValidUntil: until }]).join('\n'), /needs a secretKey/);
  const same = problems([{ ...keysets[1], previousSecretKey: keysets[1].secretKey, previousSecretValidUntil: until }]).join('\n');
  assert.match(same, /previousSecretKey equals its secretKey/);
  const shared = problems([keysets[0], { ...keysets[1], previousSecretKey: SHARED, previousSecretValidUntil: until }]).join('\n');
  assert.match(shared, /keysets\[1\]\.previousSecretKey is the secret key of keysets\[0\]/);
  for (const text of [same, shared]) assert.ok(!text.includes(SHARED) && !text.includes(keysets[1].secretKey), 'no secret in a message');
});
