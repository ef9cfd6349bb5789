/**
 * THE enforcement matrix: which permission each operation needs on which resources
 * (wire-protocol.md §8.4 "Operation → required permission", §7.1 "Permission usage").
 * docs/access-matrix.md renders this table (scripts/gen-access-matrix.ts); a unit test keeps the
 * two in step. Routes never decide permissions themselves: they name their operation here.
 *
 * Keyset-level requirements. Three operations read or manage "everything" rather than named
 * resources: list all channel groups, global here-now, and listing all App Context metadata. They
 * need the permission on the keyset as a whole, expressed as a Requirement whose name is
 * KEYSET_LEVEL (''). It is met by a v2 subkey-level grant, or by a v3 pattern that matches every
 * name (`.*`, `^.*$`; see patterns.isUniversalPattern), never by a grant on one name or `a.*`.
 * Global here-now therefore does not filter its answer down to permitted channels: the caller may
 * read presence everywhere or gets 403.
 */
import { ParleyError } from '../errors.ts';
import { DELETE, GET, JOIN, MANAGE, READ, UPDATE, WRITE } from './permissions.ts';
import type { Requirement, ResourceKind } from './types.ts';

/** Name of the requirement that stands for "every resource of this kind in the keyset". */
export const KEYSET_LEVEL = '';

export interface OperationSpec {
  /** One line for docs/access-matrix.md. */
  readonly summary: string;
  /**
   * Per resource kind the operation accepts: the permission each named resource needs. 0 means
   * the names are accepted but need nothing (leave). A kind not listed must not be passed.
   */
  readonly resources: Partial<Readonly<Record<ResourceKind, number>>>;
  /** A permission needed on the keyset as a whole (see the header comment). */
  readonly keyset?: { readonly kind: ResourceKind; readonly perm: number };
  /** Only a request signed with the secret key may do this (§9 step 5). */
  readonly admin?: true;
}

const OPERATION_TABLE = {
  // Publishing (§2)
  publish: { summary: 'publish a message (GET or POST)', resources: { channels: WRITE } },
  fire: { summary: 'fire (publish with store=0, norep=true)', resources: { channels: WRITE } },
  signal: { summary: 'send a signal', resources: { channels: WRITE } },
  send_file: { summary: 'send a file (generate upload URL)', resources: { channels: WRITE } },
  publish_file: { summary: 'publish a file message', resources: { channels: WRITE } },
  add_message_action: { summary: 'add a message action', resources: { channels: WRITE } },

  // Subscribe and presence (§3, §4)
  subscribe: {
    summary: 'subscribe; every channel and group name, -pnpres names included, is checked separately',
    resources: { channels: READ, groups: READ },
  },
  heartbeat: { summary: 'presence heartbeat (same as subscribe)', resources: { channels: READ, groups: READ } },
  leave: {
    summary: 'presence leave (Parley: read, so a leave cannot be forged for channels the caller could not read)',
    resources: { channels: READ, groups: READ },
  },
  here_now: { summary: 'here now for named channels and groups', resources: { channels: READ, groups: READ } },
  here_now_global: {
    summary: 'global here now (no channel): read on every channel',
    resources: {},
    keyset: { kind: 'channels', perm: READ },
  },
  where_now: { summary: "where now for the caller's own uuid", resources: {} },
  where_now_other: {
    summary: 'where now for another uuid (Parley: get on that uuid; not open to anonymous callers)',
    resources: { uuids: GET },
  },
  get_state: { summary: 'get presence state', resources: { channels: READ, groups: READ } },
  set_state: { summary: 'set presence state', resources: { channels: READ, groups: READ } },

  // Message persistence, message actions, files (§5, §11)
  history: { summary: 'history v2 (one channel)', resources: { channels: READ } },
  fetch_messages: { summary: 'fetch messages v3, with or without actions', resources: { channels: READ } },
  message_counts: { summary: 'message counts', resources: { channels: READ } },
  get_message_actions: { summary: 'get message actions', resources: { channels: READ } },
  list_files: { summary: 'list files', resources: { channels: READ } },
  download_file: { summary: 'download a file', resources: { channels: READ } },
  delete_messages: { summary: 'delete messages from history', resources: { channels: DELETE } },
  remove_message_action: { summary: 'remove a message action', resources: { channels: DELETE } },
  delete_file: { summary: 'delete a file', resources: { channels: DELETE } },

  // Channel groups (§6)
  add_channels_to_group: { summary: 'channel group: add channels', resources: { groups: MANAGE } },
  remove_channels_from_group: { summary: 'channel group: remove channels', resources: { groups: MANAGE } },
  list_channels_in_group: { summary: 'channel group: list channels', resources: { groups: MANAGE } },
  delete_group: { summary: 'channel group: delete the group', resources: { groups: MANAGE } },
  list_groups: {
    summary: 'list all channel groups of the keyset',
    resources: {},
    keyset: { kind: 'groups', perm: MANAGE },
  },

  // App Context (§11)
  get_uuid_metadata: { summary: 'App Context: get uuid metadata', resources: { uuids: GET } },
  set_uuid_metadata: { summary: 'App Context: set uuid metadata', resources: { uuids: UPDATE } },
  remove_uuid_metadata: { summary: 'App Context: remove uuid metadata', resources: { uuids: DELETE } },
  get_all_uuid_metadata: {
    summary: 'App Context: list all uuid metadata',
    resources: {},
    keyset: { kind: 'uuids', perm: GET },
  },
  get_channel_metadata: { summary: 'App Context: get channel metadata', resources: { channels: GET } },
  set_channel_metadata: { summary: 'App Context: set channel metadata', resources: { channels: UPDATE } },
  remove_channel_metadata: { summary: 'App Context: remove channel metadata', resources: { channels: DELETE } },
  get_all_channel_metadata: {
    summary: 'App Context: list all channel metadata',
    resources: {},
    keyset: { kind: 'channels', perm: GET },
  },
  get_members: { summary: 'App Context: list channel members', resources: { channels: GET } },
  set_members: { summary: 'App Context: set channel members', resources: { channels: MANAGE } },
  remove_members: { summary: 'App Context: remove channel members', resources: { channels: MANAGE } },
  get_memberships: { summary: 'App Context: list memberships of a uuid', resources: { uuids: GET } },
  set_memberships: { summary: 'App Context: set memberships (channel side)', resources: { channels: JOIN } },
  remove_memberships: { summary: 'App Context: remove memberships (channel side)', resources: { channels: JOIN } },

  // Mobile push (§8.4 last row)
  add_push_channels: { summary: 'push: register channels for a device', resources: { channels: READ } },
  remove_push_channels: { summary: 'push: unregister channels for a device', resources: { channels: READ } },
  list_push_channels: { summary: 'push: list channels of a device', resources: {} },
  remove_push_device: { summary: 'push: remove a device', resources: {} },

  // Time needs no credential (the SDK does not even sign it).
  time: { summary: 'server time', resources: {} },

  // Access Manager (§7, §8, §9): a valid secret-key signature and nothing else.
  grant: { summary: 'Access Manager v2 grant', resources: {}, admin: true },
  audit: { summary: 'Access Manager v2 audit', resources: {}, admin: true },
  grant_token: { summary: 'Access Manager v3 grant token', resources: {}, admin: true },
  revoke_token: { summary: 'Access Manager v3 revoke token', resources: {}, admin: true },

  // Operator console and app servers (docs/security.md "Operator console, kick and rotation"): Parley's
  // admin API, under /v1/admin/{sub}/; a valid secret-key signature and nothing else, like the above.
  admin_stats: {
    summary: 'per-node figures of the last 15 minutes: health, long-polls, connections, rates, denials (GET /v1/admin/{sub}/stats)',
    resources: {},
    admin: true,
  },
  admin_inspect_token: {
    summary: "a v3 token's state (valid, expired, revoked, kicked, bad signature…) and decoded grants (POST /v1/admin/{sub}/token/inspect)",
    resources: {},
    admin: true,
  },
  admin_explain: { summary: 'which grant or token entry decides one operation for one credential (POST /v1/admin/{sub}/explain)', resources: {}, admin: true },
  admin_kick: {
    summary: 'cut one uuid off now: its tokens and/or auth keys, parked long-polls, presence (POST /v1/admin/{sub}/kick)',
    resources: {},
    admin: true,
  },
  admin_rotate_secret: {
    summary: "rotate the keyset's secret key; the old one stays accepted for an overlap window (POST /v1/admin/{sub}/secret/rotate)",
    resources: {},
    admin: true,
  },
} as const satisfies Record<string, OperationSpec>;

