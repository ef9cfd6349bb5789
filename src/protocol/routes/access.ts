import { ParleyError } from '../../errors.ts';
import { decodeComponent, sendJson, type RequestContext } from '../request.ts';
import { guarded, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/**
 * Access Manager endpoints (§7, §8). Their operations are admin-only in the enforcement table, so the
 * server refuses them before the handler unless the request carries a valid secret-key signature.
 */

/** What the Access Manager routes use (route.ts). */
export type AccessDeps = Pick<Services, 'config' | 'admin'>;

const none = () => ({ value: undefined, resources: {} });

function grantTokenBody(ctx: RequestContext, s: AccessDeps): unknown {
  if (ctx.body.length > s.config.limits.maxMessageBytes) {
    // 400, not 413: the SDK's retry policy re-sends Access Manager calls on 413 for minutes.
    throw new ParleyError('INVALID_PARAM', `grant request is larger than ${s.config.limits.maxMessageBytes} bytes`, {
      details: { details: [{ message: 'Request body too large', location: 'permissions' }] },
    });
  }
  try {
    return JSON.parse(ctx.body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'Invalid JSON', { details: { details: [{ message: 'body is not valid JSON', location: 'body' }] } });
  }
}

export const accessRoutes: Route<AccessDeps>[] = [
  guarded({
    method: 'GET',
    path: '/v2/auth/grant/sub-key/:sub',
    family: 'generic',
    service: 'Access Manager',
    operation: 'grant',
    parse: none,
    handler: async (ctx, s, _v, { keyset }) => {
      const payload = await s.admin.grantV2(keyset, ctx.query);
      sendJson(ctx.res, 200, JSON.stringify({ message: 'Success', payload, service: 'Access Manager', status: 200 }));
    },
  }),
  guarded({
    method: 'GET',
    path: '/v2/auth/audit/sub-key/:sub',
    family: 'generic',
    service: 'Access Manager',
    operation: 'audit',
    parse: none,
    handler: async (ctx, s, _v, { keyset }) => {
      const payload = await s.admin.auditV2(keyset, ctx.query);
      sendJson(ctx.res, 200, JSON.stringify({ message: 'Success', payload, service: 'Access Manager', status: 200 }));
    },
  }),
  guarded({
    method: 'POST',
    path: '/v3/pam/:sub/grant',
    family: 'pam3',
    service: 'Access Manager',
    operation: 'grant_token',
    parse: none,
    handler: async (ctx, s, _v, { keyset }) => {
      const token = await s.admin.grantToken(keyset, grantTokenBody(ctx, s));
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: { message: 'Success', token }, service: 'Access Manager' }));
    },
  }),
  guarded({
    method: 'DELETE',
    path: '/v3/pam/:sub/grant/:token',
    family: 'pam3',
    service: 'Access Manager',
    operation: 'revoke_token',
    parse: (ctx) => ({ value: decodeComponent(ctx.params.token, 'token'), resources: {} }),
    handler: async (ctx, s, token, { keyset }) => {
      await s.admin.revokeToken(keyset, token);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: { message: 'Success' }, service: 'Access Manager' }));
    },
  }),
];
