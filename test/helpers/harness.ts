import type { TestContext } from 'node:test';
import { startServer, PAM_KEYSET, type TestServer } from './start-server.ts';
import { makeClient, type Client } from './clients.ts';
import type { Keyset } from '../../src/keyset.ts';

/**
 * A server plus a client factory, all torn down by t.after: `client(userId, options)` makes an SDK
 * client on the given keyset (the Access Manager keyset by default); `admin` holds its secret key.
 */
export async function harness(t: TestContext, options: Parameters<typeof startServer>[0] = {}, keyset: Keyset = PAM_KEYSET) {
  const server: TestServer = await startServer(options);
  const clients: Client[] = [];
  const client = (userId: string, extra: Record<string, unknown> = {}, ks: Keyset = keyset): Client => {
    const c = makeClient(server.origin, ks, userId, extra);
    clients.push(c);
    return c;
  };
  t.after(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  });
  const admin = client('admin', { secretKey: keyset.secretKey });
  return { server, client, admin };
}
