import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirementsFor } from '../../../src/access/enforcement.ts';
import { open, replayRotations, SecretRotation, sealRotation } from '../../../src/access/secret-rotation.ts';
import { READ, WRITE } from '../../../src/access/permissions.ts';
import type { Decision } from '../../../src/access/types.ts';
import type { Keyset } from '../../../src/keyset.ts';
import { signDownloadToken, verifyDownloadToken } from '../../../src/protocol/file-token.ts';
import { createMemoryStores } from '../../../src/store/memory/index.ts';
import { accessRequest, KEYSET_B, signedRequest, silentLogger, startAccess } from '../../helpers/access.ts';
import { createFakeClock } from '../../helpers/fake-clock.ts';

const OLD = 'old-secret-0123456789abcdef0123456789';
const NEW = 'new-secret-0123456789abcdef0123456789';
const NEWER = 'newer-secret-0123456789abcdef01234567';
const SUB = 'sub-rot';
const code = (d: Decision): string => (d.allowed ? `allowed:${d.credential.kind}` : d.code);
const grant = {
  ttlMinutes: 600,
  resources: { channels: new Map([['room', READ | WRITE]]), groups: new Map(), uuids: new Map() },
  patterns: { channels: new Map(), groups: new Map(), uuids: new Map() },
  meta: new Map(),
};

function mutableKeyset(secretKey = OLD): Keyset {
  return { publishKey: 'pub-rot', subscribeKey: SUB, secretKey };
}

test('a rotation record never holds a secret in clear, opens only with the old or the new secret, and its fields are bound', () => {
  const r = sealRotation(SUB, OLD, NEW, 1000, 61_000);
  for (const field of [r.sealedNew, r.sealedPrevious]) {
    assert.ok(!field.includes(OLD) && !field.includes(NEW));
    assert.ok(!Buffer.from(field, 'base64url').toString('latin1').includes('secret'));
  }
  assert.deepEqual(replayRotations({ secretKey: OLD }, [r]), { secretKey: NEW, previous: { secretKey: OLD, validUntilMs: 61_000 } });
  assert.deepEqual(replayRotations({ secretKey: NEW }, [r]), { secretKey: NEW, previous: { secretKey: OLD, validUntilMs: 61_000 } });
  assert.deepEqual(replayRotations({ secretKey: 'unrelated-secret-000000000000000000' }, [r]), { secretKey: 'unrelated-secret-000000000000000000' });
  // Extending the window in the store (or moving the record to another keyset) breaks the seal.
  assert.deepEqual(replayRotations({ secretKey: OLD }, [{ ...r, previousValidUntilMs: 9e12 }]), { secretKey: OLD });
  assert.deepEqual(replayRotations({ secretKey: OLD }, [{ ...r, subscribeKey: 'other' }]), { secretKey: OLD });
  assert.equal(open(r.sealedNew, NEW, SUB, Buffer.from('x')), undefined);
});

test('replay follows a chain of rotations from whichever secret the config holds; the stricter deadline wins', () => {
  const r1 = sealRotation(SUB, OLD, NEW, 1000, 100_000);
  const r2 = sealRotation(SUB, NEW, NEWER, 50_000, 200_000);
  const expected = { secretKey: NEWER, previous: { secretKey: NEW, validUntilMs: 200_000 } };
  assert.deepEqual(replayRotations({ secretKey: OLD }, [r1, r2]), expected);
  assert.deepEqual(replayRotations({ secretKey: NEW }, [r1, r2]), expected);
  assert.deepEqual(replayRotations({ secretKey: NEWER }, [r1, r2]), expected);
  // The operator put the new secret in the config and cut the old one short there: that deadline stands.
  assert.deepEqual(replayRotations({ secretKey: NEW, previous: { secretKey: OLD, validUntilMs: 5000 } }, [r1]), {
    secretKey: NEW,
    previous: { secretKey: OLD, validUntilMs: 5000 },
  });
});

