#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsconfig.build.json (imports rewritten from .ts to .js) and
// copies every file under src/ that is not TypeScript (the demo page, SQL migrations, Lua scripts), so
// paths the code resolves from import.meta.url hold in dist/ as they do in src/.
//
//   node scripts/build.mjs             build now
//   node scripts/build.mjs --if-stale  build only when src/ changed since the last build (npm start runs this):
//                                      a content hash of the inputs is kept in dist/.build-hash. Without
//                                      TypeScript (a production install, npm ci --omit=dev) an existing dist/
//                                      is used as it is; with no dist/ at all it stops with what to do.
//
// The new tree is built under .tmp/ and swapped in by rename, so a server running from dist/ never sees a
// half-written one; a lock file keeps two builds (two test files, two terminals) from racing.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { buildState, builtHash, DIST, HASH_FILE, inputHash, listFiles, ROOT, SRC } from './build-state.mjs';

const WORK = join(ROOT, '.tmp');
const LOCK = join(WORK, 'build.lock');
/** How long to wait for another build holding the lock before giving up. */
const LOCK_WAIT_MS = 120_000;
const LOCK_POLL_MS = 100;

const ifStale = process.argv.includes('--if-stale');
const say = (msg) => process.stderr.write(`build: ${msg}\n`);

function tscPath() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  } catch {
    return null;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes the build lock, waiting for a live holder; a holder that died leaves a lock that is taken over. */
function lock() {
  mkdirSync(WORK, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(LOCK, 'utf8').trim() || '0');
    if (holder > 0 && !isAlive(holder)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) has held ${relative(ROOT, LOCK)} for ${LOCK_WAIT_MS / 1000} s`);
    sleep(LOCK_POLL_MS);
  }
}

function unlock() {
  rmSync(LOCK, { force: true });
}

function build(hash, tsc) {
  const started = Date.now();
  const out = join(WORK, `dist-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(`tsc failed (exit ${res.status ?? res.signal})`);
  }
  let assets = 0;
  try {
    for (const file of listFiles(SRC)) {
      if (file.endsWith('.ts')) continue;
      const target = join(out, relative(SRC, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
      assets++;
    }
    if (!existsSync(join(out, 'main.js'))) throw new Error('tsc wrote no main.js');
    writeFileSync(join(out, HASH_FILE), hash + '\n');
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
  const old = join(WORK, `dist-old-${process.pid}`);
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(out, DIST);
  rmSync(old, { recursive: true, force: true });
  say(`dist/ built in ${Date.now() - started} ms (${assets} assets copied)`);
}

function main() {
  const state = buildState();
  if (ifStale && (state === 'fresh' || state === 'no-sources')) return 0;
  const tsc = tscPath();
  if (!tsc) {
    if (ifStale && state === 'stale') {
      say('TypeScript is not installed (a production install): running dist/ as built, although src/ has changed since');
      return 0;
    }
    say(
      'cannot build: TypeScript is not installed (npm ci --omit=dev leaves it out). Build where dev dependencies are installed (npm ci && npm run build), then npm ci --omit=dev',
    );
    return 1;
  }
  lock();
  try {
    // Another build may have finished while this one waited for the lock.
    const hash = inputHash();
    if (ifStale && builtHash() === hash) return 0;
    build(hash, tsc);
    return 0;
  } finally {
    unlock();
  }
}

try {
  process.exitCode = main();
} catch (err) {
  say(err.message);
  process.exitCode = 1;
}
