import PubNub from 'pubnub';
import type { Keyset } from '../../src/keyset.ts';

export type Client = InstanceType<typeof PubNub>;

/** The real SDK pointed at a test server. Every client made here is destroyed by `destroyAll`. */
export function makeClient(origin: string, keyset: Keyset, userId: string, extra: Record<string, unknown> = {}): Client {
  return new PubNub({
    publishKey: keyset.publishKey,
    subscribeKey: keyset.subscribeKey,
    userId,
    origin,
    ssl: false,
    logVerbosity: false,
    ...extra,
  } as ConstructorParameters<typeof PubNub>[0]);
}

/** Records everything a client's listener sees. */
export function record(client: Client) {
  const events = {
    messages: [] as any[],
    signals: [] as any[],
    presence: [] as any[],
    statuses: [] as any[],
    messageActions: [] as any[],
    files: [] as any[],
  };
  client.addListener({
    message: (m: any) => events.messages.push(m),
    signal: (s: any) => events.signals.push(s),
    presence: (p: any) => events.presence.push(p),
    status: (s: any) => events.statuses.push(s),
    messageAction: (a: any) => events.messageActions.push(a),
    file: (f: any) => events.files.push(f),
  });
  return events;
}
