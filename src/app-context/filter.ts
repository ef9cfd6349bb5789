import { ParleyError } from '../errors.ts';
import { compileLikePattern, type LikeMeter } from './like-pattern.ts';

/**
 * PubNub's App Context filter language, compiled once per request into a predicate over a record's
 * view (app-context/views.ts):
 *
 *   expression := and ('||' and)*
 *   and        := unary ('&&' unary)*
 *   unary      := '!' unary | '(' expression ')' | path op value
 *   path       := name ('.' name)*            e.g. name, custom.role, channel.custom.kind
 *   op         := == != < <= > >= LIKE
 *   value      := 'text' | "text" | number | true | false | null
 *
 * Semantics: a missing property reads as null. `==`/`!=` compare type and value. Ordering operators
 * compare numbers with numbers and strings with strings (UTF-16 code units, which orders ISO-8601
 * `updated` times); any other pair is false. LIKE matches strings only, `*` is any run of
 * characters, `\*` a literal star, and it ignores case (the Chat SDK's mention search, `name LIKE
 * 'al*'`, expects "Alice"); it runs in time linear in the value (app-context/like-pattern.ts). A
 * malformed expression is a 400 naming the position.
 *
 * Cost bounds (docs/security.md): at most MAX_FILTER_LENGTH characters, MAX_FILTER_TERMS
 * comparisons and logical operators, MAX_FILTER_DEPTH levels of nesting. Evaluating one record
 * is then linear in the filter's size plus the length of the strings it reads, whatever the filter.
 */
export type RecordView = Record<string, unknown>;
export type Predicate = (view: RecordView) => boolean;

/**
 * What a filter says about exact values: path (dotted, e.g. `id`, `channel.id`) → the only strings it
 * can have in a record the filter keeps. `id == 'a' || id == 'b'` gives `id` → {a, b}; an `&&` keeps
 * every conjunct's (intersected on a shared path); an `||` only paths all its sides constrain (their
 * union); `!` and any other comparison constrain nothing. So a list can read just those records
 * (ObjectService) and still answer exactly: a record outside the set fails the filter.
 */
export type KeyValues = ReadonlyMap<string, ReadonlySet<string>>;

export interface CompiledFilter {
  predicate: Predicate;
  keyValues: KeyValues;
}

interface Node {
  p: Predicate;
  keys: Map<string, Set<string>>;
}

const NO_KEYS = (): Map<string, Set<string>> => new Map();

function bothKeys(parts: readonly Node[]): Map<string, Set<string>> {
  const out = NO_KEYS();
  for (const { keys } of parts) {
    for (const [path, values] of keys) {
      const seen = out.get(path);
      out.set(path, seen === undefined ? new Set(values) : new Set([...seen].filter((v) => values.has(v))));
    }
  }
  return out;
}

function eitherKeys(parts: readonly Node[]): Map<string, Set<string>> {
  const out = NO_KEYS();
  for (const [path, values] of parts[0].keys) {
    if (!parts.every((n) => n.keys.has(path))) continue;
    const union = new Set(values);
    for (const n of parts) for (const v of n.keys.get(path) as Set<string>) union.add(v);
    out.set(path, union);
  }
  return out;
}

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';
type Token =
  | { kind: 'name'; text: string; at: number }
  | { kind: 'value'; value: string | number | boolean | null; at: number }
  | { kind: 'op'; op: Op; at: number }
  | { kind: 'punct'; text: '(' | ')' | '!' | '&&' | '||'; at: number };

export const MAX_FILTER_LENGTH = 16_384;
/**
 * Comparisons plus `&&`, `||` and `!`. The Chat SDK joins up to a page (100) of `channel.id == '…'`
 * with `||`, so a page-sized list filter (199 terms) fits with room to spare.
 */
export const MAX_FILTER_TERMS = 256;
export const MAX_FILTER_DEPTH = 64;

function bad(why: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `filter: ${why}`);
}

function readString(src: string, start: number): { text: string; end: number } {
  const quote = src[start];
  let text = '';
  for (let i = start + 1; i < src.length; i++) {
    const c = src[i];
    if (c === '\\' && i + 1 < src.length) {
      // Keep `\*` escaped for LIKE; other escapes (\' \" \\) stand for the character itself.
      text += src[i + 1] === '*' ? '\\*' : src[i + 1];
      i++;
    } else if (c === quote) {
      return { text, end: i + 1 };
    } else {
      text += c;
    }
  }
  throw bad(`unterminated string at ${start}`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const { text, end } = readString(src, i);
      out.push({ kind: 'value', value: text, at: i });
      i = end;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      out.push({ kind: 'punct', text: two, at: i });
      i += 2;
      continue;
    }
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      out.push({ kind: 'op', op: two, at: i });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      out.push({ kind: 'op', op: c, at: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '!') {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'value', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*)*/.exec(src.slice(i));
    if (word) {
      const w = word[0];
      const upper = w.toUpperCase();
      if (upper === 'LIKE') out.push({ kind: 'op', op: 'LIKE', at: i });
      else if (w === 'true' || w === 'false') out.push({ kind: 'value', value: w === 'true', at: i });
      else if (w === 'null') out.push({ kind: 'value', value: null, at: i });
      else out.push({ kind: 'name', text: w, at: i });
      i += w.length;
      continue;
    }
    throw bad(`unexpected "${c}" at ${i}`);
  }
  return out;
}

