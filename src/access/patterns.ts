import { RE2JS } from 're2js';

/**
 * Resource-name patterns: v2 one-level wildcards (`a.*`, `a.b.*`) and v3 token RegEx patterns.
 *
 * v2 (wire-protocol.md §3.8, §7.1): a wildcard grant `P.*` covers every channel whose name starts
 * with `P.`, deeper names included (`a.*` covers `a.b.c` and the wildcard name `a.b.*`). It is
 * matched by prefix comparison, never by RegExp.
 *
 * v3 (§8.4 rule 4): a pattern is evaluated as a full-string match, so `chat-.*` and `^chat-.*$`
 * mean the same thing. Matching runs on RE2 (the `re2js` port), whose time is linear in the name
 * whatever the pattern (issue 9: `a{0,30}` six times took 1.6 s per match on a backtracking
 * engine). A pattern is validated when granted: it must compile both as a JavaScript RegExp (the
 * syntax clients write) and as RE2, within MAX_PATTERN_PROGRAM_SIZE, so RE2 refuses lookaround and
 * backreferences with a 400 that names the pattern. Each pattern is compiled once into a bounded cache.
 *
 * Where RE2 and a JavaScript RegExp (no flags) read the same source differently, RE2's reading is
 * the grant: `.` and `[^x]` take a whole code point (an emoji is one character, not two); `.` does
 * not match `\n` but does match `\r`, U+2028 and U+2029; `\s` is ASCII whitespace only
 * (`[\t\n\f\r ]`, no `\v` or U+00A0); `\pL` and `\p{Greek}` are Unicode classes, `\A` and `\z`
 * anchors, `\Q…\E` quotes, `\a` is the bell character and `[[:alpha:]]` a POSIX class, where a
 * RegExp reads literal characters. RE2 refuses `\u00e9`, `\cA` and `[\b]` (write `\xe9` or the
 * character itself).
 */

/** Longest pattern source accepted at grant time. */
export const MAX_PATTERN_LENGTH = 256;
/**
 * Largest RE2 program (instructions, RE2's own cost measure) accepted at grant time. One match
 * costs O(program size × name length): with MAX_PATTERN_SUBJECT_LENGTH this caps the work of one
 * pattern against one name at about 10^5 steps (under a millisecond). Counted repeats are
 * unrolled (`[a-z]{1,64}` is about 130 instructions, `.{0,92}` 186, a UUID shape about 40).
 */
export const MAX_PATTERN_PROGRAM_SIZE = 400;
/**
 * Most unbounded quantifiers (`*`, `+`, `{n,}`) one pattern may hold. This screen, and the one
 * against nested quantifiers below, date from the backtracking engine; RE2 does not need them, and
 * they stay so that what a grant accepts does not widen without a decision.
 */
export const MAX_UNBOUNDED_QUANTIFIERS = 3;
/**
 * Patterns never match names longer than this: exact grants still do. With
 * MAX_PATTERN_PROGRAM_SIZE it bounds the cost of one match (PubNub's own channel names are at most
 * 92 characters).
 */
export const MAX_PATTERN_SUBJECT_LENGTH = 256;

export type PatternCheck = { ok: true } | { ok: false; reason: string };

/**
 * Sum of the RE2 program sizes of one token's patterns. A request names a resource, and every
 * pattern of its kind may be tried on it: the budget bounds that per request (about 0.3 ms at most
 * against a 256-character name), whatever number of patterns a token carries.
 */
export const MAX_TOKEN_PATTERN_PROGRAM_SIZE = 2000;

/** RE2 instructions of a source that validateRegexPattern accepted; 0 when it does not compile. */
export function patternProgramSize(source: string): number {
  try {
    return RE2JS.compile(source).programSize();
  } catch {
    return 0;
  }
}

