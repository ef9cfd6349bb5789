import { Chat } from '@pubnub/chat';
import { PAM_KEYSET } from './start-server.ts';
import type { Client } from './clients.ts';

/** Every channel permission, for tokens of Chat SDK users who may do everything on their channels. */
export const ALL_CHANNEL_PERMISSIONS = { read: true, write: true, get: true, update: true, join: true, manage: true, delete: true };

/** A Chat SDK user's token from a server-side grant: own uuid writable, every channel, every uuid readable. */
export function chatUserToken(admin: Client, userId: string): Promise<string> {
  return admin.grantToken({
    ttl: 60,
    authorized_uuid: userId,
    resources: { uuids: { [userId]: { get: true, update: true, delete: true } } },
    patterns: { channels: { '.*': ALL_CHANNEL_PERMISSIONS }, uuids: { '.*': { get: true } } },
  });
}

/** PubNub's Chat SDK, unchanged, pointed at a Parley test server with a token as its auth key. */
export function chatFor(origin: string, userId: string, token: string, config: Record<string, unknown> = {}): Promise<Chat> {
  return Chat.init({
    publishKey: PAM_KEYSET.publishKey,
    subscribeKey: PAM_KEYSET.subscribeKey,
    userId,
    origin,
    ssl: false,
    authKey: token,
    ...config,
  } as Parameters<typeof Chat.init>[0]);
}
