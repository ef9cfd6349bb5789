import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Parley } from '../app.ts';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import { DemoAppServer } from './app-server.ts';

// Loaded only when the demo runs (main.ts imports it dynamically): importing it needs the demo's SDK.
export { demoPolicy } from './policy.ts';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const SDK_FILE = createRequire(import.meta.url).resolve('pubnub/dist/web/pubnub.min.js');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/** Serves the page, its assets and the SDK's browser build from this project (no CDN). */
export async function serveDemoFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/demo') {
    res.writeHead(302, { Location: '/demo/' });
    res.end();
    return true;
  }
  if (!path.startsWith('/demo/')) return false;
  let file: string;
  if (path === '/demo/pubnub.js') file = SDK_FILE;
  else {
    const rel = normalize(decodeURIComponent(path.slice('/demo/'.length)) || 'index.html');
    if (rel.startsWith('..') || rel.includes('\0')) return false;
    file = join(PUBLIC_DIR, rel);
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  } catch {
    return false;
  }
}

/** The demo in the same process as Parley (`npm start`): it still talks to Parley only through the SDK. */
export function attachDemo(parley: Parley, log: Logger) {
  const keyset: Keyset | undefined = parley.keysets.find((k) => k.secretKey.length > 0);
  const config = parley.services.config.demo;
  let app: DemoAppServer | null = null;
  parley.addFallback(async (req, res, path) => {
    if (path.startsWith('/demo/api/')) {
      if (!app) {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'the demo needs a keyset with a secret key' }));
        return true;
      }
      return app.handleHttp(req, res, path);
    }
    return serveDemoFile(req, res, path);
  });
  return {
    async start(parleyUrl: string) {
      if (!keyset) {
        log.warn('demo disabled: no keyset has a secret key');
        return;
      }
      app = new DemoAppServer({ parleyUrl, keyset, channel: config.channel, grantTtlMinutes: config.grantTtlMinutes, log: log.child({ component: 'demo' }) });
      await app.start();
    },
    async stop() {
      await app?.stop();
    },
  };
}
