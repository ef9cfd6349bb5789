import { sendJson } from '../request.ts';
import type { Route } from '../route.ts';

export const timeRoutes: Route[] = [
  {
    method: 'GET',
    path: '/time/0',
    family: 'generic',
    service: 'Time',
    // §10: one number, never signed or authorized.
    handler: async (ctx, s) => sendJson(ctx.res, 200, `[${s.timetokens.now()}]`),
  },
  {
    method: 'GET',
    path: '/health',
    family: 'generic',
    service: 'Health',
    handler: async (ctx, s) =>
      sendJson(ctx.res, 200, JSON.stringify({ status: 'ok', parked: s.hub.parkedCount(), keysets: s.keysets.size })),
  },
  {
    method: 'GET',
    path: '/metrics',
    family: 'generic',
    service: 'Metrics',
    handler: async (ctx, s) => sendJson(ctx.res, 200, s.metrics.render(), 'text/plain; version=0.0.4'),
  },
];
