import { ParleyError } from '../../errors.ts';
import { authorize, keysetFor } from '../guard.ts';
import { decodeComponent, sendJson, type RequestContext } from '../request.ts';
import type { Route } from '../route.ts';
import type { Services } from '../services.ts';

/** Access Manager endpoints (§7, §8): each one requires a valid secret-key signature. */

async function grantV2(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  authorize(ctx, s, keyset, 'grant', {}, true);
  const payload = await s.admin.grantV2(keyset, ctx.query);
  sendJson(ctx.res, 200, JSON.stringify({ message: 'Success', payload, service: 'Access Manager', status: 200 }));
}

async function auditV2(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  authorize(ctx, s, keyset, 'audit', {}, true);
  const payload = await s.admin.auditV2(keyset, ctx.query);
  sendJson(ctx.res, 200, JSON.stringify({ message: 'Success', payload, service: 'Access Manager', status: 200 }));
}

async function grantToken(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  if (ctx.body.length > s.config.limits.maxMessageBytes) {
    // 400, not 413: the SDK's retry policy re-sends Access Manager calls on 413 for minutes.
    throw new ParleyError('INVALID_PARAM', `grant request is larger than ${s.config.limits.maxMessageBytes} bytes`, {
      details: { details: [{ message: 'Request body too large', location: 'permissions' }] },
    });
  }
  authorize(ctx, s, keyset, 'grant_token', {}, true);
  let body: unknown;
  try {
    body = JSON.parse(ctx.body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'Invalid JSON', { details: { details: [{ message: 'body is not valid JSON', location: 'body' }] } });
  }
  const token = await s.admin.grantToken(keyset, body);
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: { message: 'Success', token }, service: 'Access Manager' }));
}

async function revokeToken(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  authorize(ctx, s, keyset, 'revoke_token', {}, true);
  await s.admin.revokeToken(keyset, decodeComponent(ctx.params.token, 'token'));
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, data: { message: 'Success' }, service: 'Access Manager' }));
}

export const accessRoutes: Route[] = [
  { method: 'GET', path: '/v2/auth/grant/sub-key/:sub', family: 'generic', service: 'Access Manager', handler: grantV2 },
  { method: 'GET', path: '/v2/auth/audit/sub-key/:sub', family: 'generic', service: 'Access Manager', handler: auditV2 },
  { method: 'POST', path: '/v3/pam/:sub/grant', family: 'pam3', service: 'Access Manager', handler: grantToken },
  { method: 'DELETE', path: '/v3/pam/:sub/grant/:token', family: 'pam3', service: 'Access Manager', handler: revokeToken },
];