export type Operation = keyof typeof OPERATION_TABLE;

/** The table, typed by spec so every field (`admin`, `keyset`) reads the same for each operation. */
export const OPERATIONS: Readonly<Record<Operation, OperationSpec>> = OPERATION_TABLE;

export interface OperationResources {
  channels?: readonly string[];
  groups?: readonly string[];
  uuids?: readonly string[];
}

const KINDS: readonly ResourceKind[] = ['channels', 'groups', 'uuids'];

export function isOperation(name: string): name is Operation {
  return Object.hasOwn(OPERATIONS, name);
}

export function operationSpec(operation: Operation): OperationSpec {
  const spec: OperationSpec | undefined = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  // Deny by default: an operation missing from the table is a programming error, not "no rules".
  if (spec === undefined) throw new ParleyError('INTERNAL', `unknown operation "${String(operation)}"`);
  return spec;
}

export function isAdminOperation(operation: Operation): boolean {
  return operationSpec(operation).admin === true;
}

/**
 * What `operation` on these resources needs, deduplicated, in input order. Throws
 * ParleyError('INTERNAL') when a route passes a resource kind the operation does not take, so a
 * wiring mistake fails loudly in tests instead of silently skipping a check.
 */
export function requirementsFor(operation: Operation, resources: OperationResources = {}): Requirement[] {
  const spec = operationSpec(operation);
  const out: Requirement[] = [];
  for (const kind of KINDS) {
    const names = resources[kind];
    if (names === undefined || names.length === 0) continue;
    const perm = spec.resources[kind];
    if (perm === undefined) {
      throw new ParleyError('INTERNAL', `operation "${operation}" takes no ${kind}`);
    }
    if (perm === 0) continue;
    const seen = names.length > 1 ? new Set<string>() : undefined;
    for (const name of names) {
      if (seen) {
        if (seen.has(name)) continue;
        seen.add(name);
      }
      out.push({ kind, name, perm });
    }
  }
  if (spec.keyset) out.push({ kind: spec.keyset.kind, name: KEYSET_LEVEL, perm: spec.keyset.perm });
  return out;
}

/** Requirements plus the admin flag: everything an AccessRequest needs from the route. */
export function accessFor(operation: Operation, resources: OperationResources = {}): { requirements: Requirement[]; adminOnly: boolean } {
  return { requirements: requirementsFor(operation, resources), adminOnly: isAdminOperation(operation) };
}