/** `space.*` and `user.*` are the SDK's deprecated names for `channel.*` and `uuid.*`. */
export function propertyPath(name: string): string[] {
  const parts = name.split('.');
  if (parts[0] === 'space') parts[0] = 'channel';
  else if (parts[0] === 'user') parts[0] = 'uuid';
  return parts;
}

export function readPath(view: RecordView, parts: readonly string[]): unknown {
  let cur: unknown = view;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return null;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur ?? null;
}

function comparison(parts: string[], op: Op, value: string | number | boolean | null, meter: LikeMeter | undefined): Predicate {
  const read = (v: RecordView) => readPath(v, parts);
  switch (op) {
    case '==':
      return (v) => read(v) === value;
    case '!=':
      return (v) => read(v) !== value;
    case 'LIKE': {
      if (typeof value !== 'string') throw bad('LIKE needs a string pattern');
      const pattern = compileLikePattern(value, { starEscape: true });
      return (v) => {
        const x = read(v);
        return typeof x === 'string' && pattern.matches(x, meter);
      };
    }
    default: {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad(`${op} needs a string or a number`);
      const test = op === '<' ? (c: number) => c < 0 : op === '<=' ? (c: number) => c <= 0 : op === '>' ? (c: number) => c > 0 : (c: number) => c >= 0;
      return (v) => {
        const x = read(v);
        if (typeof x !== typeof value) return false;
        return test((x as string | number) < value ? -1 : (x as string | number) > value ? 1 : 0);
      };
    }
  }
}

class Parser {
  private pos = 0;
  private terms = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly meter: LikeMeter | undefined,
  ) {}

  /** Counts one comparison or logical operator against MAX_FILTER_TERMS. */
  private term(at: number): void {
    this.terms++;
    if (this.terms > MAX_FILTER_TERMS) throw bad(`more than ${MAX_FILTER_TERMS} comparisons and logical operators (at ${at})`);
  }

  parse(): Node {
    const n = this.or(0);
    if (this.pos < this.tokens.length) throw bad(`unexpected token at ${this.tokens[this.pos].at}`);
    return n;
  }

  private peekPunct(text: string): boolean {
    const t = this.tokens[this.pos];
    return t !== undefined && t.kind === 'punct' && t.text === text;
  }

  private or(depth: number): Node {
    const parts = [this.and(depth)];
    while (this.peekPunct('||')) {
      this.term(this.tokens[this.pos].at);
      this.pos++;
      parts.push(this.and(depth));
    }
    if (parts.length === 1) return parts[0];
    const ps = parts.map((n) => n.p);
    return { p: (v) => ps.some((p) => p(v)), keys: eitherKeys(parts) };
  }

  private and(depth: number): Node {
    const parts = [this.unary(depth)];
    while (this.peekPunct('&&')) {
      this.term(this.tokens[this.pos].at);
      this.pos++;
      parts.push(this.unary(depth));
    }
    if (parts.length === 1) return parts[0];
    const ps = parts.map((n) => n.p);
    return { p: (v) => ps.every((p) => p(v)), keys: bothKeys(parts) };
  }

  private unary(depth: number): Node {
    if (depth > MAX_FILTER_DEPTH) throw bad(`nested more than ${MAX_FILTER_DEPTH} levels deep`);
    const t = this.tokens[this.pos];
    if (t === undefined) throw bad('unexpected end');
    if (t.kind === 'punct' && t.text === '!') {
      this.term(t.at);
      this.pos++;
      const inner = this.unary(depth + 1).p;
      return { p: (v) => !inner(v), keys: NO_KEYS() };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.pos++;
      const inner = this.or(depth + 1);
      if (!this.peekPunct(')')) throw bad(`missing ")" for "(" at ${t.at}`);
      this.pos++;
      return inner;
    }
    if (t.kind !== 'name') throw bad(`expected a property name at ${t.at}`);
    const op = this.tokens[this.pos + 1];
    const value = this.tokens[this.pos + 2];
    if (op === undefined || op.kind !== 'op') throw bad(`expected an operator after "${t.text}"`);
    if (value === undefined || value.kind !== 'value') throw bad(`expected a value after ${op.op} at ${op.at}`);
    this.term(t.at);
    this.pos += 3;
    const parts = propertyPath(t.text);
    const keys = NO_KEYS();
    if (op.op === '==' && typeof value.value === 'string') keys.set(parts.join('.'), new Set([value.value]));
    return { p: comparison(parts, op.op, value.value, this.meter), keys };
  }
}

/**
 * Compiles a filter; an absent or blank filter matches everything. `meter`, for tests, counts the
 * character comparisons its LIKE matches make.
 */
export function compileFilter(source: string | undefined, meter?: LikeMeter): Predicate {
  return compileListFilter(source, meter).predicate;
}

/** compileFilter with what the filter says about exact values (KeyValues). */
export function compileListFilter(source: string | undefined, meter?: LikeMeter): CompiledFilter {
  if (source === undefined || source.trim() === '') return { predicate: () => true, keyValues: new Map() };
  if (source.length > MAX_FILTER_LENGTH) throw bad(`longer than ${MAX_FILTER_LENGTH} characters (got ${source.length})`);
  const { p, keys } = new Parser(tokenize(source), meter).parse();
  return { predicate: p, keyValues: keys };
}
