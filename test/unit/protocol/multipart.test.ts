import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundaryOf, parseMultipart } from '../../../src/protocol/multipart.ts';
import { signUploadToken, verifyUploadToken } from '../../../src/protocol/upload-token.ts';

const B = 'xYz-123';
const CRLF = '\r\n';

function body(...parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

test('parses what fetch FormData sends: fields, then a binary file that contains CRLF and dashes', async () => {
  const fd = new FormData();
  fd.append('Content-Type', 'image/png');
  fd.append('token', 'a.b');
  const bytes = Buffer.from([0, 13, 10, 45, 45, 0xff, 13, 10, 45, 45, 120]);
  fd.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), 'naïve "q".png');
  const req = new Request('http://x/', { method: 'POST', body: fd });
  const parts = parseMultipart(Buffer.from(await req.arrayBuffer()), boundaryOf(req.headers.get('content-type') ?? undefined));
  assert.deepEqual(parts.map((p) => [p.name, p.filename]), [['Content-Type', null], ['token', null], ['file', 'naïve %22q%22.png']]);
  assert.equal(parts[0].data.toString(), 'image/png');
  assert.equal(parts[2].contentType, 'application/octet-stream');
  assert.ok(parts[2].data.equals(bytes));
});

test('tolerates a preamble, transport padding, an empty part and an epilogue', () => {
  const raw = body(
    'preamble text', CRLF, `--${B}  `, CRLF,
    'Content-Disposition: form-data; name="empty"', CRLF, CRLF, '', CRLF,
    `--${B}`, CRLF,
    'content-disposition: form-data; name=plain; filename="a\\"b.txt"', CRLF, 'Content-Type: text/plain', CRLF, CRLF, 'hi', CRLF,
    `--${B}--`, CRLF, 'epilogue',
  );
  const parts = parseMultipart(raw, B);
  assert.deepEqual(parts.map((p) => [p.name, p.filename, p.data.toString()]), [['empty', null, ''], ['plain', 'a"b.txt', 'hi']]);
  assert.equal(parts[1].contentType, 'text/plain');
});

test('refuses truncated or malformed bodies with INVALID_PARAM', () => {
  const head = `--${B}${CRLF}Content-Disposition: form-data; name="f"${CRLF}${CRLF}data`;
  const cases = [
    body(head),
    body(head, CRLF, `--${B}`),
    body('no boundary at all'),
    body(`--${B}${CRLF}Content-Disposition: form-data${CRLF}${CRLF}x${CRLF}--${B}--`),
    body(`--${B}${CRLF}Content-Disposition: attachment; name="f"${CRLF}${CRLF}x${CRLF}--${B}--`),
    body(`--${B}${CRLF}no colon here${CRLF}${CRLF}x${CRLF}--${B}--`),
    body(...Array.from({ length: 65 }, () => `--${B}${CRLF}Content-Disposition: form-data; name="n"${CRLF}${CRLF}v${CRLF}`), `--${B}--`),
  ];
  for (const raw of cases) assert.throws(() => parseMultipart(raw, B), { code: 'INVALID_PARAM' }, raw.toString().slice(0, 80));
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
