import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLikePattern, foldCodePoint, type LikeMeter, type LikeOptions } from '../../../src/app-context/like-pattern.ts';

const APP: LikeOptions = { starEscape: true };
const SUB: LikeOptions = { starEscape: false };

function like(pattern: string, value: string, options: LikeOptions = APP): boolean {
  return compileLikePattern(pattern, options).matches(value);
}

/** Comparisons one match makes; the module's bound is 2·|value| + |pattern| (in code points). */
function steps(pattern: string, value: string, options: LikeOptions = SUB): { matched: boolean; steps: number } {
  const meter: LikeMeter = { steps: 0 };
  const matched = compileLikePattern(pattern, options).matches(value, meter);
  return { matched, steps: meter.steps };
}

test('* is any run of characters, line breaks included; the rest is literal', () => {
  assert.equal(like('al*', 'Alice'), true);
  assert.equal(like('*ice', 'Alice'), true);
  assert.equal(like('a*c*e', 'Alice'), true);
  assert.equal(like('a*c*e', 'Alicia'), false);
  assert.equal(like('*', ''), true);
  assert.equal(like('**', 'x'), true);
  assert.equal(like('', ''), true);
  assert.equal(like('', 'x'), false);
  assert.equal(like('abc', 'abc'), true);
  assert.equal(like('abc', 'abcd'), false);
  assert.equal(like('a*b', 'a\nb'), true, 'a star crosses line breaks');
  assert.equal(like('a.c', 'abc'), false, 'regex characters are literal');
  assert.equal(like('a+(c)', 'A+(C)'), true);
});

test('head and tail never overlap; middle pieces are found left to right', () => {
  assert.equal(like('ab*ba', 'aba'), false);
  assert.equal(like('ab*ba', 'abba'), true);
  assert.equal(like('a*a', 'a'), false);
  assert.equal(like('*ab*ab*', 'xabyab'), true);
  assert.equal(like('*ab*ab*', 'xaby'), false);
  assert.equal(like('*aab*', 'aaab'), true, 'a partial match restarts inside itself (KMP)');
  assert.equal(like('*abab*c', 'abababc'), true);
  assert.equal(like('*b*a*', 'ab'), false, 'order matters');
});

test('\\* is a literal star only where the language has escapes', () => {
  assert.equal(like('a\\*', 'a*', APP), true);
  assert.equal(like('a\\*', 'ab', APP), false);
  assert.equal(like('*\\*star\\**', "Bob O'Neil *star*", APP), true);
  assert.equal(like('a\\b', 'a\\b', APP), true, 'another backslash is literal');
  assert.equal(like('a\\*', 'a\\xyz', SUB), true, 'subscribe filters: backslash literal, star a wildcard');
  assert.equal(like('a\\*', 'a*', SUB), false);
});

test('case is ignored as a RegExp with the iu flags ignores it', () => {
  assert.equal(like('ÉCOLE*', 'école normale'), true);
  assert.equal(like('*σ', 'ΛΌΓΟΣ'), true);
  assert.equal(like('*ς', 'λόγοσ'), true, 'final sigma folds with sigma');
  assert.equal(like('k', '\u212a'), true, 'Kelvin sign folds to k');
  assert.equal(like('ı', 'i'), false, 'dotless i folds only to itself');
  assert.equal(like('\u1fd3', '\u0390'), true);
  assert.equal(like('ß', 'ss'), false, 'simple folding: one character stays one character');
  assert.equal(like('𐐨*', '𐐀x'), true, 'astral letters (Deseret) fold too');
  assert.equal(like('?', '😀'), false);
  assert.equal(like('*😀*', 'a😀b'), true);
  for (const [a, b] of [
    ['A', 'a'],
    ['Σ', 'ς'],
    ['ſ', 's'],
    ['ı', 'I'],
    ['İ', 'i'],
    ['ﬅ', 'ﬆ'],
    ['\u0390', '\u1fd3'],
    ['\u03b0', '\u1fe3'],
  ]) {
    const regex = new RegExp(`^${a}$`, 'iu').test(b);
    assert.equal(foldCodePoint(a.codePointAt(0)!) === foldCodePoint(b.codePointAt(0)!), regex, `${a} ~ ${b}`);
  }
});

test('issue 9: the backtracking inputs cost a linear number of comparisons', () => {
  // '*a*a*a*b' on 300 characters took 1.8 s as a RegExp; one more star, over a minute.
  for (const [pattern, value] of [
    ['*a*a*a*b', 'a'.repeat(300)],
    ['*a*a*a*a*b', 'a'.repeat(300)],
    ['*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(10_000)],
    ['*aaaaaaaaab*', 'a'.repeat(10_000)],
    ['a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*', 'a'.repeat(19)],
  ]) {
    const r = steps(pattern, value);
    assert.equal(r.matched, false, pattern);
    assert.ok(r.steps <= 2 * value.length + pattern.length, `${pattern} on ${value.length}: ${r.steps} steps`);
  }
  const hit = steps('*a*a*a*b', 'a'.repeat(300) + 'b');
  assert.equal(hit.matched, true);
  assert.ok(hit.steps > 0, 'the meter counts');
  assert.ok(hit.steps <= 2 * 301 + 8);
});
