#!/usr/bin/env node
// `npx parley …`: the compiled CLI in dist/ (npm run build). When dist/ is missing or older than src/ and
// tsx (a dev dependency) is installed, as in a development checkout, the TypeScript sources run instead, so
// the command never runs code older than the sources beside it. A production install runs dist/ as built,
// also when it was shipped without src/ and scripts/.
let state = 'no-sources';
try {
  const { buildState } = await import('../scripts/build-state.mjs');
  state = buildState();
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
}
if (state === 'fresh' || state === 'no-sources') {
  await import('../dist/cli/index.js');
} else {
  let register = null;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // No tsx: a production install.
  }
  if (register) {
    register();
    await import('../src/cli/index.ts');
  } else if (state === 'stale') {
    process.stderr.write('parley: note: dist/ is older than src/ and TypeScript is not installed; running dist/ as built\n');
    await import('../dist/cli/index.js');
  } else {
    process.stderr.write('parley: no build in dist/: run npm run build (needs dev dependencies: npm ci) first\n');
    process.exit(1);
  }
}
