import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bodyIssuesOf, capOf, ERROR_CATALOG, missingOf, ParleyError, type ErrorCode } from '../../../src/errors.ts';
import { HTTP_STATUS, errorBody } from '../../../src/protocol/error-response.ts';

test('every error code is documented in docs/errors.md with its HTTP status', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${HTTP_STATUS[code]} \\|`), `${code} missing from docs/errors.md`);
  }
});

test("error bodies take each family's shape", () => {
  const bad = new ParleyError('INVALID_JSON', 'Invalid JSON in message');
  assert.deepEqual(JSON.parse(errorBody(bad, 'publish', 'Publish').body), [0, 'Invalid JSON in message', '0']);
  assert.deepEqual(JSON.parse(errorBody(bad, 'history3', 'History').body), {
    status: 400,
    error: true,
    error_message: 'Invalid JSON in message',
    channels: {},
    code: 'INVALID_JSON',
  });
  const denied = new ParleyError('TOKEN_EXPIRED', 'expired', { details: { missing: { channels: ['a'], groups: ['g'], uuids: [] } } });
  const d = errorBody(denied, 'publish', 'Publish');
  assert.equal(d.status, 403);
  assert.deepEqual(JSON.parse(d.body), {
    message: 'Forbidden',
    payload: { channels: ['a'], 'channel-groups': ['g'] },
    error: true,
    service: 'Access Manager',
    status: 403,
    code: 'TOKEN_EXPIRED',
    reason: 'expired',
  });
  // 5xx never leaks internals.
  const internal = new ParleyError('INTERNAL', 'secret detail', { cause: new Error('stack') });
  assert.doesNotMatch(errorBody(internal, 'generic', 'X').body, /secret detail/);
});

test('error details are typed per code, and read back through one accessor per kind', () => {
  const capped = new ParleyError('TOO_MANY_REQUESTS', 'full', { details: { cap: 'maxLongPolls' } });
  const denied = new ParleyError('ACCESS_DENIED', 'no', { details: { missing: { channels: ['a'], groups: [], uuids: [] } } });
  const badBody = new ParleyError('INVALID_PARAM', 'Invalid ttl', { details: { source: 'grant', details: [{ message: 'bad', location: 'ttl' }] } });
  assert.equal(capOf(capped), 'maxLongPolls');
  assert.equal(capOf(denied), undefined);
  assert.deepEqual(missingOf(denied)?.channels, ['a']);
  assert.equal(missingOf(badBody), undefined);
  assert.deepEqual(bodyIssuesOf(badBody), { source: 'grant', details: [{ message: 'bad', location: 'ttl' }] });
  assert.equal(bodyIssuesOf(capped), undefined);
  // A code carries only its own kind of details (checked by tsc in CI):
  // @ts-expect-error NOT_FOUND carries no details
  void new ParleyError('NOT_FOUND', 'x', { details: { cap: 'y' } });
  // @ts-expect-error a cap refusal does not name missing resources
  void new ParleyError('TOO_MANY_REQUESTS', 'x', { details: { missing: { channels: [], groups: [], uuids: [] } } });
});
