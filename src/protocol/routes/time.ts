import { sendJson } from '../request.ts';
import type { Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What time, health and metrics use (route.ts). */
export type TimeDeps = Pick<Services, 'timetokens' | 'ready' | 'hub' | 'keysets' | 'metrics'>;

export const timeRoutes: Route<TimeDeps>[] = [
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
    // Readiness: 200 only while this node can serve (store, broker, access mirrors); 503 with the reason.
    handler: async (ctx, s) => {
      const ready = await s.ready();
      if (ready.ok) sendJson(ctx.res, 200, JSON.stringify({ status: 'ok', parked: s.hub.parkedCount(), keysets: s.keysets.size }));
      else sendJson(ctx.res, 503, JSON.stringify({ status: 'unavailable', reason: ready.reason ?? 'not ready' }));
    },
  },
  {
    method: 'GET',
    path: '/health/live',
    family: 'generic',
    service: 'Health',
    access: { public: 'liveness check: the process answers HTTP; reveals nothing' },
    // Restart the process when this fails; route traffic by /health.
    handler: async (ctx) => sendJson(ctx.res, 200, '{"status":"ok"}'),
  },
  {
    method: 'GET',
    path: '/metrics',
    family: 'generic',
    service: 'Metrics',
    access: { public: 'Prometheus scrape; counts only, no names, keys or payloads' },
    // docs/metrics.md: this server's series and the process's.
    handler: async (ctx, s) => sendJson(ctx.res, 200, await s.metrics.render(), s.metrics.contentType),
  },
];
