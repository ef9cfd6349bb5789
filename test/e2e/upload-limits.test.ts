import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, OPEN_KEYSET, type TestServer } from '../helpers/start-server.ts';
import { makeClient } from '../helpers/clients.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';
import { rawConnect, within } from '../helpers/raw-http.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * docs/security.md "Limits", uploads: the token is checked before a byte of the body is read, the
 * form is streamed within its limits, a stalled body is dropped, and a client that goes away is not a
 * server error. Raw sockets show what the server read: an answer that arrives while the client still
 * holds most of its body unsent was given without reading that body.
 */

const B = 'parley-upload-boundary';
const DECLARED = 5_000_000;
const SUB = OPEN_KEYSET.subscribeKey;

async function server(t: TestContext, options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer({ store: 'memory', ...options });
  t.after(() => s.stop());
  return s;
}

async function ticket(s: TestServer, name = 'a.bin') {
  const res = await fetch(`${s.url}/v1/files/${SUB}/channels/up/generate-upload-url?uuid=u`, { method: 'POST', body: JSON.stringify({ name }) });
  assert.equal(res.status, 200);
  const json = (await res.json()) as { data: { id: string }; file_upload_request: { url: string; form_fields: Array<{ key: string; value: string }> } };
  const url = new URL(json.file_upload_request.url);
  const token = json.file_upload_request.form_fields.find((f) => f.key === 'X-Parley-Upload-Token')!.value;
  return { id: json.data.id, path: `${url.pathname}${url.search}`, bare: url.pathname, token };
}

const head = (path: string, length: number | 'chunked') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${B}\r\n` +
  (length === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
  '\r\n';
const field = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
/** The error code of an answer: JSON, or the upload's S3-style XML (error-response.ts). */
const codeOf = (body: string): string =>
  body.startsWith('<?xml') ? (/<Code>([A-Z_]+)<\/Code>/.exec(body)?.[1] ?? '') : (JSON.parse(body) as { code: string }).code;
const errors = (s: TestServer, code: string) => s.parley.services.metrics.value('parley_errors_total', { code });

test('an upload whose URL token is tampered, expired or missing is refused before its body is read', async (t) => {
  const clock = createFakeClock(Date.now());
  const s = await server(t, { clock });
  const { bare, token } = await ticket(s);
  const flipped = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

  const cases: Array<{ what: string; path: string; code: string; body: string }> = [
    { what: 'tampered token', path: `${bare}?token=${flipped}`, code: 'SIGNATURE_MISMATCH', body: filePart },
    // No token in the URL and none before the file: refused when the file part begins.
    { what: 'no token anywhere', path: bare, code: 'SIGNATURE_MISMATCH', body: filePart },
  ];
  for (const c of cases) {
    const conn = await rawConnect(s.port);
    await conn.write(head(c.path, DECLARED));
    await conn.write(c.body);
    await conn.write(Buffer.alloc(64 * 1024, 1));
    const res = await within(conn.response, 5000, `answer to an upload with ${c.what}`);
    assert.equal(res.status, 403, c.what);
    assert.equal(codeOf(res.body), c.code, c.what);
    assert.ok(conn.sent < 80 * 1024, `${c.what}: answered after ${conn.sent} of ${DECLARED} bytes`);
    assert.equal(res.headers.connection, 'close');
    await within(conn.closed, 5000, `${c.what}: connection closed`);
  }

  clock.advance(61_000);
  const late = await rawConnect(s.port);
  await late.write(head(`${bare}?token=${token}`, DECLARED));
  const expired = await within(late.response, 5000, 'answer to an expired upload URL');
  assert.equal(expired.status, 403);
  assert.equal(codeOf(expired.body), 'SIGNATURE_EXPIRED');
  assert.equal(late.sent, Buffer.byteLength(head(`${bare}?token=${token}`, DECLARED)), 'not one byte of the body was sent');
});

test('an upload declaring more than files.maxFileBytes plus its form is answered 413 before its body', async (t) => {
  const s = await server(t, { overrides: { files: { maxFileBytes: 1000 } } });
  const { path } = await ticket(s);
  const conn = await rawConnect(s.port);
  await conn.write(head(path, 1000 + 64 * 1024 + 1));
  const res = await within(conn.response, 5000, '413 on the declared length');
  assert.equal(res.status, 413);
  await within(conn.closed, 5000, 'connection closed');
});

test('a chunked upload over files.maxFileBytes is refused as soon as it passes the limit', async (t) => {
  const s = await server(t, { overrides: { files: { maxFileBytes: 1000 } } });
  const { path } = await ticket(s);
  const conn = await rawConnect(s.port);
  const chunk = (data: string | Buffer) => Buffer.concat([Buffer.from(`${Buffer.byteLength(data).toString(16)}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);
  await conn.write(head(path, 'chunked'));
  await conn.write(chunk(filePart));
  await conn.write(chunk(Buffer.alloc(1500, 2)));
  const res = await within(conn.response, 5000, '413 while the chunked body is still open');
  assert.equal(res.status, 413);
  assert.equal(codeOf(res.body), 'PAYLOAD_TOO_LARGE');
  await within(conn.closed, 5000, 'connection closed');
  const listed = (await (await fetch(`${s.url}/v1/files/${SUB}/channels/up/files?uuid=u`)).json()) as { count: number };
  assert.equal(listed.count, 0, 'nothing was stored');
});

