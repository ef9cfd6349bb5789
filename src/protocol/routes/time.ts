import { sendJson } from '../request.ts';
import type { Route } from '../route.ts';

export const timeRoutes: Route[] = [
  {
    method: 'GET',
    path: '/time/0',
    family: 'generic',
    service: 'Time',
    access: { public: 'server time: the SDK never signs or authorizes it (§10)' },
    // §10: one number, never signed or authorized.
    handler: async (ctx, s) => sendJson(ctx.res, 200, `[${s.timetokens.now()}]`),
  },
  {
    method: 'GET',
    path: '/health',
    family: 'generic',
    service: 'Health',
    access: { public: 'load-balancer health check; reveals no keyset data' },
    handler: async (ctx, s) =>
      sendJson(ctx.res, 200, JSON.stringify({ status: 'ok', parked: s.hub.parkedCount(), keysets: s.keysets.size })),
  },
  {
    method: 'GET',
    path: '/metrics',
    family: 'generic',
    service: 'Metrics',
    access: { public: 'Prometheus scrape; counts only, no names, keys or payloads' },
    handler: async (ctx, s) => sendJson(ctx.res, 200, s.metrics.render(), 'text/plain; version=0.0.4'),
  },
];
