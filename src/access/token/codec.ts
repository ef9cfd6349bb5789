/**
 * v3 token CBOR layout (wire-protocol.md §8.5), written and read by hand.
 *
 * Layout, in PubNub's key order: map(n) { v, t, ttl, res, pat, meta, [uuid], sig }, structural keys
 * (`v t ttl res pat meta uuid sig`, and `chan grp usr spc uuid` inside res/pat) as CBOR byte
 * strings, resource names, pattern sources and meta keys as text strings.
 *
 * Signed bytes without re-encoding (performance.md lever 2): the token map is written so that
 * `sig` is its LAST entry and the map holds fewer than 24 entries (a one-byte header). The map
 * without `sig` — what the HMAC covers — is then exactly the token bytes with the header byte
 * decremented (map(n) → map(n-1)) and the fixed 38-byte tail `43 'sig' 58 20 <32 bytes>` cut off.
 * The verifier (verify.ts) HMACs that slice in place before it decodes any claim.
 *
 * Why a hand-written codec: cbor-x cannot decode byte-string map keys into objects (it throws
 * "Invalid property name type object"), and with `mapsAsObjects:false` it yields Maps keyed by
 * Buffers that need a second pass. Measured on this machine (179-byte §8.6 token): cbor-x Maps
 * ~300–400k decodes/s, this decoder ~400k+ and it produces the final shape directly (bench/authorize.ts).
 * The encoder must be deterministic and byte-exact anyway (§8.6 is reproduced byte for byte).
 */
import type { ResourceKind } from '../types.ts';

export type MetaValue = string | number | boolean | null;

/** One permission map per resource kind; iteration order is the encoding order. */
export interface PermissionMaps {
  readonly channels: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
  readonly uuids: ReadonlyMap<string, number>;
}

/** Everything a token says, in Parley's terms (units in names). */
export interface TokenClaims {
  /** Always 2 for tokens Parley mints. */
  readonly version: number;
  /** Issue time, Unix seconds (`t`). */
  readonly issuedAtSec: number;
  /** Lifetime in minutes (`ttl`). */
  readonly ttlMinutes: number;
  readonly resources: PermissionMaps;
  readonly patterns: PermissionMaps;
  /** The grant's meta; always encoded, possibly empty. */
  readonly meta: ReadonlyMap<string, MetaValue>;
  /** Only this uuid may use the token (`uuid`), when set. */
  readonly authorizedUuid?: string;
}

export const TOKEN_VERSION = 2;
export const SIGNATURE_LENGTH = 32;
/** `43 73 69 67` (bstr "sig") + `58 20` (bstr, 32 bytes) + the signature. */
export const SIG_TAIL_LENGTH = 4 + 2 + SIGNATURE_LENGTH;
const SIG_TAIL_PREFIX = [0x43, 0x73, 0x69, 0x67, 0x58, 0x20] as const;

const EMPTY_MAP: ReadonlyMap<string, number> = new Map();

// ---------------------------------------------------------------------------------------------
// Encoder

