/**
 * Storage interfaces. Core code (realtime/, access/, protocol/) depends only on these; the
 * implementations live in store/memory, store/sqlite (and store/redis) and are picked once in
 * store/index.ts. Every implementation runs the contract suites in test/contract.
 *
 * Conventions for every method:
 * - Timetokens are bigint (17 digits do not fit a double).
 * - A backend failure rejects with ParleyError('STORE_UNAVAILABLE', …, { cause }); never a raw error.
 * - `subscribeKey` scopes everything: two keysets never see each other's data.
 * - "Sorted" names mean JavaScript's default string order (UTF-16 code units), in every backend.
 */

/** Event type as on the wire (`e`): 0 is a plain message and is never sent as `e:0`. */
export type MessageType = 0 | 1 | 2 | 3 | 4;

export interface StoredMessage {
  subscribeKey: string;
  channel: string;
  timetoken: bigint;
  /** Publisher uuid (`i` in subscribe, `uuid` in history). */
  publisher: string;
  /** The payload exactly as published: raw JSON text, never re-serialised. */
  payload: string;
  /** Publisher meta as raw JSON text of an object, or null. */
  meta: string | null;
  customMessageType: string | null;
  type: MessageType;
  /** Wall-clock ms after which the message is gone from history; null = keyset retention only. */
  expiresAtMs: number | null;
}

/** A half-open or closed range of timetokens; absent bounds are unbounded. */
export interface TimetokenRange {
  gt?: bigint;
  gte?: bigint;
  lt?: bigint;
  lte?: bigint;
}

export interface MessageQuery {
  subscribeKey: string;
  /** A channel listed twice counts once; unknown channels contribute nothing. */
  channels: readonly string[];
  range: TimetokenRange;
  /** Upper bound on returned rows (across all channels); 0 or less returns []. Expired rows do not count. */
  limit: number;
  /**
   * Which end of the range the limit keeps: 'oldest' keeps the first `limit` rows in timetoken order
   * (catch-up, reverse=true history), 'newest' keeps the last `limit` rows (default history).
   * Either way the result is sorted by ascending timetoken.
   */
  keep: 'oldest' | 'newest';
  /** Messages whose expiresAtMs <= nowMs are invisible. */
  nowMs: number;
  /**
   * Rows read per channel at most (default `limit`), so a query over C channels reads C × this, not
   * C × limit. When a channel fills this share, rows past its last one may exist unread there: the
   * result then stops at the first such point, so it is always a prefix (keep 'oldest') or a suffix
   * ('newest') of the answer without it: every row of the channels asked with a timetoken up to the
   * result's last one (from its first one, for 'newest') is in it. It is never empty when that answer
   * is not.
   */
  perChannelLimit?: number;
}

export interface MessageStore {
  /**
   * Appends a batch atomically and durably: when the promise resolves, every message survives a
   * process crash (kill -9). Timetokens are unique per (subscribeKey, channel); appending an existing
   * (subscribeKey, channel, timetoken) replaces it; within one batch the later row wins.
   * A batch with an invalid row (store/shared/validate-message-batch.ts: e.g. a timetoken outside
   * 0..2^63-1) rejects with ParleyError('INVALID_PARAM') and stores nothing. An empty batch is a no-op.
   */
  append(messages: readonly StoredMessage[]): Promise<void>;
  /**
   * Messages matching the query, ascending by timetoken (ties impossible within a channel). Equal
   * timetokens on different channels are ordered by channel name, and `keep`/`limit` use that order.
   */
  query(q: MessageQuery): Promise<StoredMessage[]>;
  /** Number of visible messages of one channel in range, capped at `cap`. */
  count(subscribeKey: string, channel: string, range: TimetokenRange, cap: number, nowMs: number): Promise<number>;
  /** Deletes the channel's messages in range; returns how many were deleted. */
  delete(subscribeKey: string, channel: string, range: TimetokenRange): Promise<number>;
  /** Physically removes messages with expiresAtMs <= nowMs; returns how many. */
  purgeExpired(nowMs: number): Promise<number>;
}

