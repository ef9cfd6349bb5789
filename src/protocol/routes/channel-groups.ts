import { ParleyError } from '../../errors.ts';
import { authorize, checkChannels, keysetFor } from '../guard.ts';
import { decodeComponent, queryList, sendJson, type RequestContext } from '../request.ts';
import type { Route } from '../route.ts';
import type { Services } from '../services.ts';

const OK = '{"status":200,"message":"OK","service":"channel-registry","error":false}';

function groupOf(ctx: RequestContext, s: Services): string {
  const group = decodeComponent(ctx.params.group, 'channel group');
  checkChannels(s, [group], 'channel group');
  if (group.endsWith('-pnpres')) throw new ParleyError('INVALID_CHANNEL', 'a channel group name may not end with -pnpres');
  return group;
}

/** §6: add, remove or list, chosen by the `add` / `remove` parameters. */
async function modifyOrList(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  const group = groupOf(ctx, s);
  const add = queryList(ctx.query, 'add');
  const remove = queryList(ctx.query, 'remove');
  if (add.length && remove.length) throw new ParleyError('INVALID_PARAM', 'add and remove cannot be combined');
  checkChannels(s, [...add, ...remove], 'channel');
  const operation = add.length ? 'add_channels_to_group' : remove.length ? 'remove_channels_from_group' : 'list_channels_in_group';
  authorize(ctx, s, keyset, operation, { groups: [group] });
  if (add.length) {
    const existing = await s.groups.list(keyset.subscribeKey, group);
    const total = new Set([...existing, ...add]).size;
    if (total > s.config.limits.maxChannelsPerGroup) {
      throw new ParleyError('INVALID_PARAM', `a channel group holds at most ${s.config.limits.maxChannelsPerGroup} channels`);
    }
    await s.groups.add(keyset.subscribeKey, group, add);
    sendJson(ctx.res, 200, OK);
  } else if (remove.length) {
    await s.groups.remove(keyset.subscribeKey, group, remove);
    sendJson(ctx.res, 200, OK);
  } else {
    const channels = await s.groups.list(keyset.subscribeKey, group);
    sendJson(ctx.res, 200, JSON.stringify({ status: 200, payload: { group, channels }, service: 'channel-registry', error: false }));
  }
}

async function deleteGroup(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  const group = groupOf(ctx, s);
  authorize(ctx, s, keyset, 'delete_group', { groups: [group] });
  await s.groups.delete(keyset.subscribeKey, group);
  sendJson(ctx.res, 200, OK);
}

async function listGroups(ctx: RequestContext, s: Services): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  authorize(ctx, s, keyset, 'list_groups', {});
  const groups = await s.groups.listGroups(keyset.subscribeKey);
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, payload: { sub_key: keyset.subscribeKey, groups }, service: 'channel-registry', error: false }));
}

const route = (path: string, handler: Route['handler']): Route => ({ method: 'GET', path, family: 'generic', service: 'channel-registry', handler });

export const channelGroupRoutes: Route[] = [
  route('/v1/channel-registration/sub-key/:sub/channel-group', listGroups),
  route('/v1/channel-registration/sub-key/:sub/channel-group/:group', modifyOrList),
  route('/v1/channel-registration/sub-key/:sub/channel-group/:group/remove', deleteGroup),
];
