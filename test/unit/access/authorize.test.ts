import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize, authorizeToken, authorizeV2, describeUnmet, explain, missingAll, type AuthorizeContext } from '../../../src/access/authorize.ts';
import { KEYSET_LEVEL, requirementsFor } from '../../../src/access/enforcement.ts';
import { GrantIndex, KeysetGrants } from '../../../src/access/grant-index.ts';
import { PatternCache } from '../../../src/access/patterns.ts';
import { MANAGE, READ, WRITE } from '../../../src/access/permissions.ts';
import type { TokenClaims } from '../../../src/access/token/codec.ts';
import { signToken } from '../../../src/access/token/sign.ts';
import { verifyToken, type VerifiedToken } from '../../../src/access/token/verify.ts';
import type { Decision } from '../../../src/access/types.ts';
import type { GrantRecord } from '../../../src/store/types.ts';

const SUB = 'sub-a';
const NOW = 1_700_000_000_000;

function grant(partial: Partial<GrantRecord>): GrantRecord {
  return { subscribeKey: SUB, level: 'channel', resource: 'ch1', authKey: 'k1', perms: READ, ttlMinutes: 0, expiresAtMs: null, ...partial };
}

function grantsOf(...records: GrantRecord[]): KeysetGrants {
  const g = new KeysetGrants(SUB);
  g.apply(records);
  return g;
}

const ctx = (over: Partial<AuthorizeContext> = {}): AuthorizeContext => ({
  nowMs: NOW,
  uuid: 'user-1',
  credential: { kind: 'authKey', authKey: 'k1' },
  ...over,
});

function token(over: Partial<TokenClaims> = {}): VerifiedToken {
  const claims: TokenClaims = {
    version: 2,
    issuedAtSec: NOW / 1000,
    ttlMinutes: 60,
    resources: { channels: new Map([['ch1', READ | WRITE]]), groups: new Map([['cg1', READ]]), uuids: new Map() },
    patterns: { channels: new Map([['^chat-.*$', READ]]), groups: new Map(), uuids: new Map() },
    meta: new Map(),
    ...over,
  };
  const v = verifyToken(signToken('s', claims), 's', new PatternCache());
  assert.ok(v.ok);
  return v.token;
}

function code(d: Decision): string {
  return d.allowed ? 'allowed' : d.code;
}

test('v2: deny by default, with every unmet resource listed and a readable reason', () => {
  const d = authorizeV2(requirementsFor('subscribe', { channels: ['a', 'b'], groups: ['g'] }), grantsOf(), 'k1', ctx());
  assert.equal(d.allowed, false);
  if (d.allowed) return;
  assert.equal(d.code, 'ACCESS_DENIED');
  assert.deepEqual(d.missing, { channels: ['a', 'b'], groups: ['g'], uuids: [] });
  assert.match(d.message, /read on channel a, b; read on channel group g/);
  assert.doesNotMatch(d.message, /k1/, 'no auth key in messages');
});

test('v2: exact, subkey and wildcard levels; own key or every auth key', () => {
  const reqs = requirementsFor('publish', { channels: ['ch1'] });
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: WRITE })), 'k1', ctx())), 'allowed');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: READ })), 'k1', ctx())), 'ACCESS_DENIED', 'wrong bit');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: WRITE, authKey: 'k2' })), 'k1', ctx())), 'ACCESS_DENIED', 'other key');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: WRITE, authKey: '' })), 'k1', ctx())), 'allowed', 'every auth key');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: WRITE, authKey: '' })), '', ctx())), 'allowed', 'no auth sent');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ perms: WRITE })), '', ctx())), 'ACCESS_DENIED', 'keyed grant, no auth sent');
  assert.equal(code(authorizeV2(reqs, grantsOf(grant({ level: 'subkey', resource: '', perms: WRITE })), 'k1', ctx())), 'allowed');
  assert.equal(
    code(authorizeV2(reqs, grantsOf(grant({ level: 'channel-group', resource: 'ch1', perms: WRITE })), 'k1', ctx())),
    'ACCESS_DENIED',
    'group grant is not a channel grant',
  );
});