/** Growable byte writer: one allocation per token in the common case. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Major type + argument, shortest form (RFC 8949 §4.2.1 preferred serialisation). */
  head(major: number, value: number): void {
    const mt = major << 5;
    this.ensure(9);
    if (value < 24) {
      this.buf[this.pos++] = mt | value;
    } else if (value < 0x100) {
      this.buf[this.pos++] = mt | 24;
      this.buf[this.pos++] = value;
    } else if (value < 0x10000) {
      this.buf[this.pos++] = mt | 25;
      this.buf.writeUInt16BE(value, this.pos);
      this.pos += 2;
    } else if (value < 0x100000000) {
      this.buf[this.pos++] = mt | 26;
      this.buf.writeUInt32BE(value, this.pos);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = mt | 27;
      this.buf.writeBigUInt64BE(BigInt(value), this.pos);
      this.pos += 8;
    }
  }

  bytesKey(key: string): void {
    // Structural keys are ASCII: byte length equals string length.
    this.head(2, key.length);
    this.ensure(key.length);
    this.pos += this.buf.write(key, this.pos, 'latin1');
  }

  text(value: string): void {
    const len = Buffer.byteLength(value, 'utf8');
    this.head(3, len);
    this.ensure(len);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  scalar(value: MetaValue): void {
    if (value === null) {
      this.ensure(1);
      this.buf[this.pos++] = 0xf6;
    } else if (typeof value === 'boolean') {
      this.ensure(1);
      this.buf[this.pos++] = value ? 0xf5 : 0xf4;
    } else if (typeof value === 'string') {
      this.text(value);
    } else if (Number.isSafeInteger(value)) {
      if (value >= 0) this.head(0, value);
      else this.head(1, -1 - value);
    } else {
      this.ensure(9);
      this.buf[this.pos++] = 0xfb;
      this.buf.writeDoubleBE(value, this.pos);
      this.pos += 8;
    }
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function writePermissionMaps(w: Writer, maps: PermissionMaps): void {
  // res/pat always carry all five keys; usr and spc stay empty (the SDK maps them before sending).
  w.head(5, 5);
  writePermissionMap(w, 'chan', maps.channels);
  writePermissionMap(w, 'grp', maps.groups);
  writePermissionMap(w, 'usr', EMPTY_MAP);
  writePermissionMap(w, 'spc', EMPTY_MAP);
  writePermissionMap(w, 'uuid', maps.uuids);
}

function writePermissionMap(w: Writer, key: string, map: ReadonlyMap<string, number>): void {
  w.bytesKey(key);
  w.head(5, map.size);
  for (const [name, perms] of map) {
    w.text(name);
    w.head(0, perms);
  }
}

/** CBOR of the token map WITHOUT `sig`: the bytes the signature covers. */
export function encodeUnsignedToken(claims: TokenClaims): Buffer {
  const w = new Writer();
  w.head(5, claims.authorizedUuid === undefined ? 6 : 7);
  w.bytesKey('v');
  w.head(0, claims.version);
  w.bytesKey('t');
  w.head(0, claims.issuedAtSec);
  w.bytesKey('ttl');
  w.head(0, claims.ttlMinutes);
  w.bytesKey('res');
  writePermissionMaps(w, claims.resources);
  w.bytesKey('pat');
  writePermissionMaps(w, claims.patterns);
  w.bytesKey('meta');
  w.head(5, claims.meta.size);
  for (const [key, value] of claims.meta) {
    w.text(key);
    w.scalar(value);
  }
  if (claims.authorizedUuid !== undefined) {
    w.bytesKey('uuid');
    w.text(claims.authorizedUuid);
  }
  return w.result();
}

/** Token bytes = unsigned map with its header bumped to n+1, then `sig` appended last. */
export function assembleToken(unsigned: Uint8Array, signature: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(unsigned.length + SIG_TAIL_LENGTH);
  out.set(unsigned, 0);
  out[0] = unsigned[0] + 1;
  out.set(SIG_TAIL_PREFIX, unsigned.length);
  out.set(signature, unsigned.length + SIG_TAIL_PREFIX.length);
  return out;
}

/**
 * Where the signed slice ends, if `bytes` has Parley's layout: a one-byte map header with 2..23
 * entries and the fixed sig tail. Returns -1 otherwise (malformed, nothing else is read).
 */
export function signedLength(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 1 + SIG_TAIL_LENGTH + 1) return -1;
  const header = bytes[0];
  if (header < 0xa2 || header > 0xb7) return -1;
  const tail = n - SIG_TAIL_LENGTH;
  for (let i = 0; i < SIG_TAIL_PREFIX.length; i++) if (bytes[tail + i] !== SIG_TAIL_PREFIX[i]) return -1;
  return tail;
}

// ---------------------------------------------------------------------------------------------
// Decoder

/** A token that does not decode into the §8.5 structure. Caught by verify.ts, never escapes it. */
export class TokenFormatError extends Error {
  override readonly name = 'TokenFormatError';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Structural keys packed into a number (≤ 4 ASCII bytes) so the decoder switches without strings. */
function packKey(key: string): number {
  let v = 0;
  for (let i = 0; i < key.length; i++) v = v * 256 + key.charCodeAt(i);
  return v;
}
const K_V = packKey('v');
const K_T = packKey('t');
const K_TTL = packKey('ttl');
const K_RES = packKey('res');
const K_PAT = packKey('pat');
const K_META = packKey('meta');
const K_UUID = packKey('uuid');
const K_SIG = packKey('sig');
const K_CHAN = packKey('chan');
const K_GRP = packKey('grp');
const K_USR = packKey('usr');
const K_SPC = packKey('spc');

/** Cursor over one token; a fresh instance per decode keeps the decoder re-entrant. */
class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array, private readonly end: number) {}

  fail(what: string): never {
    throw new TokenFormatError(`${what} at byte ${this.pos}`);
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.b[this.pos++];
  }

  /** Argument of a head; indefinite lengths (31) and reserved values are malformed here. */
  arg(ai: number): number {
    if (ai < 24) return ai;
    const b = this.b;
    const p = this.pos;
    if (ai === 24) {
      if (p + 1 > this.end) this.fail('unexpected end');
      this.pos = p + 1;
      return b[p];
    }
    if (ai === 25) {
      if (p + 2 > this.end) this.fail('unexpected end');
      this.pos = p + 2;
      return (b[p] << 8) | b[p + 1];
    }
    if (ai === 26) {
      if (p + 4 > this.end) this.fail('unexpected end');
      this.pos = p + 4;
      return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
    }
    if (ai === 27) {
      if (p + 8 > this.end) this.fail('unexpected end');
      const hi = b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
      const lo = b[p + 4] * 0x1000000 + ((b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]);
      if (hi >= 0x200000) this.fail('integer beyond 2^53');
      this.pos = p + 8;
      return hi * 0x100000000 + lo;
    }
    return this.fail('unsupported length encoding');
  }

  expect(major: number): number {
    const ib = this.byte();
    if (ib >> 5 !== major) this.fail(`expected CBOR major type ${major}`);
    return this.arg(ib & 31);
  }

  uint(): number {
    return this.expect(0);
  }

  mapLength(): number {
    return this.expect(5);
  }

  /** A structural key: byte string (PubNub's form) or text string (also accepted by the SDK). */
  structuralKey(): number {
    const ib = this.byte();
    const major = ib >> 5;
    if (major !== 2 && major !== 3) this.fail('expected a string key');
    const n = this.arg(ib & 31);
    if (n > 4 || this.pos + n > this.end) this.fail('unknown key');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.b[this.pos++];
    return v;
  }

  text(): string {
    const n = this.expect(3);
    const s = this.pos;
    const e = s + n;
    if (e > this.end) this.fail('unexpected end');
    this.pos = e;
    const b = this.b;
    // Short ASCII names are the norm: building them char by char beats TextDecoder's call cost.
    if (n <= 32) {
      let out = '';
      for (let i = s; i < e; i++) {
        const c = b[i];
        if (c > 0x7f) return decodeUtf8(b, s, e, this);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return decodeUtf8(b, s, e, this);
  }

  permissionMap(): ReadonlyMap<string, number> {
    const n = this.mapLength();
    if (n === 0) return EMPTY_MAP;
    const map = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = this.text();
      const perms = this.uint();
      if (perms > 255) this.fail('permission value above 255');
      map.set(name, perms);
    }
    return map;
  }

  scalar(): MetaValue {
    const ib = this.b[this.pos];
    const major = ib >> 5;
    if (major === 0) return this.uint();
    if (major === 1) return -1 - this.expect(1);
    if (major === 3) return this.text();
    this.pos++;
    switch (ib) {
      case 0xf4:
        return false;
      case 0xf5:
        return true;
      case 0xf6:
        return null;
      case 0xfb: {
        if (this.pos + 8 > this.end) this.fail('unexpected end');
        const v = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, 8).readDoubleBE(0);
        this.pos += 8;
        return v;
      }
      default:
        return this.fail('meta values must be scalars');
    }
  }
}

