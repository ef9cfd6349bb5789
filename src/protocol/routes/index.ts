import type { Route } from '../route.ts';
import { accessRoutes } from './access.ts';
import { adminRoutes } from './admin.ts';
import { channelGroupRoutes } from './channel-groups.ts';
import { fileRoutes } from './files.ts';
import { historyRoutes } from './history.ts';
import { messageActionRoutes } from './message-actions.ts';
import { objectRoutes } from './objects.ts';
import { presenceRoutes } from './presence.ts';
import { publishRoutes } from './publish.ts';
import { subscribeRoutes } from './subscribe.ts';
import { timeRoutes } from './time.ts';

/** Every route of the PubNub surface, each with its declared access (route.ts). */
export const allRoutes: readonly Route[] = [
  ...timeRoutes,
  ...publishRoutes,
  ...subscribeRoutes,
  ...presenceRoutes,
  ...historyRoutes,
  ...messageActionRoutes,
  ...fileRoutes,
  ...channelGroupRoutes,
  ...accessRoutes,
  ...adminRoutes,
  ...objectRoutes,
];
