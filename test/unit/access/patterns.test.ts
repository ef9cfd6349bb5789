import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compilePattern,
  isUniversalPattern,
  isV2Wildcard,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_PROGRAM_SIZE,
  MAX_PATTERN_SUBJECT_LENGTH,
  PatternCache,
  patternMatches,
  v2WildcardCovers,
  validateRegexPattern,
  validateV2ChannelName,
  wildcardPrefixesOf,
} from '../../../src/access/patterns.ts';
import { READ } from '../../../src/access/permissions.ts';
import type { TokenClaims } from '../../../src/access/token/codec.ts';
import { parseGrantTokenBody } from '../../../src/access/token/grant-body.ts';
import { signToken } from '../../../src/access/token/sign.ts';
import { verifyToken } from '../../../src/access/token/verify.ts';
import { KEYSET_A, startAccess } from '../../helpers/access.ts';

test('v2 wildcards: a.* covers every name starting with "a.", deeper names included', () => {
  assert.equal(v2WildcardCovers('a.*', 'a.b'), true);
  assert.equal(v2WildcardCovers('a.*', 'a.b.c'), true);
  assert.equal(v2WildcardCovers('a.*', 'a.b.*'), true, 'a wildcard subscribe inside the grant');
  assert.equal(v2WildcardCovers('a.*', 'a'), false);
  assert.equal(v2WildcardCovers('a.*', 'ab.c'), false);
  assert.equal(v2WildcardCovers('a.*', 'b.a.c'), false);
  assert.equal(v2WildcardCovers('a.b.*', 'a.b.c'), true);
  assert.equal(v2WildcardCovers('a.b.*', 'a.c'), false);
  assert.equal(v2WildcardCovers('c', 'c'), false, 'an exact name is not a wildcard');
});

test('v2 wildcard form: .* only at the end, at most two dots, non-empty segments', () => {
  for (const ok of ['a.*', 'a.b.*', 'chat.room-1.*']) assert.equal(isV2Wildcard(ok), true, ok);
  for (const bad of ['*', '.*', 'a*', 'a.b.c.*', 'a..*', 'a.*.b', 'a.**', '*.a.*']) assert.equal(isV2Wildcard(bad), false, bad);
  assert.equal(validateV2ChannelName('plain').ok, true);
  assert.equal(validateV2ChannelName('a.b.c.*').ok, false);
  assert.equal(validateV2ChannelName('x*y').ok, false);
  assert.equal(validateV2ChannelName('').ok, false);
  assert.equal(validateV2ChannelName('bad\uD800').ok, false);
});

test('wildcardPrefixesOf lists the prefixes up to the first and second dot', () => {
  assert.deepEqual(wildcardPrefixesOf('a.b.c'), ['a.', 'a.b.']);
  assert.deepEqual(wildcardPrefixesOf('a.b'), ['a.', undefined]);
  assert.deepEqual(wildcardPrefixesOf('abc'), [undefined, undefined]);
  assert.deepEqual(wildcardPrefixesOf('.x'), [undefined, undefined]);
});

test('v3 patterns are full-string matches with an implicit anchor', () => {
  const cache = new PatternCache();
  assert.equal(cache.get('chat-.*').test('chat-1'), true);
  assert.equal(cache.get('chat-.*').test('xchat-1'), false);
  assert.equal(cache.get('^chat-.*$').test('chat-1'), true);
  assert.equal(cache.get('ch1').test('ch10'), false, 'no prefix match');
  assert.equal(cache.get('a|b').test('ab'), false, 'alternation is anchored as a whole');
  assert.equal(cache.get('a|b').test('b'), true);
  assert.equal(cache.get('chat-.*'), cache.get('chat-.*'), 'compiled once');
  assert.equal(cache.get('(?:x)|y').test('x'), true);
  assert.equal(cache.get('^x$|^y$').test('y'), true, 'inner anchors stay harmless');
});

test('the pattern cache is bounded', () => {
  const cache = new PatternCache(3);
  for (const p of ['a', 'b', 'c', 'd', 'e']) cache.get(p);
  assert.equal(cache.size, 3);
});

test('patterns never match over-long names (with the program-size cap, bounds one match)', () => {
  const p = { source: '.*', regex: compilePattern('.*'), perms: 1, isUniversal: true };
  assert.equal(patternMatches(p, 'x'.repeat(MAX_PATTERN_SUBJECT_LENGTH)), true);
  assert.equal(patternMatches(p, 'x'.repeat(MAX_PATTERN_SUBJECT_LENGTH + 1)), false);
});

test('grant-time guard rejects catastrophic and invalid patterns with a reason', () => {
  const rejected: Array<[string, RegExp]> = [
    ['(a+)+', /nested quantifiers/],
    ['(a*)*', /nested quantifiers/],
    ['(.*)*', /nested quantifiers/],
    ['^(a+)+$', /nested quantifiers/],
    ['((ab)*c)+', /nested quantifiers/],
    ['(?:x+y?){2,}', /nested quantifiers/],
    ['(a|aa)+', /alternatives/],
    ['(a)\\1', /backreferences/],
    ['(?<n>a)\\k<n>', /backreferences/],
    ['a*b*c*d*', /unbounded quantifiers/],
    ['(', /not a valid regular expression/],
    ['', /empty/],
    ['a'.repeat(MAX_PATTERN_LENGTH + 1), /longer than/],
  ];
  for (const [source, reason] of rejected) {
    const check = validateRegexPattern(source);
    assert.equal(check.ok, false, source);
    if (!check.ok) assert.match(check.reason, reason, source);
  }
  const accepted = ['^chat-.*$', '.*', 'team-[0-9]+\\.room-.*', '(?:ab)+', '(ab)?c*', '[(+*)]+', 'a{2,3}', '\\(a+\\)+', '(a|b)-.*', 'x{1}(y+)?'];
  for (const source of accepted) assert.deepEqual(validateRegexPattern(source), { ok: true }, source);
});