function decodeUtf8(b: Uint8Array, s: number, e: number, r: Reader): string {
  try {
    return UTF8.decode(b.subarray(s, e));
  } catch {
    return r.fail('invalid UTF-8');
  }
}

function readPermissionMaps(r: Reader): PermissionMaps {
  let channels: ReadonlyMap<string, number> | undefined;
  let groups: ReadonlyMap<string, number> | undefined;
  let uuids: ReadonlyMap<string, number> = EMPTY_MAP;
  const n = r.mapLength();
  for (let i = 0; i < n; i++) {
    const key = r.structuralKey();
    const map = r.permissionMap();
    if (key === K_CHAN) channels = map;
    else if (key === K_GRP) groups = map;
    else if (key === K_UUID) uuids = map;
    else if (key !== K_USR && key !== K_SPC) r.fail('unknown resource type');
  }
  // The SDK's parseToken requires chan and grp (§8.5); a token without them is not one of ours.
  if (channels === undefined || groups === undefined) r.fail('res/pat without chan or grp');
  return { channels, groups, uuids };
}

/**
 * Decodes the claims of a token whose signature was already verified. `bytes` is the whole token;
 * the `sig` entry is skipped. Throws TokenFormatError for anything outside the §8.5 structure.
 */
export function decodeTokenClaims(bytes: Uint8Array): TokenClaims {
  const r: Reader = new Reader(bytes, bytes.length);
  const n = r.mapLength();
  let version: number | undefined;
  let issuedAtSec: number | undefined;
  let ttlMinutes: number | undefined;
  let resources: PermissionMaps | undefined;
  let patterns: PermissionMaps | undefined;
  let meta: ReadonlyMap<string, MetaValue> = new Map();
  let authorizedUuid: string | undefined;
  for (let i = 0; i < n; i++) {
    const key = r.structuralKey();
    if (key === K_V) version = r.uint();
    else if (key === K_T) issuedAtSec = r.uint();
    else if (key === K_TTL) ttlMinutes = r.uint();
    else if (key === K_RES) resources = readPermissionMaps(r);
    else if (key === K_PAT) patterns = readPermissionMaps(r);
    else if (key === K_META) {
      const count = r.mapLength();
      const m = new Map<string, MetaValue>();
      for (let j = 0; j < count; j++) {
        const k = r.text();
        m.set(k, r.scalar());
      }
      meta = m;
    } else if (key === K_UUID) authorizedUuid = r.text();
    else if (key === K_SIG) {
      const len = r.expect(2);
      if (r.pos + len > bytes.length) r.fail('unexpected end');
      r.pos += len;
    } else r.fail('unknown top-level key');
  }
  if (r.pos !== bytes.length) r.fail('trailing bytes');
  if (version === undefined || issuedAtSec === undefined || ttlMinutes === undefined) r.fail('missing v, t or ttl');
  if (resources === undefined || patterns === undefined) r.fail('missing res or pat');
  return { version, issuedAtSec, ttlMinutes, resources, patterns, meta, authorizedUuid };
}

/** The signature bytes of a token with Parley's layout (signedLength(bytes) > 0). */
export function signatureOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(bytes.length - SIGNATURE_LENGTH);
}

export function permissionMapOf(maps: PermissionMaps, kind: ResourceKind): ReadonlyMap<string, number> {
  return kind === 'channels' ? maps.channels : kind === 'groups' ? maps.groups : maps.uuids;
}

export const NO_PERMISSIONS: PermissionMaps = { channels: EMPTY_MAP, groups: EMPTY_MAP, uuids: EMPTY_MAP };
