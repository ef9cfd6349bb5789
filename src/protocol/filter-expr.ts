import { compileLikePattern, type LikeMeter, type LikePattern } from '../app-context/like-pattern.ts';
import { ParleyError } from '../errors.ts';
import type { Envelope } from '../realtime/envelope.ts';

/**
 * PubNub's subscribe filter language (wire-protocol.md §3.6), compiled once per request into a
 * predicate over envelopes: `uuid`, `channel`, meta fields (bare, `meta.x`), payload fields (`data.x`),
 * == != < > <= >= LIKE (with `*`) CONTAINS, && || !, parentheses. A malformed expression is a 400.
 *
 * It runs for every message on every subscription that holds it, so its cost is bounded at compile
 * time (docs/security.md): at most MAX_FILTER_EXPR_LENGTH characters, MAX_FILTER_EXPR_TERMS
 * operands and operators, MAX_FILTER_EXPR_DEPTH levels of nesting; LIKE is linear in the value
 * (app-context/like-pattern.ts); the payload is parsed at most once per message. One evaluation
 * therefore costs O(terms × message size), whatever the expression.
 */
type Token = { t: 'id' | 'str' | 'num' | 'op' | '(' | ')'; v: string };

/** What one evaluation reads: the envelope, and its payload parsed on first use. */
interface Scope {
  readonly env: Envelope;
  payload?: unknown;
}
type Node = (scope: Scope) => unknown;

export const MAX_FILTER_EXPR_LENGTH = 1024;
/** Operands (names, strings, numbers) plus operators (comparisons, &&, ||, !): `a == 'b'` is 3. */
export const MAX_FILTER_EXPR_TERMS = 100;
/** Parentheses and `!` nested inside one another. */
export const MAX_FILTER_EXPR_DEPTH = 32;

const COMPARISONS = ['==', '!=', '<', '>', '<=', '>=', 'LIKE', 'CONTAINS'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: c, v: c });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw bad('unterminated string');
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('<>!'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i));
    if (id) {
      const upper = id[0].toUpperCase();
      out.push(upper === 'LIKE' || upper === 'CONTAINS' ? { t: 'op', v: upper } : { t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    throw bad(`unexpected "${c}"`);
  }
  return out;
}

function bad(why: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `filter-expr: ${why}`);
}

function meta(env: Envelope): Record<string, unknown> | null {
  if (env.parsedMeta === undefined) {
    try {
      const m = env.meta ? JSON.parse(env.meta) : null;
      env.parsedMeta = m && typeof m === 'object' ? m : null;
    } catch {
      env.parsedMeta = null;
    }
  }
  return env.parsedMeta ?? null;
}

/** The payload parsed once per evaluation, however many `data.x` terms read it. */
function payload(scope: Scope): unknown {
  if (!('payload' in scope)) {
    try {
      scope.payload = JSON.parse(scope.env.payload);
    } catch {
      scope.payload = undefined;
    }
  }
  return scope.payload;
}