export interface ChannelGroupStore {
  /**
   * Adds channels (idempotent); the group is created by its first add. Returns the new member count.
   * Adding no channels creates nothing (and returns the current count, 0 for an unknown group).
   * With `maxMembers`, an add after which the group would hold more adds nothing and resolves null:
   * checked in the same atomic step as the add, so concurrent adds (other nodes too) cannot pass it.
   */
  addChannels(subscribeKey: string, group: string, channels: readonly string[], maxMembers?: number): Promise<number | null>;
  /** Removes channels; a group left empty vanishes. */
  removeChannels(subscribeKey: string, group: string, channels: readonly string[]): Promise<void>;
  /** Members sorted by name; an unknown group has none. */
  listChannels(subscribeKey: string, group: string): Promise<string[]>;
  /** Groups that have at least one member, sorted by name. */
  listGroups(subscribeKey: string): Promise<string[]>;
  deleteGroup(subscribeKey: string, group: string): Promise<void>;
}

/** Access Manager v2 grant levels, as the wire names them. */
export type GrantLevel = 'subkey' | 'channel' | 'channel-group' | 'uuid';

export interface GrantRecord {
  subscribeKey: string;
  level: GrantLevel;
  /** Channel, group or uuid name ('' at subkey level). Channels may be `a.*` wildcards. */
  resource: string;
  /** The auth key the grant is for; '' means every auth key. */
  authKey: string;
  /** Permission bitmask (access/permissions.ts); never 0 in the store (0 withdraws). */
  perms: number;
  /** As granted, in minutes; 0 = no expiry. */
  ttlMinutes: number;
  /** null = no expiry. */
  expiresAtMs: number | null;
}

/** What a grant is for within its keyset: the key GrantStore keeps one grant under. */
export type GrantTarget = Pick<GrantRecord, 'level' | 'resource' | 'authKey'>;

/** A target as one string, for maps and sets: JSON keeps it unambiguous whatever characters resource and authKey hold. */
export function grantTargetKey(t: GrantTarget): string {
  return JSON.stringify([t.level, t.resource, t.authKey]);
}

export interface GrantStore {
  /**
   * Replaces the grant for (subscribeKey, level, resource, authKey). A record with perms 0 deletes it.
   * Returns nothing; callers re-read if they need the result.
   */
  put(grants: readonly GrantRecord[]): Promise<void>;
  /** Every unexpired grant of a keyset (expiresAtMs > nowMs or null), in no particular order. */
  list(subscribeKey: string, nowMs: number): Promise<GrantRecord[]>;
  /**
   * The unexpired grants of these targets in one keyset, in no particular order; a target without one
   * is left out, and a target named twice is answered once. Costs O(targets) whatever else the keyset
   * holds: how a node refreshes its mirror after another node's grant.
   */
  get(subscribeKey: string, targets: readonly GrantTarget[], nowMs: number): Promise<GrantRecord[]>;
  /** Removes grants with expiresAtMs <= nowMs; returns how many. */
  purgeExpired(nowMs: number): Promise<number>;
}

export interface DenyListEntry {
  subscribeKey: string;
  /** Stable identifier of a revoked token (hex SHA-256 of its signature bytes). */
  tokenId: string;
  /** When the token would have expired anyway; the entry may be dropped after that. */
  expiresAtMs: number;
}

