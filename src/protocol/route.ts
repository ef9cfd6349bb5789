import type { Config } from '../config/schema.ts';
import type { Keyset } from '../keyset.ts';
import type { Operation, OperationResources } from '../access/enforcement.ts';
import type { Credential, Requirement } from '../access/types.ts';
import type { ErrorFamily } from './error-response.ts';
import type { RequestContext } from './request.ts';
import type { Services } from './services.ts';

/**
 * Routes declare their access; the server enforces it. A route is either public, with the reason it
 * needs no credential, or guarded: it names the operations of the enforcement table it may perform
 * and parses, from the path and query (the body only when it says so), the resources each is
 * checked on. The server resolves the keyset, runs every check through the Access Manager and only
 * then reads the body (unless a signature must cover it) and calls the handler. A handler is never
 * reached by a request the Access Manager refused, and admin-only comes from the operation table.
 *
 * Routes also declare their dependencies: `D` is what a route family's parse and handlers may use,
 * a part of Services (a `Pick`), so a handler cannot reach what its family did not declare. The
 * server hands every route the whole Services; `Route<D>` is assignable to `Route` (= Route<Services>)
 * only when Services has everything D names, because the functions that take D are properties
 * (checked contravariantly under strictFunctionTypes), so routes/index.ts checks every family.
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface RouteBase {
  readonly method: Method;
  /** Segments; `:name` captures one raw segment. */
  readonly path: string;
  readonly family: ErrorFamily;
  /** The `service` field of generic error bodies. */
  readonly service: string;
  /** Largest request body this route reads, bytes, before Content-Encoding is undone; default 1 MiB. */
  readonly maxBodyBytes?: (config: Config) => number;
}

/** One check the server runs before the handler. */
export interface AccessCheck {
  readonly operation: Operation;
  readonly resources: OperationResources;
}

/** What an allowed request proved, and what it needed (kept by parked polls for re-checks). */
export interface Granted {
  readonly keyset: Keyset;
  readonly credential: Credential;
  readonly requirements: readonly Requirement[];
}

export interface PublicRoute<D = Services> extends RouteBase {
  readonly access: { readonly public: string };
  /**
   * The handler reads `ctx.req` itself (the file upload streams its form, authorizing before the file
   * part): the server reads no body for it, and `maxBodyBytes` is the handler's to enforce.
   */
  readonly readsOwnBody?: boolean;
  readonly handler: (ctx: RequestContext, s: D) => Promise<void>;
}

export interface GuardedRoute<D = Services> extends RouteBase {
  readonly access: {
    /** Every operation this route may ask for; a check naming another one is a wiring error (500). */
    readonly operations: readonly Operation[];
    /** The checks depend on the body (read before authorizing, within the route's body limit). */
    readonly readsBody: boolean;
  };
  /** Parses what the checks need; `run` is called only after every check allowed. */
  readonly prepare: (ctx: RequestContext, s: D, keyset: Keyset) => Prepared;
}

export interface Prepared {
  readonly checks: readonly AccessCheck[];
  readonly run: (granted: Granted) => Promise<void>;
}

/** A route of a family that uses `D`; plain `Route` is one the server can call with the whole Services. */
export type Route<D = Services> = PublicRoute<D> | GuardedRoute<D>;

export function isGuarded<D>(route: Route<D>): route is GuardedRoute<D> {
  return 'operations' in route.access;
}

/** What `parse` hands back: the resources of the route's one operation, or explicit checks. */
export type Parsed<V> = { readonly value: V; readonly resources: OperationResources } | { readonly value: V; readonly checks: readonly AccessCheck[] };

export interface GuardedDefinition<V, D = Services> extends RouteBase {
  /** The operation, or every operation the route may perform (then `parse` returns `checks`). */
  readonly operation: Operation | readonly Operation[];
  readonly readsBody?: boolean;
  /** Validates the request's names and parameters (400s come before 403s) and names the resources. */
  readonly parse: (ctx: RequestContext, s: D, keyset: Keyset) => Parsed<V>;
  readonly handler: (ctx: RequestContext, s: D, value: V, granted: Granted) => Promise<void>;
}

function baseOf(def: RouteBase): RouteBase {
  return { method: def.method, path: def.path, family: def.family, service: def.service, maxBodyBytes: def.maxBodyBytes };
}

export function guarded<V, D>(def: GuardedDefinition<V, D>): GuardedRoute<D> {
  const operations: readonly Operation[] = typeof def.operation === 'string' ? [def.operation] : def.operation;
  const single = typeof def.operation === 'string' ? def.operation : undefined;
  return {
    ...baseOf(def),
    access: { operations, readsBody: def.readsBody === true },
    prepare(ctx, s, keyset) {
      const parsed = def.parse(ctx, s, keyset);
      const checks: readonly AccessCheck[] =
        'checks' in parsed ? parsed.checks : single !== undefined ? [{ operation: single, resources: parsed.resources }] : [];
      return { checks, run: (granted) => def.handler(ctx, s, parsed.value, granted) };
    },
  };
}

export function publicRoute<D>(
  def: RouteBase & { readonly why: string; readonly handler: PublicRoute<D>['handler']; readonly readsOwnBody?: boolean },
): PublicRoute<D> {
  return {
    ...baseOf(def),
    readsOwnBody: def.readsOwnBody,
    access: { public: def.why },
    handler: def.handler,
  };
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
