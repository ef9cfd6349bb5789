/**
 * LIKE for both filter languages (subscribe `filter-expr`, wire-protocol.md §3.6; App Context
 * `filter`, app-context/filter.ts): `*` stands for any run of characters, line breaks included;
 * every other character is literal; letters match whatever their case, by Unicode simple case
 * folding (what a RegExp with the `iu` flags does).
 *
 * Linear, without backtracking (issue 9: a RegExp built from `*a*a*a*b` backtracked for seconds on
 * a 300-character value). A star-only glob is matched by its first piece as a prefix, its last as a
 * suffix, and each piece in between at its leftmost occurrence after the previous one (KMP search):
 * taking the leftmost occurrence never loses a match, because whatever follows it in the value is a
 * superset of what would follow a later one. Cost of one match: at most 2·|value| + |pattern|
 * character comparisons (`LikeMeter` counts them).
 */

export interface LikeOptions {
  /**
   * `\*` stands for a literal star (App Context). Otherwise a backslash is an ordinary character
   * and every `*` is a wildcard (subscribe filters, whose strings have no escapes).
   */
  readonly starEscape: boolean;
}

/** Counts character comparisons, for tests that hold the matcher to its bound. */
export interface LikeMeter {
  steps: number;
}

export interface LikePattern {
  readonly source: string;
  matches(value: string, meter?: LikeMeter): boolean;
}

/** A literal piece between stars, case-folded, with its KMP failure table. */
interface Piece {
  readonly chars: Int32Array;
  readonly fail: Int32Array;
}

/**
 * Where the generic rule (fold = lower(upper(c)), each a single code point) disagrees with
 * CaseFolding.txt's simple folding, found by comparing with RegExp `iu` over every cased code point:
 * dotless ı folds only to itself, and three pairs fold together although their case maps differ.
 */
const FOLD_EXCEPTIONS: ReadonlyMap<number, number> = new Map([
  [0x0131, 0x0131],
  [0x1fd3, 0x0390],
  [0x1fe3, 0x03b0],
  [0xfb05, 0xfb06],
]);

function singleCodePoint(s: string): number {
  const cp = s.codePointAt(0);
  if (cp === undefined) return -1;
  return s.length === (cp > 0xffff ? 2 : 1) ? cp : -1;
}

/** One representative per case-insensitive equivalence class (RegExp `iu` semantics). */
export function foldCodePoint(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  const exception = FOLD_EXCEPTIONS.get(cp);
  if (exception !== undefined) return exception;
  if (cp >= 0xd800 && cp <= 0xdfff) return cp; // a lone surrogate has no case
  const ch = String.fromCodePoint(cp);
  const upper = singleCodePoint(ch.toUpperCase());
  if (upper >= 0) {
    const lower = singleCodePoint(String.fromCodePoint(upper).toLowerCase());
    if (lower >= 0) return lower;
  }
  const lower = singleCodePoint(ch.toLowerCase());
  return lower >= 0 ? lower : cp;
}

/** Code points of `text`, folded; a lone surrogate stays one unit, as in a `u` RegExp. */
function foldText(text: string): Int32Array {
  const out = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    out[n++] = foldCodePoint(cp);
  }
  return n === out.length ? out : out.subarray(0, n);
}

function piece(text: string): Piece {
  const chars = foldText(text);
  const fail = new Int32Array(chars.length);
  for (let i = 1, k = 0; i < chars.length; i++) {
    while (k > 0 && chars[i] !== chars[k]) k = fail[k - 1];
    if (chars[i] === chars[k]) k++;
    fail[i] = k;
  }
  return { chars, fail };
}

/** The pattern's literal pieces, split on its wildcard stars. */
function splitOnStars(pattern: string, options: LikeOptions): string[] {
  const pieces: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (options.starEscape && c === '\\' && pattern[i + 1] === '*') {
      current += '*';
      i++;
    } else if (c === '*') {
      pieces.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  pieces.push(current);
  return pieces;
}

/**
 * Leftmost start of `p` in `v[from, to)`, or -1 (Knuth–Morris–Pratt: each step either advances
 * through `v` or shortens the current partial match, so at most 2·(to - from) comparisons).
 */
function indexOfPiece(v: Int32Array, p: Piece, from: number, to: number, meter: LikeMeter | undefined): number {
  const { chars, fail } = p;
  const m = chars.length;
  let steps = 0;
  let found = -1;
  for (let i = from, k = 0; i < to; i++) {
    // Not enough of the value left for the rest of the piece: no need to read further.
    if (to - i < m - k) break;
    steps++;
    while (k > 0 && v[i] !== chars[k]) {
      k = fail[k - 1];
      steps++;
    }
    if (v[i] === chars[k]) k++;
    if (k === m) {
      found = i - m + 1;
      break;
    }
  }
  if (meter !== undefined) meter.steps += steps;
  return found;
}

function equalAt(v: Int32Array, at: number, p: Piece, meter: LikeMeter | undefined): boolean {
  const { chars } = p;
  let i = 0;
  while (i < chars.length && v[at + i] === chars[i]) i++;
  if (meter !== undefined) meter.steps += Math.min(i + 1, chars.length);
  return i === chars.length;
}

export function compileLikePattern(source: string, options: LikeOptions): LikePattern {
  const pieces = splitOnStars(source, options).map(piece);
  const head = pieces[0];
  if (pieces.length === 1) {
    return {
      source,
      matches(value, meter) {
        const v = foldText(value);
        return v.length === head.chars.length && equalAt(v, 0, head, meter);
      },
    };
  }
  const tail = pieces[pieces.length - 1];
  const middle = pieces.slice(1, -1).filter((p) => p.chars.length > 0);
  const minLength = pieces.reduce((sum, p) => sum + p.chars.length, 0);
  return {
    source,
    matches(value, meter) {
      const v = foldText(value);
      if (v.length < minLength) return false;
      const end = v.length - tail.chars.length;
      if (!equalAt(v, 0, head, meter) || !equalAt(v, end, tail, meter)) return false;
      let pos = head.chars.length;
      for (const p of middle) {
        const at = indexOfPiece(v, p, pos, end, meter);
        if (at < 0) return false;
        pos = at + p.chars.length;
      }
      return true;
    },
  };
}