function path(obj: unknown, parts: string[]): unknown {
  let cur = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function accessor(name: string): Node {
  if (name === 'uuid' || name === 'publisher') return (s) => s.env.publisher;
  if (name === 'channel') return (s) => s.env.channel;
  const parts = name.split('.');
  if (parts[0] === 'meta') return (s) => path(meta(s.env), parts.slice(1));
  if (parts[0] === 'data') return (s) => path(payload(s), parts.slice(1));
  return (s) => path(meta(s.env), parts);
}

const LIKE_OPTIONS = { starEscape: false } as const;

/** LIKE: strings only; a literal pattern is compiled once, one read from the message per message. */
function like(left: Node, right: Node, literal: string | null, meter: LikeMeter | undefined): Node {
  const fixed: LikePattern | null = literal === null ? null : compileLikePattern(literal, LIKE_OPTIONS);
  return (s) => {
    const a = left(s);
    if (typeof a !== 'string') return false;
    if (fixed !== null) return fixed.matches(a, meter);
    const b = right(s);
    return typeof b === 'string' && compileLikePattern(b, LIKE_OPTIONS).matches(a, meter);
  };
}

function compare(op: string, a: unknown, b: unknown): boolean {
  if (op === 'CONTAINS') {
    if (Array.isArray(a)) return a.some((x) => String(x) === String(b));
    return typeof a === 'string' && a.includes(String(b));
  }
  const na = typeof a === 'number' ? a : typeof a === 'string' && a !== '' && !Number.isNaN(Number(a)) ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : typeof b === 'string' && b !== '' && !Number.isNaN(Number(b)) ? Number(b) : NaN;
  const numeric = !Number.isNaN(na) && !Number.isNaN(nb);
  switch (op) {
    case '==':
      return numeric ? na === nb : String(a) === String(b);
    case '!=':
      return numeric ? na !== nb : String(a) !== String(b);
    case '<':
      return numeric && na < nb;
    case '>':
      return numeric && na > nb;
    case '<=':
      return numeric && na <= nb;
    case '>=':
      return numeric && na >= nb;
  }
  return false;
}

/**
 * Compiles an expression or throws ParleyError('INVALID_PARAM') naming the problem or the cap it
 * exceeds. `meter`, for tests, counts the character comparisons its LIKE matches make.
 */
export function compileFilter(src: string, meter?: LikeMeter): (env: Envelope) => boolean {
  if (src.length > MAX_FILTER_EXPR_LENGTH) throw bad(`longer than ${MAX_FILTER_EXPR_LENGTH} characters (got ${src.length})`);
  const toks = tokenize(src);
  const terms = toks.filter((t) => t.t !== '(' && t.t !== ')').length;
  if (terms > MAX_FILTER_EXPR_TERMS) throw bad(`more than ${MAX_FILTER_EXPR_TERMS} operands and operators (got ${terms})`);
  let pos = 0;
  let depth = 0;
  const peek = (): Token | undefined => toks[pos];
  const take = (): Token => {
    const t = toks[pos++];
    if (!t) throw bad('unexpected end');
    return t;
  };
  const nest = (): void => {
    if (++depth > MAX_FILTER_EXPR_DEPTH) throw bad(`nested more than ${MAX_FILTER_EXPR_DEPTH} levels deep`);
  };

  /** `literal` is set for a quoted string, the only literal LIKE can take as its pattern. */
  const operand = (): { node: Node; literal: string | null } => {
    const t = take();
    if (t.t === 'id') return { node: accessor(t.v), literal: null };
    if (t.t === 'str') return { node: () => t.v, literal: t.v };
    if (t.t === 'num') return { node: () => Number(t.v), literal: null };
    throw bad(`expected a value, got "${t.v}"`);
  };
  const primary = (): Node => {
    const t = peek();
    if (t?.t === 'op' && t.v === '!') {
      take();
      nest();
      const inner = primary();
      depth--;
      return (s) => !inner(s);
    }
    if (t?.t === '(') {
      take();
      nest();
      const inner = or();
      if (take().t !== ')') throw bad('expected ")"');
      depth--;
      return inner;
    }
    const left = operand().node;
    const op = peek();
    if (op?.t === 'op' && COMPARISONS.includes(op.v)) {
      take();
      const right = operand();
      if (op.v === 'LIKE') return like(left, right.node, right.literal, meter);
      const r = right.node;
      return (s) => compare(op.v, left(s), r(s));
    }
    return (s) => Boolean(left(s));
  };
  const and = (): Node => {
    let left = primary();
    while (peek()?.v === '&&') {
      take();
      const l = left;
      const r = primary();
      left = (s) => Boolean(l(s)) && Boolean(r(s));
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek()?.v === '||') {
      take();
      const l = left;
      const r = and();
      left = (s) => Boolean(l(s)) || Boolean(r(s));
    }
    return left;
  };
  const root = or();
  if (pos !== toks.length) throw bad(`unexpected "${toks[pos].v}"`);
  return (env) => Boolean(root({ env }));
}