export interface DenyList {
  /**
   * The deny list's epoch: the time (ms, the callers' clock) since which this storage has held every
   * revocation. The first call on storage that has none records `proposedMs` (rounded up to a whole ms)
   * and resolves with it; every later call resolves with the recorded value, whatever it proposes.
   * Concurrent first calls (several nodes) record exactly one value and all resolve with it. Storage that
   * lost its data (a Redis
   * restarted empty, a deleted SQLite file, a new process for memory) has no epoch, so the next call
   * records a new, later one: tokens issued before it may have been revoked in the lost list, and the
   * Access Manager refuses them (TOKEN_ISSUED_BEFORE_EPOCH). add/purgeExpired never change it.
   */
  epoch(proposedMs: number): Promise<number>;
  /** Adding a tokenId already present keeps the later of the two expiresAtMs: a revocation never shrinks. */
  add(entry: DenyListEntry): Promise<void>;
  has(subscribeKey: string, tokenId: string, nowMs: number): Promise<boolean>;
  /** All entries with expiresAtMs > nowMs (used to warm in-memory mirrors at start). */
  list(nowMs: number): Promise<DenyListEntry[]>;
  /**
   * Removes revocations with expiresAtMs <= nowMs and kicks with kickedAtMs + KICK_RETENTION_MS <=
   * nowMs; returns how many entries of both kinds went.
   */
  purgeExpired(nowMs: number): Promise<number>;
  /**
   * Records that an operator cut a uuid off (docs/security.md "Operator console, kick and rotation"):
   * every token used as that uuid and issued no later than the kick's second is refused. Kicking a uuid
   * again keeps the later kickedAtMs: a kick never moves back. Durable when the promise resolves.
   */
  addKick(entry: KickEntry): Promise<void>;
  /** Every kick of every keyset still in force at nowMs (kickedAtMs + KICK_RETENTION_MS > nowMs), in no particular order. */
  listKicks(nowMs: number): Promise<KickEntry[]>;
}

/**
 * How long a kick is kept: the longest a v3 token lives (access/token/grant-body.ts
 * MAX_TOKEN_TTL_MINUTES, 30 days). Every token a kick refuses was issued before it, so once this has
 * passed all of them have expired and the entry can go.
 */
export const KICK_RETENTION_MS = 43_200 * 60_000;

export interface KickEntry {
  subscribeKey: string;
  /** The uuid cut off. */
  uuid: string;
  /** When (ms, the callers' clock); tokens issued in or before this whole second are refused for the uuid. */
  kickedAtMs: number;
}

/**
 * One runtime secret-key rotation of a keyset, as access/secret-rotation.ts seals it: the store keeps
 * opaque text and never sees a secret. `sealedNew` is the new secret sealed under the old one, and
 * `sealedPrevious` the old secret sealed under the new one, so a node that knows either (from its
 * config or from an earlier rotation) can follow the chain.
 */
export interface SecretRotationRecord {
  subscribeKey: string;
  /** When the rotation was made (ms). */
  rotatedAtMs: number;
  /** Until when (ms) the old secret is still accepted. */
  previousValidUntilMs: number;
  sealedNew: string;
  sealedPrevious: string;
}

/**
 * Runtime secret-key rotations per keyset, so every node and every restart applies them. A backend
 * failure rejects with STORE_UNAVAILABLE and changes nothing.
 */
export interface SecretRotationStore {
  /**
   * Appends a rotation; durable when the promise resolves. Only the newest MAX_SECRET_ROTATIONS of a
   * keyset are kept (older ones are dropped by the same call).
   */
  append(record: SecretRotationRecord): Promise<void>;
  /** The keyset's rotations in the order they were appended (oldest first); [] for none. */
  list(subscribeKey: string): Promise<SecretRotationRecord[]>;
}

/** Rotations kept per keyset; a node whose config secret is older than all of them ignores them. */
export const MAX_SECRET_ROTATIONS = 32;

export interface PresenceEntry {
  subscribeKey: string;
  channel: string;
  uuid: string;
  expiresAtMs: number;
}

/**
 * Who is present where, with expiry, and per-channel user state. Presence is ephemeral (as in
 * PubNub): the embedded engine keeps it in memory; the Redis engine shares it between nodes.
 * Reads take no clock: an entry is present until remove() or expire() drops it, even past expiresAtMs.
 */