/**
 * Grant-time guard for v3 RegEx patterns. Rejects: empty or over-long sources, sources that do
 * not compile as a JavaScript RegExp, backreferences, a repeating quantifier applied to a group
 * that itself contains a repeating quantifier or an alternation (`(a+)+`, `(a*)*`, `(.*)*`,
 * `(a|aa)+`), more than MAX_UNBOUNDED_QUANTIFIERS unbounded quantifiers, and sources RE2 cannot
 * compile (lookaround) or compiles to more than MAX_PATTERN_PROGRAM_SIZE instructions.
 */
export function validateRegexPattern(source: string): PatternCheck {
  if (source.length === 0) return { ok: false, reason: 'pattern is empty' };
  if (source.length > MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `pattern is longer than ${MAX_PATTERN_LENGTH} characters (got ${source.length})` };
  }
  try {
    new RegExp(source);
  } catch (err) {
    return { ok: false, reason: `not a valid regular expression (${(err as Error).message})` };
  }
  const shape = scanForCatastrophe(source);
  if (!shape.ok) return shape;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    return {
      ok: false,
      reason: `cannot be matched in linear time (RE2: ${(err as Error).message}); RE2 has no lookahead, lookbehind or backreferences`,
    };
  }
  const size = re.programSize();
  if (size > MAX_PATTERN_PROGRAM_SIZE) {
    return {
      ok: false,
      reason: `pattern is too large: it compiles to ${size} RE2 instructions, more than ${MAX_PATTERN_PROGRAM_SIZE} (counted repeats such as {0,30} are unrolled)`,
    };
  }
  return { ok: true };
}

interface GroupFrame {
  hasRepeat: boolean;
  hasAlternation: boolean;
}

/** A small tokenizer over an already-compiling source: it only needs to see structure. */
function scanForCatastrophe(src: string): PatternCheck {
  const stack: GroupFrame[] = [{ hasRepeat: false, hasAlternation: false }];
  // What the previous atom was: a closed group (with its frame) or anything else.
  let lastGroup: GroupFrame | null = null;
  let lastWasAtom = false;
  let unbounded = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      const next = src[i + 1] ?? '';
      if (next >= '1' && next <= '9') return { ok: false, reason: 'backreferences are not allowed' };
      if (next === 'k' && src[i + 2] === '<') return { ok: false, reason: 'backreferences are not allowed' };
      i += 2;
      lastGroup = null;
      lastWasAtom = true;
      continue;
    }
    if (c === '[') {
      i = skipClass(src, i);
      lastGroup = null;
      lastWasAtom = true;
      continue;
    }
    if (c === '(') {
      stack.push({ hasRepeat: false, hasAlternation: false });
      i += groupPrefixLength(src, i);
      lastGroup = null;
      lastWasAtom = false;
      continue;
    }
    if (c === ')') {
      const frame = (stack.length > 1 ? stack.pop() : undefined) ?? stack[0];
      const parent = stack[stack.length - 1];
      // Nested repetition inside stays visible to enclosing groups: ((a+)b)+ is as bad as (a+)+.
      if (frame.hasRepeat) parent.hasRepeat = true;
      lastGroup = frame;
      lastWasAtom = true;
      i += 1;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1].hasAlternation = true;
      lastGroup = null;
      lastWasAtom = false;
      i += 1;
      continue;
    }
    const quantifier = readQuantifier(src, i);
    if (quantifier && lastWasAtom) {
      if (quantifier.repeats) {
        if (lastGroup && (lastGroup.hasRepeat || lastGroup.hasAlternation)) {
          return {
            ok: false,
            reason: lastGroup.hasRepeat
              ? 'nested quantifiers (a repeated group that itself repeats, like (a+)+) are not allowed'
              : 'a repeated group containing alternatives (like (a|aa)+) is not allowed',
          };
        }
        stack[stack.length - 1].hasRepeat = true;
      }
      if (quantifier.unbounded) {
        unbounded += 1;
        if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) {
          return { ok: false, reason: `more than ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers (*, +, {n,})` };
        }
      }
      i += quantifier.length;
      if (src[i] === '?') i += 1; // lazy modifier
      lastGroup = null;
      lastWasAtom = false;
      continue;
    }
    // Any other character (including ^ $ . and a literal { that is not a quantifier) is an atom.
    lastGroup = null;
    lastWasAtom = c !== '^' && c !== '$';
    i += 1;
  }
  return { ok: true };
}

