// Whether dist/ was built from the sources as they are now: a content hash of every input (src/ and the
// build's own config), kept in dist/.build-hash by scripts/build.mjs. Contents, not mtimes: a fresh
// checkout or a copied tree has new mtimes and the same build. Used by the build and by bin/parley.js.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SRC = join(ROOT, 'src');
export const DIST = join(ROOT, 'dist');
export const HASH_FILE = '.build-hash';
/** Files besides src/ whose content changes the output. */
const CONFIG_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/build-state.mjs'];
/** src/ is a few hundred files; a tree far larger than this is a mistake (a symlink loop, a data dir). */
const MAX_FILES = 20_000;

/** Every regular file under dir, in a stable order. */
export function listFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(p, out);
    else if (entry.isFile()) out.push(p);
    if (out.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} files under ${dir}`);
  }
  return out;
}

/** One hash over the path and content of every input. */
export function inputHash() {
  const h = createHash('sha256');
  for (const file of [...listFiles(SRC), ...CONFIG_INPUTS.map((f) => join(ROOT, f))]) {
    h.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return h.digest('hex');
}

/** The input hash dist/ was built from, or null when there is no (complete) build. */
export function builtHash() {
  try {
    return readFileSync(join(DIST, HASH_FILE), 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * 'fresh': dist/ matches the sources; 'stale': it does not; 'missing': no build; 'no-sources': a build
 * shipped without src/ (a deployment that copied dist/ only), which is then what there is to run.
 */
export function buildState() {
  const built = builtHash();
  if (built === null || !existsSync(join(DIST, 'main.js'))) return 'missing';
  if (!existsSync(SRC)) return 'no-sources';
  return built === inputHash() ? 'fresh' : 'stale';
}
