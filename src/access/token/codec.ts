/**
 * v3 token CBOR layout (wire-protocol.md §8.5) and its encoder; decoder.ts reads it back.
 *
 * Layout, in PubNub's key order: map(n) { v, t, ttl, res, pat, meta, [uuid], [n], sig }, structural
 * keys (`v t ttl res pat meta uuid n sig`, and `chan grp usr spc uuid` inside res/pat) as CBOR byte
 * strings, resource names, pattern sources, meta keys and the nonce as text strings.
 *
 * The nonce `n` (Parley's addition, absent from PubNub's tokens): without it two grants with the same
 * permissions in the same second are byte-identical, so revoking one revokes the other (both share a
 * denylist id). Every minted token carries 128 random bits there. Where it goes was read from every
 * official SDK's parseToken (JS, Python, Swift, Kotlin, Go, C#, Dart, Ruby): each one ignores an
 * unknown top-level key (Swift Codable and Go's struct decode skip it, Kotlin/JS/Python/Ruby/Dart keep
 * it in a generic map, C# logs "Unidentified key" and goes on), but Python decodes every byte-string
 * VALUE except `sig` as strict UTF-8, so random raw bytes would make its parse_token fail: the nonce is
 * therefore a text string (base64url of the random bytes), and its key a one-byte byte string like
 * `v` and `t` (Dart needs byte-string keys; the web SDK's key conversion handles one-byte keys).
 * `res`, `pat` and `meta` were no option: C# casts every `res`/`pat` entry to a map, and `meta` is
 * what the application sees.
 *
 * Signed bytes without re-encoding (performance.md lever 2): the token map is written so that
 * `sig` is its LAST entry and the map holds fewer than 24 entries (a one-byte header). The map
 * without `sig` — what the HMAC covers — is then exactly the token bytes with the header byte
 * decremented (map(n) → map(n-1)) and the fixed 38-byte tail `43 'sig' 58 20 <32 bytes>` cut off.
 * The verifier (verify.ts) HMACs that slice in place before it decodes any claim.
 *
 * Why a hand-written codec: cbor-x cannot decode byte-string map keys into objects (it throws
 * "Invalid property name type object"), and with `mapsAsObjects:false` it yields Maps keyed by
 * Buffers that need a second pass. Measured side by side (bench/authorize.ts, 179-byte §8.6 token):
 * cbor-x in Maps mode ~320k decodes/s, decoder.ts ~1.1M (3.5x), already in the final shape.
 * The encoder must be deterministic and byte-exact anyway (§8.6 is reproduced byte for byte).
 */
import type { ResourceKind } from '../types.ts';

// The decoder lives in its own file; the codec is imported as one unit (encode and decode).
export { decodeTokenClaims, TokenFormatError } from './decoder.ts';

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
  /**
   * Per-token random text (`n`) that makes every minted token, and so its denylist id, unique; no
   * permission depends on it. Absent in PubNub's tokens and in the §8.6 example.
   */
  readonly nonce?: string;
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
  w.head(5, 6 + (claims.authorizedUuid === undefined ? 0 : 1) + (claims.nonce === undefined ? 0 : 1));
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
  if (claims.nonce !== undefined) {
    w.bytesKey('n');
    w.text(claims.nonce);
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

/** The signature bytes of a token with Parley's layout (signedLength(bytes) > 0). */
export function signatureOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(bytes.length - SIGNATURE_LENGTH);
}

export function permissionMapOf(maps: PermissionMaps, kind: ResourceKind): ReadonlyMap<string, number> {
  return kind === 'channels' ? maps.channels : kind === 'groups' ? maps.groups : maps.uuids;
}

export const NO_PERMISSIONS: PermissionMaps = { channels: EMPTY_MAP, groups: EMPTY_MAP, uuids: EMPTY_MAP };
