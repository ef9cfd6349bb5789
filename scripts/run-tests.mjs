// Node 20's --test takes paths, not globs, and does not discover .ts: list the files ourselves.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/)
//   TEST_CONCURRENCY=n   test files run at once (default: one more than the CPU count)
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) collect(join(p, name), out);
  } else if (p.endsWith('.test.ts')) {
    out.push(p);
  }
  return out;
}

/**
 * Files start in this order of their folder: the long ones (a browser, several servers or processes
 * each) first, so that the run does not end on one of them while the other slots stand idle.
 */
const SLOW_FIRST = ['browser', 'multinode', 'e2e', 'conformance', 'contract'];
const rank = (file) => {
  const i = SLOW_FIRST.findIndex((dir) => file.split(sep).includes(dir));
  return i === -1 ? SLOW_FIRST.length : i;
};

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Stable: within a rank, files keep their sorted order.
files.sort((a, b) => rank(a) - rank(b));
// Most test files wait on sockets and child processes as much as they compute: one more file than
// there are CPUs keeps them busy (2 CPUs: 3 files, measured faster than 2 and no slower than 4).
const concurrency = process.env.TEST_CONCURRENCY ?? String(availableParallelism() + 1);
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
