import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { accessFor, isAdminOperation, isOperation, KEYSET_LEVEL, OPERATIONS, requirementsFor, type Operation } from '../../../src/access/enforcement.ts';
import { renderAccessMatrixDoc } from '../../../src/access/matrix-doc.ts';
import { DELETE, GET, JOIN, MANAGE, READ, UPDATE, WRITE } from '../../../src/access/permissions.ts';
import { isParleyError } from '../../../src/errors.ts';

const doc = readFileSync(new URL('../../../docs/access-matrix.md', import.meta.url), 'utf8');

test('every operation in the table appears in docs/access-matrix.md', () => {
  for (const op of Object.keys(OPERATIONS)) assert.ok(doc.includes(`| \`${op}\` |`), `docs/access-matrix.md lacks ${op}`);
});

test('docs/access-matrix.md is generated from the table and up to date (npx tsx scripts/gen-access-matrix.ts)', () => {
  assert.equal(doc, renderAccessMatrixDoc());
});

test('§8.4 rows: the permission each operation needs', () => {
  const perm = (op: Operation, kind: 'channels' | 'groups' | 'uuids') => requirementsFor(op, { [kind]: ['x'] }).map((r) => r.perm);
  for (const op of ['publish', 'signal', 'fire', 'send_file', 'publish_file', 'add_message_action'] as const) {
    assert.deepEqual(perm(op, 'channels'), [WRITE], op);
  }
  for (const op of ['subscribe', 'heartbeat', 'here_now', 'get_state', 'set_state'] as const) {
    assert.deepEqual(perm(op, 'channels'), [READ], op);
    assert.deepEqual(perm(op, 'groups'), [READ], op);
  }
  for (const op of ['history', 'fetch_messages', 'message_counts', 'get_message_actions', 'list_files', 'download_file', 'add_push_channels'] as const) {
    assert.deepEqual(perm(op, 'channels'), [READ], op);
  }
  for (const op of ['delete_messages', 'remove_message_action', 'delete_file', 'remove_channel_metadata'] as const) {
    assert.deepEqual(perm(op, 'channels'), [DELETE], op);
  }
  for (const op of ['add_channels_to_group', 'remove_channels_from_group', 'list_channels_in_group', 'delete_group'] as const) {
    assert.deepEqual(perm(op, 'groups'), [MANAGE], op);
  }
  assert.deepEqual(perm('get_uuid_metadata', 'uuids'), [GET]);
  assert.deepEqual(perm('set_uuid_metadata', 'uuids'), [UPDATE]);
  assert.deepEqual(perm('remove_uuid_metadata', 'uuids'), [DELETE]);
  assert.deepEqual(perm('get_channel_metadata', 'channels'), [GET]);
  assert.deepEqual(perm('set_channel_metadata', 'channels'), [UPDATE]);
  assert.deepEqual(perm('set_members', 'channels'), [MANAGE]);
  assert.deepEqual(perm('remove_members', 'channels'), [MANAGE]);
  assert.deepEqual(perm('set_memberships', 'channels'), [JOIN]);
  assert.deepEqual(perm('remove_memberships', 'channels'), [JOIN]);
});

test('subscribe checks each name separately, -pnpres included, and deduplicates', () => {
  const reqs = requirementsFor('subscribe', { channels: ['ch', 'ch-pnpres', 'ch', 'a.*'], groups: ['g', 'g-pnpres'] });
  assert.deepEqual(reqs, [
    { kind: 'channels', name: 'ch', perm: READ },
    { kind: 'channels', name: 'ch-pnpres', perm: READ },
    { kind: 'channels', name: 'a.*', perm: READ },
    { kind: 'groups', name: 'g', perm: READ },
    { kind: 'groups', name: 'g-pnpres', perm: READ },
  ]);
});

test('leave needs read (no forged leaves); where_now of oneself needs nothing, of another uuid get; admin operations need only the signature', () => {
  assert.deepEqual(requirementsFor('leave', { channels: ['a'], groups: ['g'] }), [
    { kind: 'channels', name: 'a', perm: READ },
    { kind: 'groups', name: 'g', perm: READ },
  ]);
  assert.deepEqual(requirementsFor('where_now'), []);
  assert.deepEqual(requirementsFor('where_now_other', { uuids: ['bob'] }), [{ kind: 'uuids', name: 'bob', perm: GET }]);
  for (const op of ['grant', 'audit', 'grant_token', 'revoke_token'] as const) {
    assert.equal(isAdminOperation(op), true);
    assert.deepEqual(accessFor(op), { requirements: [], adminOnly: true });
  }
  assert.equal(isAdminOperation('publish'), false);
});

test('keyset-level operations: list_groups, here_now_global, list-all metadata', () => {
  assert.deepEqual(requirementsFor('list_groups'), [{ kind: 'groups', name: KEYSET_LEVEL, perm: MANAGE }]);
  assert.deepEqual(requirementsFor('here_now_global'), [{ kind: 'channels', name: KEYSET_LEVEL, perm: READ }]);
  assert.deepEqual(requirementsFor('get_all_uuid_metadata'), [{ kind: 'uuids', name: KEYSET_LEVEL, perm: GET }]);
  assert.deepEqual(requirementsFor('get_all_channel_metadata'), [{ kind: 'channels', name: KEYSET_LEVEL, perm: GET }]);
});

test('wiring mistakes fail loudly: a kind the operation does not take, an unknown operation', () => {
  assert.throws(
    () => requirementsFor('publish', { groups: ['g'] }),
    (e) => isParleyError(e) && e.code === 'INTERNAL',
  );
  assert.throws(
    () => requirementsFor('nope' as Operation),
    (e) => isParleyError(e) && e.code === 'INTERNAL',
  );
  assert.equal(isOperation('publish'), true);
  assert.equal(isOperation('toString'), false);
});
