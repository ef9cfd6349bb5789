import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { boundaryOf, readUploadForm, MAX_FIELDS, MAX_FIELD_BYTES, type UploadLimits } from '../../../src/protocol/multipart.ts';
import { isParleyError } from '../../../src/errors.ts';
import { HTTP_STATUS } from '../../../src/protocol/error-response.ts';
import { signUploadToken, verifyUploadToken } from '../../../src/protocol/file-token.ts';
import { rawConnect, within } from '../../helpers/raw-http.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const B = 'xYz-123';
const CRLF = '\r\n';
const LIMITS: UploadLimits = { maxFileBytes: 1000, maxBodyBytes: 20_000, maxBytesBeforeFile: 8192, idleTimeoutMs: 5000 };

function body(...parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/**
 * A real HTTP server whose handler is readUploadForm: answers 200 with what it read, or the error's
 * status and code (Connection: close when the body was not read to its end, as server.ts does).
 */
async function formServer(t: TestContext, limits: UploadLimits = LIMITS, beforeFile: (fields: ReadonlyMap<string, string>) => void = () => {}) {
  const outcomes: string[] = [];
  const server = createServer((req, res) => {
    readUploadForm(req, limits, beforeFile).then(
      (form) => {
        outcomes.push('ok');
        const text = JSON.stringify({ fields: [...form.fields], file: form.file === null ? null : form.file.toString('base64') });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
      (err) => {
        const code = isParleyError(err) ? err.code : 'NOT_A_PARLEY_ERROR';
        outcomes.push(code);
        if (res.destroyed) return;
        if (!req.complete) res.setHeader('Connection', 'close');
        const text = JSON.stringify({ code, message: (err as Error).message });
        res.writeHead(isParleyError(err) ? HTTP_STATUS[err.code] : 500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const post = async (raw: Buffer | FormData, contentType = `multipart/form-data; boundary=${B}`) => {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: raw instanceof FormData ? raw : new Uint8Array(raw),
      headers: raw instanceof FormData ? {} : { 'Content-Type': contentType },
    });
    return { status: res.status, json: (await res.json()) as { fields?: Array<[string, string]>; file?: string | null; code?: string; message?: string } };
  };
  return { port, post, outcomes };
}

test('reads what fetch FormData sends: fields, then a binary file that contains CRLF and dashes', async (t) => {
  const { post } = await formServer(t);
  const fd = new FormData();
  fd.append('Content-Type', 'image/png');
  fd.append('token', 'a.b');
  const bytes = Buffer.from([0, 13, 10, 45, 45, 0xff, 13, 10, 45, 45, 120]);
  fd.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), 'naïve "q".png');
  const { status, json } = await post(fd);
  assert.equal(status, 200);
  assert.deepEqual(json.fields, [
    ['Content-Type', 'image/png'],
    ['token', 'a.b'],
  ]);
  assert.ok(Buffer.from(json.file!, 'base64').equals(bytes));
});

test('tolerates a preamble, an empty part and an epilogue; fields after the file are not kept', async (t) => {
  const { post } = await formServer(t);
  const raw = body(
    'preamble text',
    CRLF,
    `--${B}`,
    CRLF,
    'Content-Disposition: form-data; name="empty"',
    CRLF,
    CRLF,
    '',
    CRLF,
    `--${B}`,
    CRLF,
    'content-disposition: form-data; name=file; filename="a\\"b.txt"',
    CRLF,
    'Content-Type: text/plain',
    CRLF,
    CRLF,
    'hi',
    CRLF,
    `--${B}`,
    CRLF,
    'Content-Disposition: form-data; name="late"',
    CRLF,
    CRLF,
    'ignored',
    CRLF,
    `--${B}--`,
    CRLF,
    'epilogue',
  );
  const { status, json } = await post(raw);
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(json.fields, [['empty', '']]);
  assert.equal(Buffer.from(json.file!, 'base64').toString(), 'hi');
});

test("Swift's form (boundary = the file id, no CRLF after the closing delimiter) and Kotlin's (`key` first) are read", async (t) => {
  const { post } = await formServer(t);
  const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const swift = body(
    `--${id}`,
    CRLF,
    'Content-Disposition: form-data; name="tok"',
    CRLF,
    CRLF,
    'v',
    CRLF,
    `--${id}`,
    CRLF,
    'Content-Disposition: form-data; name="file"; filename="s.txt"',
    CRLF,
    'Content-Type: text/plain',
    CRLF,
    CRLF,
    'swift',
    CRLF,
    `--${id}--`,
  );
  const s = await post(swift, `multipart/form-data; boundary=${id}`);
  assert.equal(s.status, 200, JSON.stringify(s.json));
  assert.equal(Buffer.from(s.json.file!, 'base64').toString(), 'swift');
  const kotlin = new FormData();
  kotlin.append('key', 'id/k.txt');
  kotlin.append('Content-Type', 'text/plain');
  kotlin.append('file', new Blob([new Uint8Array(Buffer.from('kotlin'))]), 'k.txt');
  const k = await post(kotlin);
  assert.deepEqual(k.json.fields, [
    ['key', 'id/k.txt'],
    ['Content-Type', 'text/plain'],
  ]);
});

test('refuses truncated or malformed forms with INVALID_PARAM', async (t) => {
  const { post } = await formServer(t);
  const head = `--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}data`;
  const field = (name: string, value: string) => `--${B}${CRLF}Content-Disposition: form-data; name="${name}"${CRLF}${CRLF}${value}${CRLF}`;
  const fileEnd = `--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}x${CRLF}--${B}--`;
  const cases: Array<[string, Buffer]> = [
    ['no closing delimiter', body(head)],
    ['cut after a delimiter', body(head, CRLF, `--${B}`)],
    ['no boundary at all', body('no boundary at all')],
    ['a part without a name', body(`--${B}${CRLF}Content-Disposition: form-data${CRLF}${CRLF}x${CRLF}`, fileEnd)],
    ['too many fields', body(...Array.from({ length: MAX_FIELDS + 1 }, (_, i) => field(`n${i}`, 'v')), fileEnd)],
    ['a field over its size', body(field('big', 'x'.repeat(MAX_FIELD_BYTES + 1)), fileEnd)],
    ['two file parts', body(`--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="a"${CRLF}${CRLF}a${CRLF}`, fileEnd)],
  ];
  for (const [what, raw] of cases) {
    const { status, json } = await post(raw);
    assert.equal(status, 400, `${what}: ${JSON.stringify(json)}`);
    assert.equal(json.code, 'INVALID_PARAM', what);
  }
  const notMultipart = await post(Buffer.from('x'), 'text/plain');
  assert.equal(notMultipart.json.code, 'INVALID_PARAM');
});

test('a file over maxFileBytes is refused once the limit is passed, while the client still has most of it unsent', async (t) => {
  const { port } = await formServer(t);
  const conn = await rawConnect(port);
  const size = 100_000;
  await conn.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${size}\r\n\r\n`);
  await conn.write(`--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}`);
  await conn.write(Buffer.alloc(LIMITS.maxFileBytes + 1, 7));
  const res = await within(conn.response, 5000, '413 for an oversized file');
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.body).code, 'PAYLOAD_TOO_LARGE');
  assert.ok(conn.sent < size / 10, `answered after ${conn.sent} of ${size} bytes`);
  await within(conn.closed, 5000, 'the connection closes after the 413');
});

test('no file part within maxBytesBeforeFile is refused; a body over maxBodyBytes is refused', async (t) => {
  const { post } = await formServer(t, { ...LIMITS, maxBytesBeforeFile: 100, maxBodyBytes: 3000 });
  const skipped = `--${B}${CRLF}Content-Disposition: attachment${CRLF}${CRLF}${'z'.repeat(2000)}${CRLF}`;
  const before = await post(body(skipped, `--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}x${CRLF}--${B}--`));
  assert.equal(before.status, 400, JSON.stringify(before.json));
  assert.match(before.json.message!, /no file part within the first 100 bytes/);
  const { post: post2 } = await formServer(t, { ...LIMITS, maxBodyBytes: 3000 });
  const epilogue = await post2(
    body(`--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}x${CRLF}--${B}--`, CRLF, 'e'.repeat(5000)),
  );
  assert.equal(epilogue.status, 413);
});

test('beforeFile runs when the file part begins, with the fields before it, and its refusal answers before the file is read', async (t) => {
  const seen: Array<Array<[string, string]>> = [];
  const { port, outcomes } = await formServer(t, LIMITS, (fields) => {
    seen.push([...fields]);
    throw new Error('refused');
  });
  const conn = await rawConnect(port);
  const size = 10_000;
  await conn.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${size}\r\n\r\n`);
  await conn.write(
    `--${B}${CRLF}Content-Disposition: form-data; name="tok"${CRLF}${CRLF}abc${CRLF}--${B}${CRLF}Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}0123456789`,
  );
  const res = await within(conn.response, 5000, 'refusal at the file part');
  assert.equal(res.status, 400);
  assert.deepEqual(seen, [[['tok', 'abc']]]);
  assert.deepEqual(outcomes, ['INVALID_PARAM']);
  assert.ok(conn.sent < 300, `answered after ${conn.sent} bytes`);
  await within(conn.closed, 5000, 'the connection closes after the refusal');
});

