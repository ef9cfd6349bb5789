import type { Keyset } from './keyset.ts';
import type { Fallback } from './protocol/server.ts';
import type { Services } from './protocol/services.ts';
import { createLifecycle } from './app/lifecycle.ts';
import { wire, type WiringOptions } from './app/wiring.ts';

/** config and log; optionally a clock, stores built by the caller (tests, other engines) and extra HTTP handlers (the demo). */
export type ParleyOptions = WiringOptions;

/** One node, built by createParley and serving between start() and stop(). */
export interface Parley {
  /** What the routes use: readiness, the hub, the config and every service. */
  readonly services: Services;
  /** The keysets served; a runtime secret rotation updates them in place. */
  readonly keysets: readonly Keyset[];
  /** No keyset was configured: the demo keyset serves. */
  readonly usingDemoKeyset: boolean;
  /** Opens the backends, the access mirrors and the listener; resolves with the port bound and a URL to reach it. */
  start(): Promise<{ port: number; url: string }>;
  /** The graceful stop (app/lifecycle.ts): the reverse of start, and it closes the stores even if start() never ran. */
  stop(): Promise<void>;
  /** An HTTP handler tried after the routes, served at once (also while running). */
  addFallback(fb: Fallback): void;
}

/**
 * The composition root: app/wiring.ts builds and connects every component (the only place, with
 * store/index.ts, that picks implementations), app/lifecycle.ts starts and stops them in order, and
 * app/cluster-sync.ts keeps the node in step with the other nodes and fails closed when it may not be.
 */
export function createParley(options: ParleyOptions): Parley {
  const wiring = wire(options);
  const lifecycle = createLifecycle(wiring);
  return {
    services: wiring.services,
    keysets: wiring.keysets,
    usingDemoKeyset: wiring.usingDemoKeyset,
    addFallback: (fb) => wiring.fallbacks.push(fb),
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
  };
}