async function rotationFixture() {
  const clock = createFakeClock();
  const stores = createMemoryStores();
  const keyset = mutableKeyset();
  const access = await startAccess({ clock, stores, keysets: [keyset, KEYSET_B] });
  const rotation = new SecretRotation({ store: stores.secretRotations, keysets: [keyset, KEYSET_B], clock, log: silentLogger });
  const changes: string[] = [];
  rotation.onChange((sub, change, origin) => {
    changes.push(`${sub}:${change}:${origin}`);
    access.manager.forgetVerifiedTokens(sub);
  });
  await rotation.start();
  return { clock, stores, keyset, rotation, changes, manager: access.manager };
}

test('during the overlap both secrets sign requests, tokens and file URLs; new tokens use the new secret; afterwards the old one is refused', async () => {
  const { clock, keyset, rotation, changes, manager } = await rotationFixture();
  const now = () => clock.nowMs();
  const oldToken = manager.mintToken(keyset, grant);
  const oldToken2 = manager.mintToken(keyset, grant);
  const publish = requirementsFor('publish', { channels: ['room'] });
  const withToken = (token: string) => code(manager.check(accessRequest(keyset, { requirements: publish, params: { auth: token } })));
  const signedWith = (secretKey: string) => code(manager.check({ ...signedRequest({ ...keyset, secretKey }, now(), { adminOnly: true }), keyset }));
  const fileGrant = { subscribeKey: SUB, channel: 'room', id: 'f1', name: 'a.txt', expiresAtMs: now() + 3_600_000 };
  const oldFileUrl = signDownloadToken(keyset, fileGrant);
  assert.equal(withToken(oldToken), 'allowed:token', 'cached before the rotation');

  const result = await rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 10 });
  assert.deepEqual(result, { rotatedAtMs: now(), previousValidUntilMs: now() + 600_000 });
  assert.equal(keyset.secretKey, NEW);
  assert.deepEqual(rotation.status(keyset), { previousValidUntilMs: now() + 600_000 });
  assert.deepEqual(changes, [`${SUB}:rotated:local`]);

  const newToken = manager.mintToken(keyset, grant);
  assert.equal(signedWith(OLD), 'allowed:secret');
  assert.equal(signedWith(NEW), 'allowed:secret');
  assert.equal(withToken(oldToken), 'allowed:token');
  assert.equal(withToken(newToken), 'allowed:token');
  assert.equal(manager.inspectToken(keyset, oldToken).signedWith, 'previous');
  assert.equal(manager.inspectToken(keyset, newToken).signedWith, 'current');
  assert.equal(verifyDownloadToken(oldFileUrl, keyset, now()).id, 'f1');
  assert.equal(verifyDownloadToken(signDownloadToken(keyset, fileGrant), keyset, now()).id, 'f1');
  // Revoking an old-secret token during the window works.
  await manager.revokeToken(keyset, oldToken2);
  assert.equal(withToken(oldToken2), 'TOKEN_REVOKED');

  clock.advance(600_000 - 1);
  assert.equal(signedWith(OLD), 'allowed:secret', 'last millisecond of the window');
  assert.equal(withToken(oldToken), 'allowed:token');
  clock.advance(1);
  // Refused from the first moment past the window, cached or not, before retireExpired ran.
  assert.equal(signedWith(OLD), 'SIGNATURE_MISMATCH');
  assert.equal(withToken(oldToken), 'TOKEN_BAD_SIGNATURE');
  assert.throws(() => verifyDownloadToken(oldFileUrl, keyset, now()), { code: 'SIGNATURE_MISMATCH' });
  assert.equal(manager.inspectToken(keyset, oldToken).state, 'bad_signature');
  assert.equal(signedWith(NEW), 'allowed:secret');
  assert.equal(withToken(newToken), 'allowed:token');
  rotation.retireExpired();
  assert.equal(keyset.previous, undefined);
  assert.deepEqual(rotation.status(keyset), { previousValidUntilMs: null });
  assert.deepEqual(changes, [`${SUB}:rotated:local`, `${SUB}:window-ended:local`]);
  manager.close();
});