test('a body that stops arriving is answered 408 after idleTimeoutMs and its connection closed', async (t) => {
  const { port, outcomes } = await formServer(t, { ...LIMITS, idleTimeoutMs: 100 });
  const conn = await rawConnect(port);
  await conn.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: 5000\r\n\r\n--${B}${CRLF}`);
  const res = await within(conn.response, 5000, '408 for a stalled body');
  assert.equal(res.status, 408);
  assert.deepEqual(outcomes, ['REQUEST_TIMEOUT']);
  await within(conn.closed, 5000, 'the connection closes after the 408');
});

test('a client that goes away mid-body is CLIENT_CLOSED_REQUEST, not a server error', async (t) => {
  const { port, outcomes } = await formServer(t);
  const conn = await rawConnect(port);
  await conn.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: 5000\r\n\r\n--${B}${CRLF}`);
  await conn.write(`Content-Disposition: form-data; name="file"; filename="f"${CRLF}${CRLF}abc`);
  conn.socket.destroy();
  await waitFor(() => outcomes.length === 1, 'the read to end');
  assert.deepEqual(outcomes, ['CLIENT_CLOSED_REQUEST']);
});

test('boundaryOf reads plain and quoted boundaries and refuses other types', () => {
  assert.equal(boundaryOf(`multipart/form-data; boundary=${B}`), B);
  assert.equal(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b;c"'), 'a b;c');
  for (const bad of [undefined, 'application/json', 'multipart/form-data', `multipart/form-data; boundary=${'x'.repeat(71)}`]) {
    assert.throws(() => boundaryOf(bad), { code: 'INVALID_PARAM' });
  }
});

test('upload tokens: verify as signed, refuse any changed byte, another keyset, and a passed deadline', () => {
  const keyset = { publishKey: 'p', subscribeKey: 's', secretKey: 'sec-0123456789abcdef0123456789abcdef' };
  const grant = { subscribeKey: 's', channel: 'c', id: 'id-1', name: 'a.txt', expiresAtMs: 2000 };
  const token = signUploadToken(keyset, grant);
  assert.deepEqual(verifyUploadToken(token, keyset, 1999), grant);
  assert.throws(() => verifyUploadToken(token, keyset, 2000), { code: 'SIGNATURE_EXPIRED' });
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '.') continue;
    const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    assert.throws(() => verifyUploadToken(changed, keyset, 0), { code: 'SIGNATURE_MISMATCH' }, `byte ${i}`);
  }
  assert.throws(() => verifyUploadToken(token, { ...keyset, secretKey: 'other-secret-0123456789abcdef0123' }, 0), { code: 'SIGNATURE_MISMATCH' });
  const sameSecretOtherKeyset = { ...keyset, subscribeKey: 's2' };
  assert.throws(() => verifyUploadToken(signUploadToken(sameSecretOtherKeyset, { ...grant, subscribeKey: 's2' }), keyset, 0), { code: 'SIGNATURE_MISMATCH' });
  for (const bad of [undefined, '', 'no-dot', '.', 'a.b']) assert.throws(() => verifyUploadToken(bad, keyset, 0), { code: 'SIGNATURE_MISMATCH' });
});