function skipClass(src: string, start: number): number {
  let i = start + 1;
  while (i < src.length) {
    if (src[i] === '\\') i += 2;
    else if (src[i] === ']') return i + 1;
    else i += 1;
  }
  return i;
}

/** Length of `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`. */
function groupPrefixLength(src: string, i: number): number {
  if (src[i + 1] !== '?') return 1;
  const kind = src[i + 2];
  if (kind === ':' || kind === '=' || kind === '!') return 3;
  if (kind === '<') {
    if (src[i + 3] === '=' || src[i + 3] === '!') return 4;
    const close = src.indexOf('>', i + 3);
    return close === -1 ? 3 : close - i + 1;
  }
  return 2;
}

interface Quantifier {
  length: number;
  /** Matches its atom more than once (everything except `?`, `{0,1}`, `{1}`, `{0}`). */
  repeats: boolean;
  unbounded: boolean;
}

const BRACE_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

function readQuantifier(src: string, i: number): Quantifier | null {
  const c = src[i];
  if (c === '*' || c === '+') return { length: 1, repeats: true, unbounded: true };
  if (c === '?') return { length: 1, repeats: false, unbounded: false };
  if (c !== '{') return null;
  const m = BRACE_QUANTIFIER.exec(src.slice(i, i + 24));
  if (!m) return null;
  const min = Number(m[1]);
  const unbounded = m[2] !== undefined && m[3] === '';
  const max = m[2] === undefined ? min : unbounded ? Infinity : Number(m[3]);
  return { length: m[0].length, repeats: max > 1, unbounded };
}

/** A compiled v3 pattern: `test` is a full-string match (§8.4 rule 4). */
export interface PatternMatcher {
  test(name: string): boolean;
}

/**
 * Compiles for matching with RE2; inner `^…$` anchors stay harmless. `Matcher#matches` asks for
 * the match bounds, so RE2 runs its one-pass, bit-state or NFA engine: time linear in the name and
 * no per-pattern DFA cache, whose memory (up to 8 MB a pattern) a cache of 10,000 patterns could
 * not afford. Throws SyntaxError for a source RE2 cannot compile (never one that passed
 * validateRegexPattern); verify.ts turns that into TOKEN_MALFORMED.
 */
export function compilePattern(source: string): PatternMatcher {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw new SyntaxError(`pattern does not compile in RE2: ${(err as Error).message}`);
  }
  return { test: (name) => re.matcher(name).matches() };
}

/**
 * True for the conventional "everything" patterns (`.*`, `^.*$`, …). Keyset-level requirements
 * (list all groups, global here-now) are met in a token only by such a pattern: whether an
 * arbitrary RegEx covers every name is not decidable cheaply, so we do not try.
 */
export function isUniversalPattern(source: string): boolean {
  let s = source;
  if (s.startsWith('^')) s = s.slice(1);
  if (s.endsWith('$') && !s.endsWith('\\$')) s = s.slice(0, -1);
  return s === '.*' || s === '(.*)' || s === '(?:.*)' || s === '[\\s\\S]*' || s === '[^]*';
}

/** A v3 pattern compiled for matching; `regex` is shared and stateless. */
export interface CompiledPattern {
  readonly source: string;
  readonly regex: PatternMatcher;
  readonly perms: number;
  readonly isUniversal: boolean;
}

/** Full-string match of one compiled pattern, honouring the subject-length bound. */
export function patternMatches(pattern: CompiledPattern, name: string): boolean {
  return name.length <= MAX_PATTERN_SUBJECT_LENGTH && pattern.regex.test(name);
}

/**
 * Bounded cache source → compiled matcher. Many tokens share the same few patterns, so each is
 * compiled once per process. Owned by whoever needs it (AccessManager): no module-level state.
 */
