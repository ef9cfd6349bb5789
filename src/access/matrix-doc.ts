/** docs/access-matrix.md, rendered from enforcement.OPERATIONS (the single source). */
import { OPERATIONS, type OperationSpec } from './enforcement.ts';
import { describePermissions } from './permissions.ts';
import type { ResourceKind } from './types.ts';

const KIND_LABEL: Readonly<Record<ResourceKind, string>> = { channels: 'channel', groups: 'channel group', uuids: 'uuid' };

function needs(spec: OperationSpec): string {
  if (spec.admin) return 'valid secret-key signature (§9); grants and tokens do not apply';
  const parts: string[] = [];
  for (const kind of ['channels', 'groups', 'uuids'] as const) {
    const perm = spec.resources[kind];
    if (perm === undefined) continue;
    parts.push(perm === 0 ? `${KIND_LABEL[kind]}: nothing` : `${describePermissions(perm)} on each ${KIND_LABEL[kind]}`);
  }
  if (spec.keyset) parts.push(`${describePermissions(spec.keyset.perm)} on every ${KIND_LABEL[spec.keyset.kind]} (keyset level)`);
  return parts.length === 0 ? 'nothing (any credential, or none)' : parts.join('; ');
}

export function renderAccessMatrixDoc(): string {
  const rows = Object.entries(OPERATIONS).map(([name, spec]: [string, OperationSpec]) => `| \`${name}\` | ${spec.summary} | ${needs(spec)} |`);
  return [
    '# Access matrix',
    '',
    'Generated from `src/access/enforcement.ts` by `npx tsx scripts/gen-access-matrix.ts`; a unit test fails when it is stale.',
    'Source: wire-protocol.md §8.4 "Operation → required permission" and §7.1. The same bits serve v2 grants',
    '(`r w m d g u j`) and v3 tokens (read 1, write 2, manage 4, delete 8, get 32, update 64, join 128).',
    '',
    'How a requirement is met:',
    '',
    '- **v2 auth key**: a live grant with the bit at subkey level, on the exact name, or on a wildcard `a.*` /',
    "  `a.b.*` whose prefix the name starts with; for the caller's auth key or for every auth key. A request",
    '  without `auth` is met only by grants made for every auth key.',
    '- **v3 token**: an exact `res` entry or a `pat` RegEx (full-string match) with the bit; the token must be',
    "  unexpired, not revoked, and its authorized uuid (if any) must equal the request's `uuid`.",
    '- **keyset level** (list all channel groups, global here-now, list all App Context metadata): a v2',
    '  subkey-level grant, or a v3 pattern that matches every name (`.*`, `^.*$`). Global here-now is not',
    '  filtered down to permitted channels: the caller may read presence everywhere, or gets 403.',
    '- A valid secret-key signature bypasses all of this; a keyset without a secret key has no Access Manager.',
    '- Subscribe checks every channel and group name on its own, so `ch` and `ch-pnpres` need separate grants.',
    '',
    '## Wildcard subscriptions',
    '',
    'A subscribe to `a.*` or `a.b.*` (wire-protocol.md §3.8) is checked twice:',
    '',
    '1. **Opening it** needs `read` on the wildcard name itself, like every other name in the request: a v2',
    '   grant on that wildcard (or at subkey level), or a v3 `res` entry or `pat` pattern that matches the',
    '   literal text `a.*`.',
    "2. **Every message it would deliver** needs `read` on the message's own channel, for the same",
    '   credential and by the rules above (`AccessManager.canRead`). A channel the credential cannot read is',
    "   skipped without an error, and the subscriber's timetoken still moves past it. So a token whose only",
    '   grant is the pattern `^team\\.[^.]+$` may subscribe to `team.*`, and receives `team.a` but never',
    '   `team.hr.salaries`. A v2 grant on `team.*` reads every `team.…` channel, deeper names included, so',
    '   for v2 auth keys the check matters when a grant expires or is withdrawn. The answer for a channel is',
    '   remembered within one long-poll for at most 1 s, and forgotten whenever a grant or revocation is',
    '   made, on this node or another.',
    '3. **Presence events are never delivered through a wildcard** (`X-pnpres` is not matched by `a.*`,',
    '   and `a.*-pnpres` delivers nothing), whatever the grants. Subscribe to `X-pnpres` by name, which',
    '   needs `read` on `X-pnpres`.',
    '4. A channel that the same subscribe also names, or reaches through a channel group, is delivered',
    "   through that name or group under its own check, not judged by the wildcard's.",
    '',
    '## Operations',
    '',
    '| operation | what it is | needs |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
