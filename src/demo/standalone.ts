import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.ts';
import { isDemoSdkInstalled } from './policy.ts';

/**
 * The demo's app server on its own, as a customer would run it next to a Parley elsewhere:
 *   npm run demo -- --parley http://127.0.0.1:8080 [--port 3000]
 * Keys come from PARLEY_PUBLISH_KEY, PARLEY_SUBSCRIBE_KEY and PARLEY_SECRET_KEY.
 */
const { values } = parseArgs({
  options: {
    parley: { type: 'string' },
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    channel: { type: 'string', default: 'demo-chat' },
    'ttl-minutes': { type: 'string', default: '1' },
  },
});
const fail = (msg: string): never => {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(78);
};
if (!values.parley || !/^https?:\/\/[^/]+\/?$/.test(values.parley)) fail('--parley http://host:port is required');
const { PARLEY_PUBLISH_KEY: publishKey, PARLEY_SUBSCRIBE_KEY: subscribeKey, PARLEY_SECRET_KEY: secretKey } = process.env;
if (!publishKey || !subscribeKey || !secretKey) fail('set PARLEY_PUBLISH_KEY, PARLEY_SUBSCRIBE_KEY and PARLEY_SECRET_KEY');
const port = Number(values.port);
const ttl = Number(values['ttl-minutes']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0-65535');
if (!Number.isInteger(ttl) || ttl < 1) fail('--ttl-minutes must be a whole number ≥ 1');
if (!isDemoSdkInstalled()) fail("the demo's SDK (the pubnub package, a dev dependency) is not installed: npm ci without --omit=dev");
// Imported once the SDK is known to be there, so its absence is the line above rather than a stack trace.
const { DemoAppServer } = await import('./app-server.ts');
const { serveDemoFile } = await import('./attach.ts');

const log = createLogger({ level: process.env.PARLEY_LOG_LEVEL ?? 'info' });
const app = new DemoAppServer({
  parleyUrl: values.parley as string,
  keyset: { publishKey: publishKey as string, subscribeKey: subscribeKey as string, secretKey: secretKey as string },
  channel: values.channel as string,
  grantTtlMinutes: ttl,
  log,
});
await app.start();
const server = createServer(async (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const handled = path.startsWith('/demo/api/') ? await app.handleHttp(req, res, path) : await serveDemoFile(req, res, path === '/' ? '/demo' : path);
  if (!handled) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }
});
server.listen(port, values.host, () => {
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : port;
  process.stdout.write(`demo app server on http://${values.host}:${p}/demo/ (Parley at ${values.parley})\n`);
});
const stop = async (): Promise<void> => {
  server.close();
  await app.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