export class PatternCache {
  private readonly entries = new Map<string, PatternMatcher>();
  private readonly checks = new Map<string, PatternCheck>();

  constructor(private readonly maxEntries = 10_000) {}

  /** validateRegexPattern, memoized: apps mint token after token with the same few patterns. */
  validate(source: string): PatternCheck {
    let check = this.checks.get(source);
    if (check === undefined) {
      check = validateRegexPattern(source);
      if (this.checks.size >= this.maxEntries) dropOldest(this.checks);
      this.checks.set(source, check);
    }
    return check;
  }

  /** Throws (SyntaxError) only for a source that never passed validateRegexPattern. */
  get(source: string): PatternMatcher {
    let regex = this.entries.get(source);
    if (regex === undefined) {
      regex = compilePattern(source);
      // Drop the oldest entry; patterns are cheap to recompile, so plain FIFO is enough.
      if (this.entries.size >= this.maxEntries) dropOldest(this.entries);
      this.entries.set(source, regex);
    }
    return regex;
  }

  get size(): number {
    return this.entries.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Resource names

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A string that survives UTF-8 encoding unchanged (String#isWellFormed, which ES2022 typings
 * lack). A lone surrogate would be stored or encoded as U+FFFD: a grant on a different name.
 */
export function isWellFormedUnicode(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

// ---------------------------------------------------------------------------------------------
// v2 wildcards

/** Most dots in a v2 wildcard name (`a.b.*`), as for wildcard subscribe (§3.8). */
export const MAX_WILDCARD_DOTS = 2;

/** `a.*` and `a.b.*`: non-empty segments, `.*` only at the end, at most two dots. */
export function isV2Wildcard(name: string): boolean {
  if (!name.endsWith('.*')) return false;
  const stem = name.slice(0, -2);
  if (stem.length === 0 || stem.includes('*')) return false;
  const segments = stem.split('.');
  return segments.length <= MAX_WILDCARD_DOTS && segments.every((s) => s.length > 0);
}

/** Grant-time check of a v2 channel name: any name without `*`, or a well-formed wildcard. */
export function validateV2ChannelName(name: string): PatternCheck {
  if (name.length === 0) return { ok: false, reason: 'channel name is empty' };
  if (!isWellFormedUnicode(name)) return { ok: false, reason: 'channel name is not valid Unicode (lone surrogate)' };
  if (name.includes('*') && !isV2Wildcard(name)) {
    return { ok: false, reason: 'a wildcard must have the form a.* or a.b.* (".*" only at the end, at most two dots)' };
  }
  return { ok: true };
}

/** `a.b.*` → `a.b.` (the prefix a covered name starts with). Only for valid wildcards. */
export function wildcardPrefix(wildcard: string): string {
  return wildcard.slice(0, -1);
}

/** Reference semantic, used by explain and tests; the grant index uses the equivalent lookup below. */
export function v2WildcardCovers(wildcard: string, channel: string): boolean {
  return isV2Wildcard(wildcard) && channel.startsWith(wildcardPrefix(wildcard));
}

/**
 * The wildcard prefixes that could cover `channel`: its prefix up to the first dot and up to the
 * second. A valid wildcard prefix holds at most two dots and ends in one, so `channel` starts with
 * prefix P iff P equals one of these: an O(1) pair of lookups instead of a scan over all wildcards.
 */
export function wildcardPrefixesOf(channel: string): [string | undefined, string | undefined] {
  const first = channel.indexOf('.');
  if (first <= 0) return [undefined, undefined];
  const second = channel.indexOf('.', first + 1);
  return [channel.slice(0, first + 1), second === -1 ? undefined : channel.slice(0, second + 1)];
}

/** Deletes a Map's oldest entry (Maps iterate in insertion order): the FIFO caches above. */
function dropOldest<K, V>(map: Map<K, V>): void {
  const oldest = map.keys().next();
  if (oldest.done !== true) map.delete(oldest.value);
}
