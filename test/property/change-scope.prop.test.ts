import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AccessManager } from '../../src/access/access-manager.ts';
import { accessKeyOf, changeConcerns } from '../../src/access/change-scope.ts';
import { requirementsFor } from '../../src/access/enforcement.ts';
import type { AccessChange, Credential, Requirement } from '../../src/access/types.ts';
import { accessRequest, KEYSET_A, startAccess } from '../helpers/access.ts';

/**
 * Soundness of access/change-scope.ts: a parked poll the scoping passes by never has its decision changed
 * by the change. Random v2 grants and withdrawals (one or more channels, one or more auth keys, every auth
 * key), token revocations and kicks go through a real AccessManager; after each, every poll (v2 auth
 * keys, tokens, the secret key; subscribe or publish on small channel names so grants hit them) is
 * decided again, and a decision that moved must belong to a poll the change concerns.
 */

const CHANNELS = ['a', 'b', 'a.x'];
const AUTH_KEYS = ['', 'k1', 'k2'];
const UUIDS = ['u1', 'u2'];

const channel = fc.constantFrom(...CHANNELS, 'a.*');
const v2Grant = fc.record({
  kind: fc.constant('grant' as const),
  channels: fc.uniqueArray(channel, { minLength: 1, maxLength: 2 }),
  auths: fc.uniqueArray(fc.constantFrom(...AUTH_KEYS), { minLength: 1, maxLength: 2 }),
  r: fc.boolean(),
  w: fc.boolean(),
});
const revoke = fc.record({ kind: fc.constant('revoke' as const), token: fc.integer({ min: 0, max: 1 }) });
const kick = fc.record({ kind: fc.constant('kick' as const), uuid: fc.constantFrom(...UUIDS) });
const step = fc.oneof({ weight: 4, arbitrary: v2Grant }, { weight: 1, arbitrary: revoke }, { weight: 1, arbitrary: kick });

interface Poll {
  name: string;
  credential: Credential;
  uuid: string;
  requirements: readonly Requirement[];
}

const decisionOf = (manager: AccessManager, p: Poll): string => {
  const d = manager.recheck(p.credential, KEYSET_A, p.uuid, p.requirements);
  return d.allowed ? 'allowed' : d.code;
};

test('a poll an access change passes by keeps its decision', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
      const { manager, clock } = await startAccess({ keysets: [KEYSET_A] });
      try {
        const changes: AccessChange[] = [];
        manager.onChange((change) => changes.push(change));
        const tokens: string[] = [];
        for (const uuid of UUIDS) {
          tokens.push(await manager.grantToken(KEYSET_A, { ttl: 60, authorized_uuid: uuid, permissions: { resources: { channels: { a: 3, b: 1 } } } }));
        }
        clock.advance(2_000); // past the grant-token second, so a kick in a step refuses them
        const polls: Poll[] = [];
        for (const [i, token] of tokens.entries()) {
          const resolved = manager.check(
            accessRequest(KEYSET_A, { requirements: requirementsFor('subscribe', { channels: ['a'], groups: [] }), params: { auth: token }, uuid: UUIDS[i] }),
          );
          assert.ok(resolved.allowed, 'the token opens its subscription');
          polls.push({
            name: `token ${i}`,
            credential: resolved.credential,
            uuid: UUIDS[i],
            requirements: requirementsFor('subscribe', { channels: ['a'], groups: [] }),
          });
        }
        for (const authKey of AUTH_KEYS) {
          for (const ch of CHANNELS) {
            for (const [op, requirements] of [
              ['subscribe', requirementsFor('subscribe', { channels: [ch], groups: [] })],
              ['publish', requirementsFor('publish', { channels: [ch] })],
            ] as const) {
              polls.push({ name: `${op} ${ch} as '${authKey}'`, credential: { kind: 'authKey', authKey }, uuid: 'u1', requirements });
            }
          }
        }
        polls.push({ name: 'secret', credential: { kind: 'secret' }, uuid: 'u1', requirements: requirementsFor('publish', { channels: ['a'] }) });

        for (const s of steps) {
          const before = polls.map((p) => decisionOf(manager, p));
          changes.length = 0;
          if (s.kind === 'grant') {
            await manager.grantV2(KEYSET_A, {
              channels: s.channels,
              authKeys: s.auths.filter((k) => k !== ''),
              perms: (s.r ? 1 : 0) | (s.w ? 2 : 0),
              ttlMinutes: 5,
            });
          } else if (s.kind === 'revoke') {
            await manager.revokeToken(KEYSET_A, tokens[s.token]);
          } else {
            await manager.kick(KEYSET_A, { uuid: s.uuid, tokens: true, authKeys: [] });
          }
          clock.advance(1_000);
          const concerns = changes.map(changeConcerns);
          polls.forEach((p, i) => {
            const after = decisionOf(manager, p);
            if (after === before[i]) return;
            const key = accessKeyOf(p.credential);
            assert.ok(
              concerns.some((c) => c(key, p.uuid)),
              `${p.name}: ${before[i]} → ${after} after ${JSON.stringify(s)}, which named ${JSON.stringify(changes)}`,
            );
          });
        }
      } finally {
        manager.close();
      }
    }),
    { numRuns: 150 },
  );
});