export interface PresenceStore {
  /** Marks uuid present until expiresAtMs; resolves true when it was not present before. */
  touch(subscribeKey: string, channel: string, uuid: string, expiresAtMs: number): Promise<boolean>;
  /** Resolves true when uuid was present. State is kept (PubNub keeps state until timeout or leave). */
  remove(subscribeKey: string, channel: string, uuid: string): Promise<boolean>;
  /** Present uuids of a channel, sorted. Proportional to the occupants: here-now asks it, nothing per event. */
  occupants(subscribeKey: string, channel: string): Promise<string[]>;
  /**
   * How many uuids are present in a channel: occupants().length, at a cost that does not grow with them
   * (every presence event carries it, so N joins must not cost N²).
   */
  occupancy(subscribeKey: string, channel: string): Promise<number>;
  /** Channels with at least one occupant, sorted. */
  channels(subscribeKey: string): Promise<string[]>;
  /** Channels where uuid is present, sorted. */
  channelsOf(subscribeKey: string, uuid: string): Promise<string[]>;
  /**
   * Removes and returns every entry with expiresAtMs <= nowMs (each at most once), in no particular
   * order. State is left alone, as by remove(): the caller decides whether the expiry is a timeout
   * (and clears state with setState(null)) or re-touches a uuid it knows is still there.
   */
  expire(nowMs: number): Promise<PresenceEntry[]>;
  /** null clears the state. */
  setState(subscribeKey: string, channel: string, uuid: string, state: Record<string, unknown> | null): Promise<void>;
  getState(subscribeKey: string, channel: string, uuid: string): Promise<Record<string, unknown> | undefined>;
}

/** What a readiness check found; `reason` (only when not ok) is one line for operators, with no secrets. */
export interface HealthReport {
  ok: boolean;
  reason?: string;
}

