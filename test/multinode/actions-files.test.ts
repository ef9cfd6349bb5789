import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PAM_KEYSET } from '../helpers/start-server.ts';
import { record } from '../helpers/clients.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startCluster, type ClusterNode } from '../helpers/cluster.ts';

/** Two Parley processes on one Redis: message actions and files are shared, upload URLs work on either node. */
let cluster: Awaited<ReturnType<typeof startCluster>>;
let nodes: ClusterNode[];
const client = (node: ClusterNode, userId: string, extra: Record<string, unknown> = {}) => cluster.client(node, PAM_KEYSET, userId, extra);

before(async () => {
  cluster = await startCluster(2, { keysets: [PAM_KEYSET] });
  nodes = cluster.nodes;
});

after(() => cluster.stop());

test('an action added on A reaches a subscriber on B; a file uploaded through B is listed and served by A', async () => {
  const [a, b] = nodes;
  const admin = client(a, 'admin', { secretKey: PAM_KEYSET.secretKey });
  const token = await admin.grantToken({ ttl: 15, authorized_uuid: 'u', resources: { channels: { shared: { read: true, write: true, delete: true } } } });
  const onA = client(a, 'u');
  const onB = client(b, 'u');
  onA.setToken(token);
  onB.setToken(token);
  const watcher = client(b, 'u');
  watcher.setToken(token);
  const seen = record(watcher);
  watcher.subscribe({ channels: ['shared'] });
  await waitFor(() => seen.statuses.find((s) => s.category === 'PNConnectedCategory'), 'watcher connected');

  const { timetoken } = await onA.publish({ channel: 'shared', message: 'm' });
  const added = await onA.addMessageAction({ channel: 'shared', messageTimetoken: String(timetoken), action: { type: 'reaction', value: 'ok' } });
  const event = await waitFor(() => seen.messageActions[0], 'action event on B');
  assert.equal(event.data.actionTimetoken, added.data.actionTimetoken);
  assert.deepEqual((await onB.getMessageActions({ channel: 'shared' })).data, [added.data]);

  // The upload URL names the node that issued it; the token is valid on every node of the keyset.
  const ticketRes = await fetch(`${a.url}/v1/files/${PAM_KEYSET.subscribeKey}/channels/shared/generate-upload-url?uuid=u&auth=${token}`, {
    method: 'POST',
    body: JSON.stringify({ name: 'n.txt' }),
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(ticketRes.status, 200);
  const ticket = await ticketRes.json();
  assert.ok(ticket.file_upload_request.url.startsWith(a.url));
  const form = new FormData();
  for (const f of ticket.file_upload_request.form_fields) form.append(f.key, f.value);
  form.append('file', new Blob(['across nodes']), 'n.txt');
  const uploaded = await fetch(ticket.file_upload_request.url.replace(a.url, b.url), { method: 'POST', body: form });
  assert.equal(uploaded.status, 204);
  await onB.publishFile({ channel: 'shared', fileId: ticket.data.id, fileName: 'n.txt' });
  const fileEvent = await waitFor(() => seen.files[0], 'file event on B');
  assert.equal(fileEvent.file.id, ticket.data.id);
  assert.deepEqual(
    (await onA.listFiles({ channel: 'shared' })).data.map((f: any) => f.id),
    [ticket.data.id],
  );
  const file = await onA.downloadFile({ channel: 'shared', id: ticket.data.id, name: 'n.txt' });
  assert.equal((await file.toBuffer()).toString(), 'across nodes');
});
