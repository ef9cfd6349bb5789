import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.ts';

/**
 * The operator console's static files (no build step), served by Parley under /console/. Only the files
 * listed here are served: the page's own and uPlot's browser build from node_modules (no CDN). The page
 * holds a keyset's secret in memory as a non-extractable WebCrypto key and calls only the public,
 * signed API, so these files carry nothing secret and need no credential.
 */
const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** URL path → file. Anything else under /console/ is 404. */
const FILES: ReadonlyMap<string, { file: string; type: string }> = new Map(
  [
    ['/console/', join(PUBLIC_DIR, 'index.html'), 'html'],
    ['/console/index.html', join(PUBLIC_DIR, 'index.html'), 'html'],
    ['/console/console.css', join(PUBLIC_DIR, 'console.css'), 'css'],
    ['/console/app.js', join(PUBLIC_DIR, 'app.js'), 'js'],
    ['/console/api.js', join(PUBLIC_DIR, 'api.js'), 'js'],
    ['/console/sign.js', join(PUBLIC_DIR, 'sign.js'), 'js'],
    ['/console/ui.js', join(PUBLIC_DIR, 'ui.js'), 'js'],
    ['/console/overview.js', join(PUBLIC_DIR, 'overview.js'), 'js'],
    ['/console/channels.js', join(PUBLIC_DIR, 'channels.js'), 'js'],
    ['/console/access.js', join(PUBLIC_DIR, 'access.js'), 'js'],
    ['/console/kick.js', join(PUBLIC_DIR, 'kick.js'), 'js'],
    ['/console/keyset.js', join(PUBLIC_DIR, 'keyset.js'), 'js'],
    ['/console/vendor/uPlot.iife.min.js', join(UPLOT_DIR, 'uPlot.iife.min.js'), 'js'],
    ['/console/vendor/uPlot.min.css', join(UPLOT_DIR, 'uPlot.min.css'), 'css'],
  ].map(([path, file, kind]) => [path, { file, type: TYPES[kind] }]),
);

/**
 * The page talks only to the Parley that served it, runs only its own scripts and cannot be framed:
 * a secret typed into it cannot be sent elsewhere by an injected script or read by a framing page.
 * uPlot sizes its elements through the CSSOM (element.style), which `style-src 'self'` allows.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** The files the console serves (for tests). */
export function consolePaths(): string[] {
  return [...FILES.keys()];
}

/** Answers GET/HEAD under /console; false for anything else (the next fallback or a 404). */
export async function serveConsoleFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/console') {
    res.writeHead(302, { Location: '/console/' });
    res.end();
    return true;
  }
  const entry = FILES.get(path);
  if (entry === undefined) return false;
  const body = await readFile(entry.file);
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': entry.type, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * Whether Parley serves the console. "auto": only on the demo keyset (no keysets configured), like the
 * demo; true: also with configured keysets; false: never. The console itself grants nothing: without a
 * keyset's secret key it can do no more than any unsigned request.
 */
export function consolePolicy(config: Pick<Config, 'console' | 'keysets'>): { enabled: boolean } {
  const { enabled } = config.console;
  if (enabled === 'auto') return { enabled: config.keysets.length === 0 };
  return { enabled };
}