/** Everything one engine provides. */
export interface Stores {
  messages: MessageStore;
  channelGroups: ChannelGroupStore;
  grants: GrantStore;
  denyList: DenyList;
  secretRotations: SecretRotationStore;
  presence: PresenceStore;
  objects: ObjectStore;
  messageActions: MessageActionStore;
  files: FileStore;
  /**
   * Whether the engine can serve requests now (the /health readiness check). Never rejects and resolves
   * within about 2 s: a check that cannot finish in time reports not ok. Memory is always ok; SQLite
   * checks that the database file it opened is still there (same device and inode) and answers a query;
   * Redis checks that its link is up and answers PING. After close() it reports not ok.
   */
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

/** A message on its way in: everything but the timetoken, which the broker assigns. */
export interface OutgoingMessage {
  subscribeKey: string;
  channel: string;
  /** Publisher uuid; null for server-generated events (presence). */
  publisher: string | null;
  /** Raw JSON text. */
  payload: string;
  meta: string | null;
  customMessageType: string | null;
  type: MessageType;
  /** Append to history as well as deliver. */
  store: boolean;
  expiresAtMs: number | null;
}

export interface CommittedMessage extends OutgoingMessage {
  timetoken: bigint;
}

/** Events nodes tell each other so their in-memory mirrors stay exact. */
export type ControlEvent =
  | { kind: 'token-revoked'; subscribeKey: string; tokenId: string; expiresAtMs: number }
  /** `targets`: the changed grants when few (access/types.ts AccessChange); absent: re-read them all. */
  | { kind: 'grants-changed'; subscribeKey: string; targets?: readonly GrantTarget[] }
  | { kind: 'group-changed'; subscribeKey: string; group: string }
  | { kind: 'objects-changed'; subscribeKey: string }
  /** A uuid was kicked (DenyList.addKick); the store holds it too, for restarts and late nodes. */
  | { kind: 'uuid-kicked'; subscribeKey: string; uuid: string; kickedAtMs: number }
  /** A keyset's secret was rotated at runtime: re-read SecretRotationStore.list. */
  | { kind: 'secret-rotated'; subscribeKey: string }
  /** One node's latest figures for the operator console (console/node-stats.ts); not stored. */
  | { kind: 'node-stats'; nodeId: string; sample: NodeSample };

/** What one node reports every console.sampleIntervalSec (console/node-stats.ts). */
export interface NodeSample {
  /** When it was taken (ms, the node's clock). */
  t: number;
  /** Readiness at that moment (GET /health). */
  ok: boolean;
  reason?: string;
  parkedLongPolls: number;
  connections: number;
  publishesPerSec: number;
  deliveriesPerSec: number;
  /** Access denials since the previous sample, by error code. */
  denials: Record<string, number>;
}

/**
 * The publish side of an engine, one per node. The single-node engines (memory, sqlite) commit locally
 * and their only node is this one; the Redis engine commits through Redis so every node sees one order.
 * Every implementation runs test/contract/broker.contract.ts.
 */
export interface Broker {
  /** Names this node in the operator console and in its control events; unique among a deployment's nodes. */
  readonly nodeId: string;
  /**
   * Assigns each message a timetoken unique and strictly increasing per subscribeKey (so per channel)
   * across all nodes, in commit order (within a batch in input order): a subscriber on several channels
   * whose cursor is the largest timetoken it received misses nothing committed later, whichever node
   * committed it and whatever that node's clock says. Never behind the committing node's clock (nowMs × 10,000),
   * durably appends the `store` ones to history (a null publisher is stored as ''), and hands the batch
   * to every node's onMessages handler (this node's included), each message once and unchanged but for
   * its timetoken, in commit order, and only once its history append is visible to every node's
   * MessageStore. Resolves with the timetokens in input order once durable. A batch is all or nothing:
   * a row to store that MessageStore.append would refuse rejects the whole batch with INVALID_PARAM, a
   * backend failure with STORE_UNAVAILABLE, and then nothing of it is stored or delivered. An empty batch
   * resolves [] and delivers nothing. After close() it rejects with STORE_UNAVAILABLE.
   */
  commit(batch: readonly OutgoingMessage[]): Promise<bigint[]>;
  /** One handler (a later call replaces it); called with committed batches in commit order. */
  onMessages(handler: (batch: readonly CommittedMessage[]) => void): void;
  /**
   * A subscribe handshake's cursor: a cut of the keyset's commit order as a current timetoken (17
   * digits). Every message committed, on any node, before the
   * cut was taken has a timetoken <= it; every message committed after it a greater one, so a poll
   * from it misses nothing and repeats nothing (docs/redis.md §Ordering). Synchronous where the
   * commit order is this node's own; rejects with STORE_UNAVAILABLE when the backend does not answer.
   */
  handshakeTimetoken(subscribeKey: string): bigint | Promise<bigint>;
  /**
   * Tells every other node's onControl handlers (never this node's), in broadcast order. With no other
   * node (the single-node engines) it resolves and tells no one. After close() it rejects with
   * STORE_UNAVAILABLE.
   */
  broadcast(event: ControlEvent): Promise<void>;
  /** Adds a handler; every handler gets every event other nodes broadcast. */
  onControl(handler: (event: ControlEvent) => void): void;
  /** False while this node may be missing other nodes' events (access checks then fail closed), and after close(). */
  isHealthy(): boolean;
  /** Called after the link to other nodes came back: mirrors must reload. A single-node broker never calls it. */
  onResync(handler: () => void): void;
  /** Resolves once the broker can commit and receive (start-up); rejects with STORE_UNAVAILABLE on timeout and after close(). */
  ready(): Promise<void>;
  /**
   * Readiness now, for /health: not ok whenever isHealthy() is false (with the reason), and after close().
   * Never rejects; resolves within about 2 s.
   */
  health(): Promise<HealthReport>;
  /** Releases the broker's links; from then on no handler of this node is called. Idempotent. */
  close(): Promise<void>;
}

/**
 * Where a single-node broker draws timetokens: the node's generator (realtime/timetoken.ts), so commits,
 * /time and subscribe handshakes share one sequence. Typed here so store/ never imports realtime/.
 */
export interface TimetokenSource {
  /** A timetoken strictly greater than every one drawn or observed before, never behind the node's clock (nowMs × 10,000). */
  next(): bigint;
  /** The current time as a cursor: never behind a drawn timetoken, and every later next() is greater. */
  now(): bigint;
}

// ---------------------------------------------------------------------------------------------
// App Context (objects v2), message actions, files: the surfaces v3's get/update/delete/join guard.

/** Scalar-valued custom fields, as App Context allows. */
export type CustomFields = Record<string, string | number | boolean | null>;

/** One uuid's or channel's metadata. Fields absent on the wire are null here. */
export interface ObjectMetadata {
  id: string;
  name: string | null;
  /** uuid only. */
  externalId: string | null;
  profileUrl: string | null;
  email: string | null;
  /** channel only. */
  description: string | null;
  status: string | null;
  type: string | null;
  custom: CustomFields | null;
  /** ISO-8601 time of the last change. */
  updated: string;
  /** Changes whenever any field changes (If-Match). */
  eTag: string;
}

/** A uuid's membership in a channel (seen from either side). */
export interface MembershipRecord {
  uuid: string;
  channel: string;
  status: string | null;
  type: string | null;
  custom: CustomFields | null;
  updated: string;
  eTag: string;
}

export type ObjectKind = 'uuid' | 'channel';

/**
 * App Context storage. Records are stored and returned whole, exactly as given (deep-equal, no
 * aliasing); merging, eTags, filtering, sorting and paging happen above the store
 * (app-context/object-service.ts). Ids sort by UTF-16 code units in every backend. A backend failure
 * rejects with STORE_UNAVAILABLE and changes nothing.
 */
/** Where ObjectStore.page starts: strictly after an id, or strictly before one. */
export type PageFrom = { after: string } | { before: string };

/** A page in key order (ObjectStore.page, membershipPage): the items, and whether any lie before or after it. */
export interface KeyedPage<T> {
  records: T[];
  hasBefore: boolean;
  hasAfter: boolean;
}

export interface ObjectStore {
  get(subscribeKey: string, kind: ObjectKind, id: string): Promise<ObjectMetadata | undefined>;
  /**
   * Creates or replaces the record (the caller merges and computes eTag/updated), atomically with a
   * check of what is stored: `expectedETag` undefined stores unconditionally, null only when no record
   * exists, a string only when the stored record has that eTag. Resolves false (storing nothing) when
   * the check fails, which is how concurrent PATCHes and If-Match stay exact across nodes.
   */
  put(subscribeKey: string, kind: ObjectKind, record: ObjectMetadata, expectedETag?: string | null): Promise<boolean>;
  /**
   * Removes the record and every membership on its side (a uuid's memberships, a channel's members),
   * atomically; resolves true when the record existed. Memberships go even when the record did not exist.
   */
  remove(subscribeKey: string, kind: ObjectKind, id: string): Promise<boolean>;
  /** Every record of a kind, sorted by id in code point order (text-order.ts). */
  list(subscribeKey: string, kind: ObjectKind): Promise<ObjectMetadata[]>;
  /**
   * One page of a kind's records in id order (code points), at a cost that grows with `limit`, not with
   * the records held: the first `limit`; with `after`, the first `limit` whose id is after it; with
   * `before`, the last `limit` whose id is before it (still ascending). `hasBefore` / `hasAfter` say
   * whether records lie before the page's first or after its last (both false for an empty page). One
   * consistent state of the kind.
   */
  page(subscribeKey: string, kind: ObjectKind, from: PageFrom | null, limit: number): Promise<KeyedPage<ObjectMetadata>>;
  /** How many records of a kind the keyset holds (list().length without reading them). */
  count(subscribeKey: string, kind: ObjectKind): Promise<number>;
  /**
   * Creates or replaces memberships, keyed by (uuid, channel), all or nothing; within one call the
   * later record for a pair wins. Neither side's metadata needs to exist (as in PubNub).
   */
  putMemberships(subscribeKey: string, records: readonly MembershipRecord[]): Promise<void>;
  /** Removes memberships, all or nothing; missing ones are ignored. */
  removeMemberships(subscribeKey: string, pairs: ReadonlyArray<{ uuid: string; channel: string }>): Promise<void>;
  /** Memberships of a uuid (side 'uuid') or members of a channel (side 'channel'), sorted by the other id. */
  memberships(subscribeKey: string, side: ObjectKind, id: string): Promise<MembershipRecord[]>;
  /**
   * One page of a side's memberships (a uuid's, side 'uuid') or members (a channel's, side 'channel') in
   * the other id's code point order, at a cost that grows with `limit`: as page() does for records.
   */
  membershipPage(subscribeKey: string, side: ObjectKind, id: string, from: PageFrom | null, limit: number): Promise<KeyedPage<MembershipRecord>>;
  /** memberships().length without reading them. */
  membershipCount(subscribeKey: string, side: ObjectKind, id: string): Promise<number>;
  /** The membership of one (uuid, channel) pair, if any: one lookup, whatever either side holds. */
  membership(subscribeKey: string, uuid: string, channel: string): Promise<MembershipRecord | undefined>;
}

/** One message action (reaction, receipt, edit, soft delete…) as added through §11. */
export interface MessageAction {
  subscribeKey: string;
  channel: string;
  messageTimetoken: bigint;
  /** Assigned by the server when the action is added; with messageTimetoken it names the action. */
  actionTimetoken: bigint;
  /** 1–15 characters on the wire (the SDK refuses longer). */
  type: string;
  value: string;
  /** Who added it. */
  uuid: string;
}

/**
 * Message actions per (subscribeKey, channel). Actions do not check that the message exists (PubNub
 * does not either), and they outlive it: deleting history leaves them in place.
 */
export interface MessageActionStore {
  /**
   * Adds an action atomically. Resolves 'taken' and changes nothing when the message already has an
   * action with the same actionTimetoken, or an identical (type, value, uuid) action (a conflict: the
   * same reaction twice; the caller tells the two apart with forMessages); 'full' and changes nothing
   * when the message already carries `maxPerMessage` actions, checked in the same atomic step (so
   * concurrent adds, on any node, cannot pass it); else 'added'.
   */
  add(action: MessageAction, maxPerMessage?: number): Promise<'added' | 'taken' | 'full'>;
  /** Removes one action; resolves true when it existed. */
  remove(subscribeKey: string, channel: string, messageTimetoken: bigint, actionTimetoken: bigint): Promise<boolean>;
  /**
   * Actions of a channel with actionTimetoken in range (of any message), the newest `limit` kept, sorted
   * ascending by actionTimetoken, then messageTimetoken. A limit of 0 or less returns [].
   */
  list(subscribeKey: string, channel: string, range: TimetokenRange, limit: number): Promise<MessageAction[]>;
  /** Every action on the given messages of one channel, in list()'s order; unknown timetokens add nothing. */
  forMessages(subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<MessageAction[]>;
}

/** A shared file's metadata (§11 files). The bytes are stored next to it. */
export interface StoredFile {
  subscribeKey: string;
  channel: string;
  /** Server-generated (a UUID); unique per (subscribeKey, channel). */
  id: string;
  /** The name the client asked for; downloads must name it too. */
  name: string;
  /** Bytes. */
  size: number;
  /** ISO-8601 with milliseconds (`Date.toISOString()`), so string order is time order. */
  created: string;
  /** MIME type served on download. */
  contentType: string;
}

export interface FileStore {
  /**
   * Stores bytes and metadata durably and atomically (both or neither). Resolves false and changes
   * nothing when the channel already has a file with that id: an upload never replaces a file.
   */
  put(file: StoredFile, bytes: Buffer): Promise<boolean>;
  /** The file and a copy of its bytes; undefined when there is none with that id. */
  get(subscribeKey: string, channel: string, id: string): Promise<{ file: StoredFile; bytes: Buffer } | undefined>;
  /** Resolves true when it existed. */
  delete(subscribeKey: string, channel: string, id: string): Promise<boolean>;
  /**
   * Files of a channel, newest first (created descending, then id descending), at most `limit` (at
   * least 1). `next` is null when no file follows the page; otherwise pass it back to continue after
   * the page (files deleted meanwhile are skipped, none is repeated). A cursor this store did not
   * issue rejects with INVALID_PARAM.
   */
  list(subscribeKey: string, channel: string, limit: number, next: string | null): Promise<{ files: StoredFile[]; next: string | null }>;
}
