import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from '../helpers/harness.ts';
import { PAM_KEYSET } from '../helpers/start-server.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';
import { signDownloadToken, signUploadToken } from '../../src/protocol/file-token.ts';

/**
 * Issue 10 item 3: a file download answers 307 with the storage URL in Location, as PubNub does; the
 * Python SDK reads the header with redirects off, the other SDKs follow it. The storage URL is
 * Parley's own: unguessable, expiring, and only minted for a caller allowed to download the file.
 */

test('download: 307 to an expiring signed URL that serves the bytes; SDKs that follow redirects still download', async (t) => {
  const clock = createFakeClock(Math.ceil(Date.now() / 1000) * 1000);
  const { server, client, admin } = await harness(t, { store: 'memory', clock });
  const token = await admin.grantToken({ ttl: 10, authorized_uuid: 'alice', resources: { channels: { share: { read: true, write: true } } } });
  const alice = client('alice');
  alice.setToken(token);
  const bytes = Buffer.from('hello file bytes');
  const sent = await alice.sendFile({ channel: 'share', file: { data: bytes, name: 'note 1.txt', mimeType: 'text/plain' } });

  // The SDK follows the redirect: the bytes arrive intact.
  const file = await alice.downloadFile({ channel: 'share', id: sent.id, name: sent.name });
  assert.deepEqual(Buffer.from(await file.toArrayBuffer()), bytes);

  // By hand with redirects off, as the Python SDK does.
  const path = `/v1/files/${PAM_KEYSET.subscribeKey}/channels/share/files/${sent.id}/${encodeURIComponent(sent.name)}`;
  const res = await fetch(`${server.url}${path}?uuid=alice&auth=${encodeURIComponent(token)}`, { redirect: 'manual' });
  assert.equal(res.status, 307);
  const location = res.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${server.url}/v1/files/${PAM_KEYSET.subscribeKey}/download/`), String(location));
  assert.match(new URL(location).pathname.split('/')[5], /^[A-Za-z0-9_.-]+$/);
  const fetched = await fetch(location);
  assert.equal(fetched.status, 200);
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), bytes);

  // Without a credential there is no redirect at all.
  const anonymous = await fetch(`${server.url}${path}?uuid=mallory`, { redirect: 'manual' });
  assert.equal(anonymous.status, 403);
  // A tampered token is refused; so is one past files.downloadUrlTtlSec (900 s by default).
  const tampered = location.replace(/\/download\/([^/]+)\//, (_m, tok: string) => `/download/${tok.slice(0, -2)}AA/`);
  assert.equal((await fetch(tampered)).status, 403);
  clock.advance(901_000);
  const expired = await fetch(location);
  assert.equal(expired.status, 403);
  assert.equal((await expired.json()).code, 'SIGNATURE_EXPIRED');
});

test('an upload token does not open a download, and a download URL names exactly one file', async (t) => {
  const { server, admin } = await harness(t, { store: 'memory' });
  const sent = await admin.sendFile({ channel: 'docs', file: { data: Buffer.from('a'), name: 'a.txt' } });
  // The purpose is part of the MAC: a valid upload token is not a download token.
  const grant = { subscribeKey: PAM_KEYSET.subscribeKey, channel: 'docs', id: sent.id, name: 'a.txt', expiresAtMs: Date.now() + 60_000 };
  const uploadToken = signUploadToken(PAM_KEYSET, grant);
  assert.equal((await fetch(`${server.url}/v1/files/${PAM_KEYSET.subscribeKey}/download/${uploadToken}/a.txt`)).status, 403);
  assert.equal((await fetch(`${server.url}/v1/files/${PAM_KEYSET.subscribeKey}/download/${signDownloadToken(PAM_KEYSET, grant)}/a.txt`)).status, 200);
  const path = `/v1/files/${PAM_KEYSET.subscribeKey}/channels/docs/files/${sent.id}/a.txt`;
  const url = admin.getFileUrl({ channel: 'docs', id: sent.id, name: 'a.txt' });
  assert.ok(url.includes(path), url);
  const redirect = await fetch(url, { redirect: 'manual' });
  assert.equal(redirect.status, 307, 'the URL getFileUrl returns (signed with LOCAL) is accepted');
  const location = redirect.headers.get('location') as string;
  // Another file name in the same URL is refused: the token names the file.
  assert.equal((await fetch(location.replace(/a\.txt$/, 'b.txt'))).status, 404);
});
