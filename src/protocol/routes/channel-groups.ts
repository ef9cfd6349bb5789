import { ParleyError } from '../../errors.ts';
import { checkChannels } from '../guard.ts';
import { decodeComponent, queryList, sendJson, type RequestContext } from '../request.ts';
import { guarded, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';

/** What the channel-group routes use (route.ts). */
export type ChannelGroupDeps = Pick<Services, 'config' | 'groups'>;

const OK = '{"status":200,"message":"OK","service":"channel-registry","error":false}';

function groupOf(ctx: RequestContext, s: ChannelGroupDeps): string {
  const group = decodeComponent(ctx.params.group, 'channel group');
  checkChannels(s, [group], 'channel group');
  if (group.endsWith('-pnpres')) throw new ParleyError('INVALID_CHANNEL', 'a channel group name may not end with -pnpres');
  return group;
}

interface ModifyParams {
  group: string;
  add: string[];
  remove: string[];
}

/** §6: add, remove or list, chosen by the `add` / `remove` parameters. */
function parseModify(ctx: RequestContext, s: ChannelGroupDeps): Parsed<ModifyParams> {
  const group = groupOf(ctx, s);
  const add = queryList(ctx.query, 'add');
  const remove = queryList(ctx.query, 'remove');
  if (add.length && remove.length) throw new ParleyError('INVALID_PARAM', 'add and remove cannot be combined');
  if (add.length > s.config.limits.maxChannelsPerGroup || remove.length > s.config.limits.maxChannelsPerGroup) {
    throw new ParleyError('INVALID_PARAM', `a channel group holds at most ${s.config.limits.maxChannelsPerGroup} channels`);
  }
  checkChannels(s, [...add, ...remove], 'channel');
  const operation = add.length ? 'add_channels_to_group' : remove.length ? 'remove_channels_from_group' : 'list_channels_in_group';
  return { value: { group, add, remove }, checks: [{ operation, resources: { groups: [group] } }] };
}

async function modifyOrList(ctx: RequestContext, s: ChannelGroupDeps, { group, add, remove }: ModifyParams, { keyset }: Granted): Promise<void> {
  if (add.length) {
    // The cap is checked by the store in the same atomic step as the add (concurrent adds cannot pass it).
    const count = await s.groups.add(keyset.subscribeKey, group, add, s.config.limits.maxChannelsPerGroup);
    if (count === null) throw new ParleyError('INVALID_PARAM', `a channel group holds at most ${s.config.limits.maxChannelsPerGroup} channels`);
    sendJson(ctx.res, 200, OK);
  } else if (remove.length) {
    await s.groups.remove(keyset.subscribeKey, group, remove);
    sendJson(ctx.res, 200, OK);
  } else {
    const channels = await s.groups.list(keyset.subscribeKey, group);
    sendJson(ctx.res, 200, JSON.stringify({ status: 200, payload: { group, channels }, service: 'channel-registry', error: false }));
  }
}

export const channelGroupRoutes: Route<ChannelGroupDeps>[] = [
  guarded({
    method: 'GET',
    path: '/v1/channel-registration/sub-key/:sub/channel-group',
    family: 'generic',
    service: 'channel-registry',
    operation: 'list_groups',
    parse: () => ({ value: undefined, resources: {} }),
    handler: async (ctx, s, _v, { keyset }) => {
      const groups = await s.groups.listGroups(keyset.subscribeKey);
      sendJson(ctx.res, 200, JSON.stringify({ status: 200, payload: { sub_key: keyset.subscribeKey, groups }, service: 'channel-registry', error: false }));
    },
  }),
  guarded({
    method: 'GET',
    path: '/v1/channel-registration/sub-key/:sub/channel-group/:group',
    family: 'generic',
    service: 'channel-registry',
    operation: ['add_channels_to_group', 'remove_channels_from_group', 'list_channels_in_group'],
    parse: parseModify,
    handler: modifyOrList,
  }),
  guarded({
    method: 'GET',
    path: '/v1/channel-registration/sub-key/:sub/channel-group/:group/remove',
    family: 'generic',
    service: 'channel-registry',
    operation: 'delete_group',
    parse: (ctx, s) => {
      const group = groupOf(ctx, s);
      return { value: group, resources: { groups: [group] } };
    },
    handler: async (ctx, s, group, { keyset }) => {
      await s.groups.delete(keyset.subscribeKey, group);
      sendJson(ctx.res, 200, OK);
    },
  }),
];
