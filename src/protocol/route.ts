import type { Config } from '../config/schema.ts';
import type { ErrorFamily } from './error-response.ts';
import type { RequestContext } from './request.ts';
import type { Services } from './services.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Segments; `:name` captures one raw segment. */
  path: string;
  family: ErrorFamily;
  /** The `service` field of generic error bodies. */
  service: string;
  /** Largest request body this route reads, bytes, before Content-Encoding is undone; default 1 MiB. */
  maxBodyBytes?: (config: Config) => number;
  handler: (ctx: RequestContext, s: Services) => Promise<void>;
}

interface Compiled {
  route: Route;
  segments: string[];
}

/** Matches raw paths segment by segment; literal segments win over captures at equal length. */
export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  }

  match(method: string, rawPath: string): { route: Route; params: Record<string, string> } | { route: null; pathMatched: boolean } {
    const parts = rawPath.split('/').slice(1);
    let pathMatched = false;
    for (const { route, segments } of this.compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i];
        if (seg.startsWith(':')) {
          if (parts[i] === '') {
            ok = false;
            break;
          }
          params[seg.slice(1)] = parts[i];
        } else if (seg !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    return { route: null, pathMatched };
  }
}
