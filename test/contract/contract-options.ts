import type { TestContext } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import type { Config } from '../../src/config/schema.ts';
import { TimetokenGenerator } from '../../src/realtime/timetoken.ts';
import { backendsFromConfig } from '../../src/store/index.ts';
import type { Broker, Stores } from '../../src/store/types.ts';

/** A fresh, empty engine for one test; cleanup closes it and removes whatever it left on disk. */
export interface StoresFixture {
  stores: Stores;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Backend name, shown in the test titles. */
  name: string;
  create: () => Promise<StoresFixture>;
  /** Reason to skip the whole suite (e.g. no Redis reachable); production backends should have none. */
  skip?: string;
}

/** Creates a fresh engine and registers its cleanup on the test. */
export async function freshStores(t: TestContext, options: ContractOptions): Promise<Stores> {
  const fixture = await options.create();
  t.after(() => fixture.cleanup());
  return fixture.stores;
}

/** One node of a deployment as the server builds it: its broker and its own stores (history shared between nodes). */
export interface BrokerNode {
  broker: Broker;
  stores: Stores;
}

/** A fresh deployment for one test; cleanup closes every node and removes whatever they left behind. */
export interface BrokerFixture {
  nodes: BrokerNode[];
  cleanup(): Promise<void>;
}

export interface BrokerContractOptions {
  /** Engine name, shown in the test titles. */
  name: string;
  /** `count` nodes of one fresh deployment, on that clock. Single-node engines are only asked for one. */
  create: (clock: Clock, count: number) => Promise<BrokerFixture>;
  /** Why the tests that need a second node do not run: the engine has one node per deployment. */
  singleNode?: string;
  /** Reason to skip the whole suite; production backends should have none. */
  skip?: string;
}

/** The engine `config` selects, built by backendsFromConfig exactly as app.ts builds it, on a fresh timetoken generator. */
export function nodeFromConfig(config: Pick<Config, 'store' | 'redis' | 'dataDir'>, clock: Clock): BrokerNode & { close(): Promise<void> } {
  const { stores, broker } = backendsFromConfig(config, { clock, timetokens: new TimetokenGenerator(clock) });
  return {
    stores,
    broker,
    close: async () => {
      await broker.close();
      await stores.close();
    },
  };
}