test('universal patterns: only the conventional match-everything spellings', () => {
  for (const p of ['.*', '^.*$', '^.*', '.*$', '(.*)', '[\\s\\S]*']) assert.equal(isUniversalPattern(p), true, p);
  for (const p of ['.+', 'a.*', '^chat-.*$', '.*\\$']) assert.equal(isUniversalPattern(p), false, p);
});

// Issue 9 §3: grant patterns run on RE2 (re2js), linear in the name whatever the pattern.

test("the issue's adversarial patterns are refused at grant time or matched correctly by RE2", () => {
  const cache = new PatternCache();
  // a{0,30} six times: 1.6 s per match on the backtracking engine. 362 RE2 instructions: accepted.
  const six = 'a{0,30}'.repeat(6);
  assert.deepEqual(cache.validate(six), { ok: true });
  const m = cache.get(six);
  assert.ok(!(m instanceof RegExp), 'matched by RE2, not by a backtracking RegExp');
  assert.equal(m.test('a'.repeat(60) + 'b'), false);
  assert.equal(m.test('a'.repeat(61)), true);
  assert.equal(m.test('a'.repeat(180)), true);
  assert.equal(m.test('a'.repeat(181)), false);
  assert.equal(m.test(''), true);
  // Two more repeats: past MAX_PATTERN_PROGRAM_SIZE, refused with the reason.
  const eight = 'a{0,30}'.repeat(8);
  const check = validateRegexPattern(eight);
  assert.equal(check.ok, false);
  if (!check.ok) assert.match(check.reason, new RegExp(`too large: it compiles to \\d+ RE2 instructions, more than ${MAX_PATTERN_PROGRAM_SIZE}`));
  for (const source of ['.{0,92}', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '^chat-[a-z0-9-]{1,64}$']) {
    assert.deepEqual(validateRegexPattern(source), { ok: true }, source);
  }
  for (const source of ['[a-z]{1000}', '.{0,300}', '(?:ab){300}']) assert.equal(validateRegexPattern(source).ok, false, source);
});

test('lookaround, which RE2 cannot run in linear time, is refused with a reason', () => {
  for (const source of ['(?=a)a', 'chat-(?!admin).*', '(?<=a)b', '(?<!a)b', '[\\b]', '\\u0041']) {
    const check = validateRegexPattern(source);
    assert.equal(check.ok, false, source);
    if (!check.ok) assert.match(check.reason, /cannot be matched in linear time.*RE2:/, source);
  }
});

test('a grant-token body with such a pattern is a 400 whose details name the pattern', async () => {
  const body = (patterns: Record<string, number>) => ({ ttl: 5, permissions: { patterns: { channels: patterns } } });
  const parsed = parseGrantTokenBody(body({ 'chat-(?!admin).*': READ, '^ok-.*$': READ, '(a)\\1': READ }));
  assert.equal(parsed.ok, false);
  if (!parsed.ok) {
    assert.deepEqual(
      parsed.details.map((d) => d.location),
      ['permissions.patterns.channels["chat-(?!admin).*"]', 'permissions.patterns.channels["(a)\\\\1"]'],
    );
    assert.match(parsed.details[0].message, /^invalid pattern: cannot be matched in linear time/);
    assert.match(parsed.details[1].message, /^invalid pattern: backreferences are not allowed/);
  }
  const { manager } = await startAccess();
  await assert.rejects(manager.grantToken(KEYSET_A, body({ '(?<=team-)x': READ })), (err: unknown) => {
    const e = err as { code: string; details?: { details?: Array<{ location: string; message: string }> } };
    assert.equal(e.code, 'INVALID_PARAM');
    assert.equal(e.details?.details?.[0].location, 'permissions.patterns.channels["(?<=team-)x"]');
    assert.match(e.details?.details?.[0].message ?? '', /linear time/);
    return true;
  });
  await assert.rejects(manager.grantToken(KEYSET_A, body({ ['a{0,30}'.repeat(8)]: READ })), { code: 'INVALID_PARAM' });
  assert.equal(typeof (await manager.grantToken(KEYSET_A, body({ ['a{0,30}'.repeat(6)]: READ }))), 'string');
});

test('a signed token whose pattern RE2 cannot compile is malformed, never matched', () => {
  const claims: TokenClaims = {
    version: 2,
    issuedAtSec: 1_700_000_000,
    ttlMinutes: 60,
    resources: { channels: new Map(), groups: new Map(), uuids: new Map() },
    patterns: { channels: new Map([['(?=chat)chat-.*', READ]]), groups: new Map(), uuids: new Map() },
    meta: new Map(),
  };
  const verdict = verifyToken(signToken('s', claims), 's', new PatternCache());
  assert.equal(verdict.ok, false);
  if (!verdict.ok) assert.equal(verdict.code, 'TOKEN_MALFORMED');
  assert.throws(() => compilePattern('(?=a)'), SyntaxError);
});