test('a stalled authenticated upload is answered 408 after limits.bodyIdleTimeoutMs and its connection closed', async (t) => {
  const s = await server(t, { overrides: { limits: { bodyIdleTimeoutMs: 150 } } });
  const { path, token } = await ticket(s);
  const conn = await rawConnect(s.port);
  await conn.write(head(path, DECLARED));
  await conn.write(field('X-Parley-Upload-Token', token) + filePart);
  await conn.write(Buffer.alloc(100_000, 3));
  const res = await within(conn.response, 5000, '408 for the stalled upload');
  assert.equal(res.status, 408);
  assert.equal(codeOf(res.body), 'REQUEST_TIMEOUT');
  await within(conn.closed, 5000, 'connection closed');
  // The same holds for every other body (server.ts readBody): a publish POST that stalls.
  const pub = await rawConnect(s.port);
  await pub.write(`POST /publish/${OPEN_KEYSET.publishKey}/${SUB}/0/ch/0?uuid=u HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"abc`);
  assert.equal((await within(pub.response, 5000, '408 for the stalled publish body')).status, 408);
  await within(pub.closed, 5000, 'stalled publish body dropped');
});

test('a client that aborts an upload or a body is counted as CLIENT_CLOSED_REQUEST, never as INTERNAL', async (t) => {
  const s = await server(t);
  const { path, token } = await ticket(s);
  const conn = await rawConnect(s.port);
  await conn.write(head(path, DECLARED));
  await conn.write(field('X-Parley-Upload-Token', token) + filePart);
  await conn.write(Buffer.alloc(10_000, 4));
  conn.socket.destroy();
  await waitFor(() => errors(s, 'CLIENT_CLOSED_REQUEST') === 1, 'the aborted upload counted');

  const pub = await rawConnect(s.port);
  await pub.write(`POST /publish/${OPEN_KEYSET.publishKey}/${SUB}/0/ch/0?uuid=u HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"abc`);
  pub.socket.destroy();
  await waitFor(() => errors(s, 'CLIENT_CLOSED_REQUEST') === 2, 'the aborted publish body counted');
  assert.equal(errors(s, 'INTERNAL'), 0);
});

test('an upload URL issued before (token in the form only) still works, the token verified before the file', async (t) => {
  const s = await server(t);
  const { bare, token, id } = await ticket(s);
  const legacy = new FormData();
  legacy.append('X-Parley-Upload-Token', token);
  legacy.append('file', new Blob([new Uint8Array(Buffer.from('legacy'))]), 'a.bin');
  assert.equal((await fetch(`${s.url}${bare}`, { method: 'POST', body: legacy })).status, 204);
  const got = await fetch(`${s.url}/v1/files/${SUB}/channels/up/files/${id}/a.bin?uuid=u`);
  assert.equal(await got.text(), 'legacy');

  // The token after the file part is too late: the file is never read on an unverified upload.
  const second = await ticket(s);
  const late = new FormData();
  late.append('file', new Blob([new Uint8Array(Buffer.from('x'))]), 'a.bin');
  late.append('X-Parley-Upload-Token', second.token);
  assert.equal((await fetch(`${s.url}${second.bare}`, { method: 'POST', body: late })).status, 403);
});

test('the JS SDK posts to the upload URL with its query, so the token is checked before the body', async (t) => {
  const s = await server(t);
  const posted: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.includes('/upload')) posted.push(url);
    return realFetch(input, init);
  }) as typeof fetch;
  t.after(() => {
    globalThis.fetch = realFetch;
  });
  const c = makeClient(s.origin, OPEN_KEYSET, 'sdk-user');
  t.after(() => c.destroy());
  const sent = await c.sendFile({ channel: 'up', file: { data: Buffer.from('via the SDK'), name: 'sdk.txt' } });
  assert.equal(posted.length, 1);
  assert.match(posted[0], new RegExp(`/v1/files/${SUB}/upload\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  const file = await c.downloadFile({ channel: 'up', id: sent.id!, name: 'sdk.txt' });
  assert.equal((await file.toBuffer()).toString(), 'via the SDK');
});
