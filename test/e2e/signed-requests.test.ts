import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeString, signRequest } from '../../src/access/signature.ts';
import { startServer, PAM_KEYSET } from '../helpers/start-server.ts';

/**
 * Issue 9 §1: a captured signed request must not be re-encodable into one that verifies yet means
 * something else. Each attack below was accepted before the one-parse rule (protocol/query.ts).
 */

const GRANT_PATH = `/v2/auth/grant/sub-key/${PAM_KEYSET.subscribeKey}`;

function signedGrant(params: Record<string, string>): { params: Record<string, string>; signature: string } {
  const all = { ...params, uuid: 'admin', pnsdk: 'PubNub-JS-Nodejs/12.0.3', timestamp: String(Math.floor(Date.now() / 1000)) };
  return { params: all, signature: signRequest(PAM_KEYSET, { method: 'GET', path: GRANT_PATH, params: all }) };
}

/** The query as the SDK sends it, with `rename` applied to the raw names and `rawValue` to the encoded values. */
function wire(params: Record<string, string>, signature: string, edit: { rename?: Record<string, string>; rawValue?: Record<string, string> } = {}): string {
  const parts = Object.entries(params).map(([k, v]) => `${edit.rename?.[k] ?? k}=${edit.rawValue?.[k] ?? encodeString(v)}`);
  return [...parts, `signature=${signature}`].join('&');
}

async function get(base: string, path: string, query: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}?${query}`);
  return { status: res.status, body: await res.json() };
}

async function publishAs(base: string, channel: string, auth: string | null): Promise<number> {
  const q = `uuid=u1${auth === null ? '' : `&auth=${encodeString(auth)}`}`;
  const res = await fetch(`${base}/publish/${PAM_KEYSET.publishKey}/${PAM_KEYSET.subscribeKey}/0/${encodeString(channel)}/0/%22hi%22?${q}`);
  await res.arrayBuffer();
  return res.status;
}

async function audit(base: string): Promise<any> {
  const path = `/v2/auth/audit/sub-key/${PAM_KEYSET.subscribeKey}`;
  const params = { uuid: 'admin', timestamp: String(Math.floor(Date.now() / 1000)) };
  return (await get(base, path, wire(params, signRequest(PAM_KEYSET, { method: 'GET', path, params })))).body.payload;
}

test('percent-encoded parameter names are refused before anything is applied (no keyset-wide grant)', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const { params, signature } = signedGrant({ channel: 'secret-ch', auth: 'k1', r: '1', w: '1', ttl: '5' });

  const renamed = await get(server.url, GRANT_PATH, wire(params, signature, { rename: { channel: '%63hannel', auth: '%61uth' } }));
  assert.equal(renamed.status, 400);
  assert.match(renamed.body.message, /not in plain form/);
  // Nothing was granted: no client can publish anywhere.
  assert.equal(await publishAs(server.url, 'any-channel', null), 403);
  assert.equal(await publishAs(server.url, 'secret-ch', 'k1'), 403);

  const ttlRenamed = await get(server.url, GRANT_PATH, wire(params, signature, { rename: { ttl: '%74tl' } }));
  assert.equal(ttlRenamed.status, 400);

  // The request exactly as signed does what was signed: that channel, that auth key, 5 minutes.
  const ok = await get(server.url, GRANT_PATH, wire(params, signature));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(await publishAs(server.url, 'secret-ch', 'k1'), 200);
  assert.equal(await publishAs(server.url, 'secret-ch', 'k2'), 403);
  assert.equal(await publishAs(server.url, 'other', 'k1'), 403);
  const payload = await audit(server.url);
  const entry = payload.channels?.['secret-ch']?.auths?.k1;
  assert.ok(entry, JSON.stringify(payload));
  assert.equal(entry.ttl ?? payload.ttl, 5);
});

test('a signed value cannot be re-encoded into another value (p%2Bq sent as p+q), and repeats are refused', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const { params, signature } = signedGrant({ channel: 'p+q', auth: 'k1', r: '1', w: '1', ttl: '5' });

  const plus = await get(server.url, GRANT_PATH, wire(params, signature, { rawValue: { channel: 'p+q' } }));
  assert.equal(plus.status, 403);
  assert.equal(plus.body.code, 'SIGNATURE_MISMATCH');
  assert.equal(await publishAs(server.url, 'p q', 'k1'), 403);
  assert.equal(await publishAs(server.url, 'p+q', 'k1'), 403);

  const repeated = await get(server.url, GRANT_PATH, `${wire(params, signature)}&channel=other`);
  assert.equal(repeated.status, 400);
  assert.match(repeated.body.message, /more than once/);
  const repeatedSignature = await get(server.url, GRANT_PATH, `${wire(params, signature)}&signature=${signature}`);
  assert.equal(repeatedSignature.status, 400);
  assert.equal(await publishAs(server.url, 'other', 'k1'), 403);

  // Sent as signed (`p%2Bq`), the grant lands on the channel `p+q` and nowhere else.
  assert.equal((await get(server.url, GRANT_PATH, wire(params, signature))).status, 200);
  assert.equal(await publishAs(server.url, 'p+q', 'k1'), 200);
  assert.equal(await publishAs(server.url, 'p q', 'k1'), 403);
});

test('unsigned requests follow the same parse: a repeated auth or channel-group is refused, not first-wins', async (t) => {
  const server = await startServer({ store: 'memory' });
  t.after(() => server.stop());
  const res = await fetch(`${server.url}/v2/subscribe/${PAM_KEYSET.subscribeKey}/,/0?uuid=u&channel-group=a&channel-group=b&auth=x`);
  assert.equal(res.status, 400);
  assert.match((await res.json()).message, /channel-group is given more than once/);
});
