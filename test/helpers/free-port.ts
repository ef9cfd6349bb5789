import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 at the time of asking (for servers a test starts itself). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
