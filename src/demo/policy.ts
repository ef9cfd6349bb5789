import { createRequire } from 'node:module';
import type { Config } from '../config/schema.ts';

/**
 * Whether `npm start` runs the demo. Its app server hands any visitor a working token and v2 grants on
 * demo.channel, so by default ("auto") it runs only on the demo keyset, i.e. when no keyset is
 * configured. `true` runs it on configured keysets too, with a warning for the operator.
 */
export function demoPolicy(config: Pick<Config, 'demo' | 'keysets'>): { enabled: boolean; warning: string | null } {
  const { enabled } = config.demo;
  if (enabled === false) return { enabled: false, warning: null };
  const onDemoKeyset = config.keysets.length === 0;
  if (enabled === 'auto') return { enabled: onDemoKeyset, warning: null };
  return {
    enabled: true,
    warning: onDemoKeyset
      ? null
      : `the demo is enabled on a configured keyset: its app server grants any visitor read+write on "${config.demo.channel}" (set demo.enabled / PARLEY_DEMO_ENABLED to auto or false)`,
  };
}

/** The demo's packages: the SDK its app server uses, and the browser build of it the page loads. */
const DEMO_SDK_ENTRIES = ['pubnub', 'pubnub/dist/web/pubnub.min.js'];

/**
 * Whether the demo's SDK (the `pubnub` package, a dev dependency) is installed. A production install
 * (`npm ci --omit=dev`) leaves it out, and the server then runs without the demo; this module imports
 * nothing of the demo, so asking never loads it.
 */
export function isDemoSdkInstalled(): boolean {
  const require = createRequire(import.meta.url);
  try {
    for (const entry of DEMO_SDK_ENTRIES) require.resolve(entry);
    return true;
  } catch {
    return false;
  }
}
