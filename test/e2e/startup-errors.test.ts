import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/start-server.ts';

/** Runs `src/main.ts` until it exits (killed after 20 s: a hang is a failure too). */
async function start(t: TestContext, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PARLEY_HOST: '127.0.0.1', PORT: '0', PARLEY_DEMO_ENABLED: 'false', PARLEY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  t.after(() => clearTimeout(killer));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, stderr };
}

function assertOneLineConfigError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 78, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace: ${r.stderr}`);
  assert.match(lines[0], pattern);
}

test('a data directory that is a file stops start-up with one line and exit 78', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  assertOneLineConfigError(
    await start(t, { PARLEY_DATA_DIR: file }),
    /^parley: invalid configuration: dataDir \(PARLEY_DATA_DIR\): .*not-a-dir is a file, not a directory$/,
  );
  assertOneLineConfigError(await start(t, { PARLEY_DATA_DIR: join(file, 'data') }), /cannot be created: .*not-a-dir is a file, not a directory$/);
});

test('a data directory that is not writable stops start-up with one line and exit 78', { timeout: 60_000 }, async (t) => {
  let dir = '/sys';
  // root writes through file modes; /sys refuses even root. Anyone else gets a read-only directory.
  if (process.getuid?.() !== 0) {
    dir = tempDir();
    chmodSync(dir, 0o500);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
  }
  assertOneLineConfigError(await start(t, { PARLEY_DATA_DIR: dir }), /is not writable \(E[A-Z]+\)$/);
});

test('a data directory that cannot be created stops start-up (no hang on a pseudo-filesystem)', {
  timeout: 60_000,
  skip: process.platform !== 'linux' && 'needs /proc',
}, async (t) => {
  assertOneLineConfigError(await start(t, { PARLEY_DATA_DIR: '/proc/parley-data' }), /cannot be created \(E[A-Z]+\)$/);
});

test('the memory and redis engines never touch the data directory', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PARLEY_HOST: '127.0.0.1', PORT: '0', PARLEY_DEMO_ENABLED: 'false', PARLEY_STORE: 'memory', PARLEY_DATA_DIR: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`exited with ${c}`)));
  });
});
