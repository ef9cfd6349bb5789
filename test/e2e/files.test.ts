import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type startServer, OPEN_KEYSET, PAM_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { harness } from '../helpers/harness.ts';
import type { Keyset } from '../../src/keyset.ts';
import { createFakeClock } from '../helpers/fake-clock.ts';

/** A server plus SDK clients (keyset before options, open keyset by default), all torn down after the test. */
async function setup(t: TestContext, options: Parameters<typeof startServer>[0] = {}) {
  const { server, client } = await harness(t, options, OPEN_KEYSET);
  return { server, client: (userId: string, keyset: Keyset = OPEN_KEYSET, extra: Record<string, unknown> = {}) => client(userId, extra, keyset) };
}

const denied = (err: any) => {
  assert.equal(err.status?.category, 'PNAccessDeniedCategory', JSON.stringify(err.status));
  assert.equal(err.status?.statusCode, 403);
  return true;
};

/** generate-upload-url by hand, to look at (and tamper with) what the SDK gets. */
async function uploadTicket(url: string, channel: string, name: string) {
  const res = await fetch(`${url}/v1/files/${OPEN_KEYSET.subscribeKey}/channels/${channel}/generate-upload-url?uuid=raw`, {
    method: 'POST',
    body: JSON.stringify({ name }),
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { data: { id: string; name: string }; file_upload_request: { url: string; form_fields: Array<{ key: string; value: string }> } };
}

function form(fields: Array<{ key: string; value: string }>, bytes: Buffer, name = 'f.bin'): FormData {
  const fd = new FormData();
  for (const f of fields) fd.append(f.key, f.value);
  fd.append('file', new Blob([new Uint8Array(bytes)]), name);
  return fd;
}

test('sendFile → file event → listFiles → downloadFile → deleteFile, with the bytes intact', async (t) => {
  const { server, client } = await setup(t);
  const alice = client('alice');
  const bob = client('bob');
  const seen = record(bob);
  bob.subscribe({ channels: ['share'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'bob connected');

  const bytes = Buffer.concat([Buffer.from([0, 255, 13, 10, 45, 45]), randomBytes(200_000)]);
  const sent = await alice.sendFile({
    channel: 'share',
    file: { data: bytes, name: 'photo 1.png', mimeType: 'image/png' },
    message: { caption: 'look' },
    customMessageType: 'file-msg',
  });
  assert.equal(sent.status, 200);
  assert.equal(sent.name, 'photo 1.png');
  assert.match(sent.id, /^[0-9a-f-]{36}$/);

  const event = await waitFor(() => seen.files[0], 'file event');
  assert.equal(event.channel, 'share');
  assert.equal(event.publisher, 'alice');
  assert.equal(event.timetoken, sent.timetoken);
  assert.deepEqual(event.message, { caption: 'look' });
  assert.equal(event.file.id, sent.id);
  assert.equal(event.file.name, 'photo 1.png');
  assert.ok(event.file.url.startsWith(`http://${server.origin}/v1/files/sub-open/channels/share/files/${sent.id}/photo%201.png`), event.file.url);
  assert.equal(seen.messages.length, 0, 'a file message is not a plain message');

  const listed = await bob.listFiles({ channel: 'share' });
  assert.equal(listed.count, 1);
  assert.equal(listed.data[0].id, sent.id);
  assert.equal(listed.data[0].name, 'photo 1.png');
  assert.equal(listed.data[0].size, bytes.length);
  assert.match(listed.data[0].created, /^\d{4}-\d\d-\d\dT/);

  const file = await bob.downloadFile({ channel: 'share', id: sent.id!, name: 'photo 1.png' });
  assert.ok((await file.toBuffer()).equals(bytes));

  // The URL the SDK hands out works as a plain GET (a browser <img>, say), with safe headers.
  const direct = await fetch(event.file.url);
  assert.equal(direct.status, 200);
  assert.equal(direct.headers.get('content-type'), 'image/png');
  assert.equal(direct.headers.get('content-disposition'), `inline; filename="photo 1.png"; filename*=UTF-8''photo%201.png`);
  assert.equal(direct.headers.get('x-content-type-options'), 'nosniff');
  assert.match(direct.headers.get('content-security-policy') ?? '', /sandbox/);
  assert.ok(Buffer.from(await direct.arrayBuffer()).equals(bytes));

  const history: any = await bob.fetchMessages({ channels: ['share'], includeCustomMessageType: true });
  const entry = history.channels.share[0];
  assert.equal(entry.messageType, 4);
  assert.equal(entry.customMessageType, 'file-msg');
  assert.deepEqual(entry.message.message, { caption: 'look' });
  assert.equal(entry.message.file.id, sent.id);
  assert.equal(entry.message.file.name, 'photo 1.png');

  await assert.rejects(bob.downloadFile({ channel: 'share', id: sent.id!, name: 'other-name.png' }), (err: any) => err.status?.statusCode === 404);
  await alice.deleteFile({ channel: 'share', id: sent.id!, name: 'photo 1.png' });
  assert.equal((await bob.listFiles({ channel: 'share' })).count, 0);
  await assert.rejects(bob.downloadFile({ channel: 'share', id: sent.id!, name: 'photo 1.png' }), (err: any) => err.status?.statusCode === 404);
  await assert.rejects(alice.deleteFile({ channel: 'share', id: sent.id!, name: 'photo 1.png' }), (err: any) => err.status?.statusCode === 404);
});

test('a stream uploads too; listFiles pages newest first; publishFile alone announces an existing file', async (t) => {
  const { client } = await setup(t, { store: 'memory' });
  const c = client('streamer');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const sent = await c.sendFile({
      channel: 'docs',
      file: { stream: Readable.from([Buffer.from(`part-a-${i}`), Buffer.from('|part-b')]), name: `doc${i}.txt` },
    });
    ids.push(sent.id!);
  }
  const file = await c.downloadFile({ channel: 'docs', id: ids[2], name: 'doc2.txt' });
  assert.equal((await file.toBuffer()).toString(), 'part-a-2|part-b');
  assert.equal(file.mimeType, 'text/plain; charset=utf-8');

  const seen: string[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const page: any = await c.listFiles({ channel: 'docs', limit: 2, ...(next ? { next } : {}) });
    seen.push(...page.data.map((f: any) => f.name));
    next = page.next;
    pages++;
  } while (next);
  assert.equal(pages, 3);
  assert.deepEqual(seen, ['doc4.txt', 'doc3.txt', 'doc2.txt', 'doc1.txt', 'doc0.txt']);

  const watcher = client('watcher');
  const events = record(watcher);
  watcher.subscribe({ channels: ['docs'] });
  await waitFor(() => events.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  const { timetoken } = await c.publishFile({ channel: 'docs', fileId: ids[0], fileName: 'doc0.txt', message: 'again', storeInHistory: false });
  const event = await waitFor(() => events.files[0], 'file event');
  assert.equal(event.timetoken, timetoken);
  assert.equal(event.message, 'again');
});

test('uploads over files.maxFileBytes are refused with 413 and nothing is stored or published', async (t) => {
  const { client } = await setup(t, { store: 'memory', overrides: { files: { maxFileBytes: 1000 } } });
  const c = client('big');
  const events = record(c);
  c.subscribe({ channels: ['big'] });
  await waitFor(() => events.statuses.find((s) => s.category === 'PNConnectedCategory'), 'connected');
  await c.sendFile({ channel: 'big', file: { data: Buffer.alloc(1000, 1), name: 'fits.bin' } });
  await assert.rejects(c.sendFile({ channel: 'big', file: { data: Buffer.alloc(1001, 1), name: 'too-big.bin' } }), (err: any) => {
    assert.equal(err.status?.statusCode, 413, JSON.stringify(err.status));
    assert.equal(err.status?.operation, 'PNPublishFileOperation');
    return true;
  });
  // Far over the limit (beyond what fits one request body) is refused the same way.
  await assert.rejects(
    c.sendFile({ channel: 'big', file: { data: Buffer.alloc(300_000, 2), name: 'huge.bin' } }),
    (err: any) => err.status?.statusCode === 413,
  );
  const listed = await c.listFiles({ channel: 'big' });
  assert.deepEqual(
    listed.data.map((f: any) => f.name),
    ['fits.bin'],
  );
  await waitFor(() => events.files.length === 1, 'one file event');
  assert.equal(events.files[0].file.name, 'fits.bin');
});

test('the upload URL is on Parley, signed, single-use and expiring', async (t) => {
  const clock = createFakeClock(Date.now());
  const { server } = await setup(t, { store: 'memory', clock });
  const ticket = await uploadTicket(server.url, 'up', 'a.txt');
  const { url, form_fields: fields } = ticket.file_upload_request;
  const token = fields.find((f) => f.key === 'X-Parley-Upload-Token')!.value;
  // The token rides in the URL (checked before the body) and in the form (older nodes, clients that drop the query).
  assert.equal(url, `${server.url}/v1/files/${OPEN_KEYSET.subscribeKey}/upload?token=${token}`);
  assert.deepEqual(
    fields.map((f) => f.key),
    ['key', 'Content-Type', 'X-Parley-Upload-Token'],
  );
  assert.equal(fields[0].value, `${ticket.data.id}/a.txt`);
  assert.equal(fields[1].value, 'text/plain; charset=utf-8');
  const bare = url.slice(0, url.indexOf('?'));
  const flip = (t: string) => t.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

  const tampered = fields.map((f) => (f.key === 'X-Parley-Upload-Token' ? { ...f, value: flip(f.value) } : f));
  const refused = await fetch(bare, { method: 'POST', body: form(tampered, Buffer.from('x')) });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).code, 'SIGNATURE_MISMATCH');
  const badUrl = await fetch(`${bare}?token=${flip(token)}`, { method: 'POST', body: form(fields, Buffer.from('x')) });
  assert.equal(badUrl.status, 403);
  assert.equal((await badUrl.json()).code, 'SIGNATURE_MISMATCH');
  const differs = await fetch(url, { method: 'POST', body: form(tampered, Buffer.from('x')) });
  assert.equal(differs.status, 403, 'a form token that differs from the URL token is refused');
  const missing = await fetch(bare, { method: 'POST', body: form([], Buffer.from('x')) });
  assert.equal(missing.status, 403);
  const notMultipart = await fetch(url, { method: 'POST', body: 'plain', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(notMultipart.status, 400);
  assert.match(notMultipart.headers.get('content-type') ?? '', /xml/);
  assert.match(await notMultipart.text(), /<Code>INVALID_PARAM<\/Code><Message>Content-Type must be multipart\/form-data<\/Message>/);

  const ok = await fetch(url, { method: 'POST', body: form(fields, Buffer.from('hello')) });
  assert.equal(ok.status, 204);
  const again = await fetch(url, { method: 'POST', body: form(fields, Buffer.from('replaced?')) });
  assert.equal(again.status, 409);
  const download = await fetch(`${server.url}/v1/files/${OPEN_KEYSET.subscribeKey}/channels/up/files/${ticket.data.id}/a.txt?uuid=raw`);
  assert.equal(await download.text(), 'hello');
  assert.match(download.headers.get('content-disposition') ?? '', /^inline; filename="a.txt"/);

  const late = await uploadTicket(server.url, 'up', 'page.html');
  assert.equal(late.file_upload_request.form_fields[1].value, 'text/html; charset=utf-8');
  clock.advance(60_000);
  const expired = await fetch(late.file_upload_request.url, { method: 'POST', body: form(late.file_upload_request.form_fields, Buffer.from('<script>')) });
  assert.equal(expired.status, 403);
  assert.equal((await expired.json()).code, 'SIGNATURE_EXPIRED');

  // HTML is never rendered from Parley's origin: attachment, sandboxed.
  const html = await uploadTicket(server.url, 'up', 'x.html');
  assert.equal(
    (await fetch(html.file_upload_request.url, { method: 'POST', body: form(html.file_upload_request.form_fields, Buffer.from('<script>alert(1)</script>')) }))
      .status,
    204,
  );
  const served = await fetch(`${server.url}/v1/files/${OPEN_KEYSET.subscribeKey}/channels/up/files/${html.data.id}/x.html?uuid=raw`);
  assert.match(served.headers.get('content-disposition') ?? '', /^attachment;/);
  assert.equal(served.headers.get('content-security-policy'), "default-src 'none'; sandbox");
});

test('Access Manager: write sends, read lists and downloads, delete deletes; each missing one is a 403', async (t) => {
  const { client } = await setup(t, { store: 'memory' });
  const admin = client('admin', PAM_KEYSET, { secretKey: PAM_KEYSET.secretKey });
  const token = (uuid: string, perms: Record<string, boolean>) =>
    admin.grantToken({ ttl: 15, authorized_uuid: uuid, resources: { channels: { vault: perms } } });
  const writer = client('writer', PAM_KEYSET);
  writer.setToken(await token('writer', { write: true }));
  const reader = client('reader', PAM_KEYSET);
  reader.setToken(await token('reader', { read: true }));
  const deleter = client('deleter', PAM_KEYSET);
  deleter.setToken(await token('deleter', { delete: true }));

  const sent = await writer.sendFile({ channel: 'vault', file: { data: Buffer.from('secret'), name: 's.txt' } });
  const ref = { channel: 'vault', id: sent.id!, name: 's.txt' };
  await assert.rejects(reader.sendFile({ channel: 'vault', file: { data: Buffer.from('no'), name: 'n.txt' } }), denied);
  await assert.rejects(reader.publishFile({ channel: 'vault', fileId: sent.id!, fileName: 's.txt' }), denied);

  assert.equal((await reader.listFiles({ channel: 'vault' })).count, 1);
  assert.equal((await (await reader.downloadFile(ref)).toBuffer()).toString(), 'secret');
  await assert.rejects(writer.listFiles({ channel: 'vault' }), denied);
  await assert.rejects(writer.downloadFile(ref), denied);
  const anonymous = await fetch(reader.getFileUrl(ref).replace(/([?&])auth=[^&]*/, '$1'));
  assert.equal(anonymous.status, 403);
  assert.equal((await fetch(reader.getFileUrl(ref))).status, 200, 'the SDK-built URL carries the token');

  await assert.rejects(writer.deleteFile(ref), denied);
  await assert.rejects(reader.deleteFile(ref), denied);
  await deleter.deleteFile(ref);
  assert.equal((await reader.listFiles({ channel: 'vault' })).count, 0);
});