test('v2 wildcards: a.* grants a.b and a.b.c but not a or ab.c; exact c grants only c', () => {
  const g = grantsOf(grant({ resource: 'a.*', perms: READ }), grant({ resource: 'c', perms: READ }), grant({ resource: 'x.y.*', perms: READ }));
  const allowed = (ch: string) => authorizeV2(requirementsFor('subscribe', { channels: [ch] }), g, 'k1', ctx()).allowed;
  assert.equal(allowed('a.b'), true);
  assert.equal(allowed('a.b.c'), true);
  assert.equal(allowed('a.*'), true);
  assert.equal(allowed('a.b.*'), true);
  assert.equal(allowed('a'), false);
  assert.equal(allowed('ab.c'), false);
  assert.equal(allowed('c'), true);
  assert.equal(allowed('c.d'), false);
  assert.equal(allowed('cc'), false);
  assert.equal(allowed('x.y.z'), true);
  assert.equal(allowed('x.z'), false);
});

test('v2 expiry is evaluated at check time', () => {
  const g = grantsOf(grant({ perms: READ, expiresAtMs: NOW + 60_000, ttlMinutes: 1 }));
  const reqs = requirementsFor('history', { channels: ['ch1'] });
  assert.equal(authorizeV2(reqs, g, 'k1', ctx({ nowMs: NOW + 59_999 })).allowed, true);
  assert.equal(authorizeV2(reqs, g, 'k1', ctx({ nowMs: NOW + 60_000 })).allowed, false);
});

test('keyset-level requirements: met by a subkey grant or a universal pattern only', () => {
  const listGroups = requirementsFor('list_groups');
  assert.equal(authorizeV2(listGroups, grantsOf(grant({ level: 'channel-group', resource: 'g', perms: MANAGE })), 'k1', ctx()).allowed, false);
  assert.equal(authorizeV2(listGroups, grantsOf(grant({ level: 'subkey', resource: '', perms: MANAGE })), 'k1', ctx()).allowed, true);
  const d = authorizeV2(listGroups, grantsOf(), 'k1', ctx());
  assert.ok(!d.allowed && d.missing.groups.length === 0 && /keyset level/.test(d.message));
  const universal = token({ patterns: { channels: new Map(), groups: new Map([['.*', MANAGE]]), uuids: new Map() } });
  const narrow = token({ patterns: { channels: new Map(), groups: new Map([['team-.*', MANAGE]]), uuids: new Map() } });
  assert.equal(authorizeToken(listGroups, universal, ctx()).allowed, true);
  assert.equal(authorizeToken(listGroups, narrow, ctx()).allowed, false);
  assert.equal(listGroups[0].name, KEYSET_LEVEL);
});

test('v3: exact res entry or matching pattern; missing lists only unmet names', () => {
  const t = token();
  assert.equal(code(authorizeToken(requirementsFor('publish', { channels: ['ch1'] }), t, ctx())), 'allowed');
  assert.equal(code(authorizeToken(requirementsFor('subscribe', { channels: ['chat-42'], groups: ['cg1'] }), t, ctx())), 'allowed');
  const d = authorizeToken(requirementsFor('subscribe', { channels: ['ch1', 'chat-1', 'other', 'xchat-1'], groups: ['cg2'] }), t, ctx());
  assert.ok(!d.allowed);
  assert.equal(d.code, 'ACCESS_DENIED');
  assert.deepEqual(d.missing, { channels: ['other', 'xchat-1'], groups: ['cg2'], uuids: [] });
  assert.equal(code(authorizeToken(requirementsFor('publish', { channels: ['chat-1'] }), t, ctx())), 'ACCESS_DENIED', 'pattern grants read only');
});

test('v3: expired and wrong-uuid tokens are refused as a whole', () => {
  const t = token({ ttlMinutes: 1, authorizedUuid: 'user-1' });
  const reqs = requirementsFor('publish', { channels: ['ch1'] });
  assert.equal(code(authorizeToken(reqs, t, ctx({ nowMs: NOW + 59_999 }))), 'allowed');
  const expired = authorizeToken(reqs, t, ctx({ nowMs: NOW + 60_000 }));
  assert.equal(code(expired), 'TOKEN_EXPIRED');
  assert.ok(!expired.allowed && expired.missing.channels[0] === 'ch1');
  assert.equal(code(authorizeToken(reqs, t, ctx({ uuid: 'mallory' }))), 'TOKEN_WRONG_UUID');
  assert.equal(code(authorizeToken(reqs, token(), ctx({ uuid: 'anyone' }))), 'allowed', 'no authorized uuid: any uuid');
});

