import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  anchoredRegExp,
  isUniversalPattern,
  isV2Wildcard,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_SUBJECT_LENGTH,
  PatternCache,
  patternMatches,
  v2WildcardCovers,
  validateRegexPattern,
  validateV2ChannelName,
  wildcardPrefixesOf,
} from '../../../src/access/patterns.ts';

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
  assert.equal(anchoredRegExp('x').source, '^(?:x)$');
});

test('the pattern cache is bounded', () => {
  const cache = new PatternCache(3);
  for (const p of ['a', 'b', 'c', 'd', 'e']) cache.get(p);
  assert.equal(cache.size, 3);
});

test('patterns never match over-long names (bounds the polynomial worst case)', () => {
  const p = { source: '.*', regex: anchoredRegExp('.*'), perms: 1, isUniversal: true };
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
