/**
 * The baseline for the publish benchmark (bench/publish.ts): a trivial node:http JSON handler, the
 * most a Node server can answer per core. It answers every request with a publish answer's shape
 * (`[1,"Sent","<n>"]`, wire-protocol.md §2.1) and the CORS headers Parley sends, so the bytes on the
 * wire are comparable, and does nothing else: no routing, parsing, access check or storage.
 *
 * Run: `node --import tsx bench/baseline-json-server.ts` with PORT (0 = any) and HOST; prints
 * `... listening on http://HOST:PORT` like Parley does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const HEADERS = {
  'Content-Type': 'text/javascript; charset="UTF-8"',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': '*',
  'Cache-Control': 'no-cache',
};

let seq = 17_000_000_000_000_000n;

const server = createServer({ keepAlive: true, noDelay: true, requestTimeout: 0 }, (_req, res) => {
  const body = `[1,"Sent","${++seq}"]`;
  res.writeHead(200, { ...HEADERS, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`baseline JSON server listening on http://${address}:${port}\n`);
});
// Exit through process.exit so `--cpu-prof` can write its profile.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