test('allow decisions echo the credential; empty requirements are allowed', () => {
  const credential = { kind: 'authKey', authKey: 'k9' } as const;
  assert.deepEqual(authorizeV2([], grantsOf(), 'k9', ctx({ credential })), { allowed: true, credential });
  assert.deepEqual(authorize([], { kind: 'v3', token: token() }, ctx({ credential })), { allowed: true, credential });
});

test('explain names the grant or pattern that decided each requirement, never the auth key', () => {
  const g = grantsOf(
    grant({ resource: 'a.*', perms: READ, authKey: 'secret-auth-key' }),
    grant({ level: 'subkey', resource: '', authKey: '', perms: WRITE, expiresAtMs: NOW + 600_000 }),
  );
  const reqs = [...requirementsFor('subscribe', { channels: ['a.b', 'zzz'] }), ...requirementsFor('publish', { channels: ['zzz'] })];
  const e = explain(reqs, { kind: 'v2', grants: g, authKey: 'secret-auth-key' }, ctx());
  assert.equal(e.decision.allowed, false);
  assert.deepEqual(
    e.checks.map((c) => c.allowed),
    [true, false, true],
  );
  assert.match(e.checks[0].detail, /channel grant on "a\.\*" \(wildcard\) for this auth key: read, no expiry/);
  assert.match(e.checks[2].detail, /subkey-level grant for every auth key: write, expires at/);
  for (const c of e.checks) assert.doesNotMatch(c.detail, /secret-auth-key/);

  const t = token({ authorizedUuid: 'user-1' });
  const te = explain(requirementsFor('subscribe', { channels: ['ch1', 'chat-9', 'nope'] }), { kind: 'v3', token: t }, ctx());
  assert.deepEqual(
    te.checks.map((c) => c.detail),
    ['token res["ch1"] = read+write', 'token pattern "^chat-.*$" = read', 'no entry or pattern in the token grants read'],
  );
  const wrong = explain(requirementsFor('publish', { channels: ['ch1'] }), { kind: 'v3', token: t }, ctx({ uuid: 'x' }));
  assert.match(wrong.checks[0].detail, /another uuid/);
});

test('GrantIndex: replace, apply withdraw, purge', () => {
  const index = new GrantIndex();
  index.replace(SUB, [grant({ perms: READ, expiresAtMs: NOW + 1000 }), grant({ resource: 'a.*' }), grant({ level: 'subkey', resource: '', authKey: '' })]);
  assert.equal(index.keyset(SUB).size, 3);
  index.apply([{ ...grant({ resource: 'a.*' }), perms: 0 }]);
  assert.equal(index.keyset(SUB).allows('channels', 'a.b', 'k1', READ, NOW), true, 'the subkey grant for everyone still covers it');
  index.apply([{ ...grant({ level: 'subkey', resource: '', authKey: '' }), perms: 0 }]);
  assert.equal(index.keyset(SUB).allows('channels', 'a.b', 'k1', READ, NOW), false);
  assert.equal(index.purgeExpired(NOW + 1000), 1);
  assert.equal(index.keyset(SUB).size, 0);
  assert.equal(index.keyset('other').size, 0, 'unknown keysets are empty, not errors');
});

test('a denial names each resource once, in the order asked, however many a request names (sets, not a scan per name)', () => {
  const names = Array.from({ length: 30_000 }, (_, i) => `ch-${i % 20_000}`); // 10,000 named twice
  const requirements = [
    ...names.map((name) => ({ kind: 'channels' as const, name, perm: READ })),
    { kind: 'groups' as const, name: 'g', perm: READ },
    { kind: 'groups' as const, name: 'g', perm: READ },
    { kind: 'groups' as const, name: KEYSET_LEVEL, perm: MANAGE },
  ];
  const missing = missingAll(requirements);
  assert.equal(missing.channels.length, 20_000);
  assert.deepEqual(missing.channels.slice(0, 3), ['ch-0', 'ch-1', 'ch-2']);
  assert.deepEqual(missing.groups, ['g']);
  assert.deepEqual(missing.uuids, []);
  const message = describeUnmet(requirements);
  assert.match(message, /^read on channel ch-0, ch-1, .* and \d+ more; read on channel group g; manage on channel group \(keyset level\)$/);
  assert.match(message, / and 19990 more;/);
});
