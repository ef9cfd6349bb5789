import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.ts';
import type { Keyset } from '../keyset.ts';
import type { Logger } from '../log.ts';
import { DemoAppServer, type DemoClock } from './app-server.ts';

// Loaded only when the demo runs (main.ts imports it dynamically): importing it needs the demo's SDK.
export { demoPolicy } from './policy.ts';

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');
const SDK_FILE = createRequire(import.meta.url).resolve('pubnub/dist/web/pubnub.min.js');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

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

/** An HTTP handler a host server tries for the paths it does not serve itself: true when it answered. */
export type DemoHttpHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

/**
 * What the process that runs Parley hands the demo: plain values and one way in for HTTP. The demo
 * never sees Parley's objects; its app server reaches Parley only over HTTP, through the SDK.
 */
export interface DemoHost {
  /** The keyset the app server grants on (it holds the secret key); null: the page is served, its API answers 503. */
  keyset: Keyset | null;
  config: Pick<Config['demo'], 'channel' | 'grantTtlMinutes'>;
  /** Registers the demo's handler (the page, its assets, /demo/api/*) with the server that serves the demo. */
  addHandler(handler: DemoHttpHandler): void;
  log: Logger;
  /** The app server's time source for the expiry it tells the page; the system clock by default. */
  clock?: DemoClock;
}

/** The demo in the same process as Parley (`npm start`): it still talks to Parley only through the SDK. */
export function attachDemo(host: DemoHost) {
  const { keyset, config, log } = host;
  let app: DemoAppServer | null = null;
  host.addHandler(async (req, res, path) => {
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
      app = new DemoAppServer({
        parleyUrl,
        keyset,
        channel: config.channel,
        grantTtlMinutes: config.grantTtlMinutes,
        log: log.child({ component: 'demo' }),
        clock: host.clock,
      });
      await app.start();
    },
    async stop() {
      await app?.stop();
    },
  };
}