test("a second rotation ends the first one's window at once (one previous secret at a time)", async () => {
  const { clock, keyset, rotation, manager } = await rotationFixture();
  await rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 60 });
  clock.advance(1000);
  await rotation.rotate(keyset, { secretKey: NEWER, overlapMinutes: 60 });
  const signedWith = (secretKey: string) => code(manager.check({ ...signedRequest({ ...keyset, secretKey }, clock.nowMs(), { adminOnly: true }), keyset }));
  assert.equal(signedWith(NEWER), 'allowed:secret');
  assert.equal(signedWith(NEW), 'allowed:secret');
  assert.equal(signedWith(OLD), 'SIGNATURE_MISMATCH');
  manager.close();
});

test('rotate refuses a weak, reused or shared secret, a bad window, and a keyset without a secret', async () => {
  const { keyset, rotation, manager } = await rotationFixture();
  await assert.rejects(rotation.rotate(keyset, { secretKey: 'short', overlapMinutes: 5 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: `${'x'.repeat(31)} y`, overlapMinutes: 5 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: OLD, overlapMinutes: 5 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: KEYSET_B.secretKey, overlapMinutes: 5 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: -1 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 1.5 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 43_201 }), { code: 'INVALID_PARAM' });
  await assert.rejects(rotation.rotate({ ...keyset, secretKey: '' }, { secretKey: NEW, overlapMinutes: 5 }), { code: 'INVALID_PARAM' });
  assert.equal(keyset.secretKey, OLD);
  await rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 0 });
  await assert.rejects(
    rotation.rotate(keyset, { secretKey: OLD, overlapMinutes: 5 }),
    { code: 'INVALID_PARAM' },
    'the previous secret, even with its window over',
  );
  manager.close();
});

test('another node (same store) applies the rotation on reload; a node restarted with the old config follows the chain', async () => {
  const { stores, keyset, rotation, clock, manager } = await rotationFixture();
  const elsewhere = mutableKeyset();
  const other = new SecretRotation({ store: stores.secretRotations, keysets: [elsewhere], clock, log: silentLogger });
  await other.start();
  await rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 10 });
  const seen: string[] = [];
  other.onChange((sub, change, origin) => seen.push(`${sub}:${change}:${origin}`));
  await other.reload(SUB);
  assert.equal(elsewhere.secretKey, NEW);
  assert.deepEqual(elsewhere.previous, { secretKey: OLD, validUntilMs: clock.nowMs() + 600_000 });
  assert.deepEqual(seen, [`${SUB}:rotated:remote`]);
  await other.reload(SUB);
  assert.equal(seen.length, 1, 'nothing changed: no event');

  const restarted = mutableKeyset();
  await new SecretRotation({ store: stores.secretRotations, keysets: [restarted], clock, log: silentLogger }).start();
  assert.equal(restarted.secretKey, NEW);
  clock.advance(600_000);
  const late = mutableKeyset();
  await new SecretRotation({ store: stores.secretRotations, keysets: [late], clock, log: silentLogger }).start();
  assert.deepEqual(late, { publishKey: 'pub-rot', subscribeKey: SUB, secretKey: NEW }, 'a window already over is not installed');
  manager.close();
});

test('two nodes rotating one keyset at the same moment: one wins everywhere, the other caller gets CONFLICT', async () => {
  const { stores, keyset, rotation, clock, manager } = await rotationFixture();
  const twin = mutableKeyset();
  const other = new SecretRotation({ store: stores.secretRotations, keysets: [twin], clock, log: silentLogger });
  await other.start();
  const [a, b] = await Promise.allSettled([
    rotation.rotate(keyset, { secretKey: NEW, overlapMinutes: 5 }),
    other.rotate(twin, { secretKey: NEWER, overlapMinutes: 5 }),
  ]);
  assert.equal(a.status, 'fulfilled');
  assert.equal(b.status, 'rejected');
  assert.equal((b as PromiseRejectedResult).reason.code, 'CONFLICT');
  await other.reload(SUB);
  assert.equal(twin.secretKey, NEW);
  assert.equal(keyset.secretKey, NEW);
  manager.close();
});
