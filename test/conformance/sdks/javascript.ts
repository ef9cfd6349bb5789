/**
 * The JavaScript SDK, the reference (node_modules/pubnub 12.0.3, src/ paths below, and the captures
 * in wire-protocol.md §12). Every value is the wire text the SDK produces (encodeString, §1.1).
 */
import assert from 'node:assert/strict';
import type { SdkRecord } from '../types.ts';
import { signJavaScript, signJavaScriptFileUrl } from '../signing.ts';
import { deliveredAfterHandshake, denied, ok, okObject, okService, published, status, subscribeEnvelope, jsonType } from '../expect.ts';
import { deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { lenientParse } from '../tokens.ts';

const S = 'pubnub/javascript (npm pubnub 12.0.3) src/core/endpoints';
const MSG = '%7B%22text%22%3A%22hello%22%7D';

export const javascript: SdkRecord = {
  name: 'javascript',
  repository: 'npm pubnub@12.0.3 (node_modules/pubnub/src)',
  sign: signJavaScript,
  signsTime: false,
  // transport/middleware.ts PubNubMiddleware.request: uuid, requestid, pnsdk (and auth when set).
  common: [
    ['uuid', '{uuid}'],
    ['requestid', '{requestid}'],
    ['pnsdk', 'PubNub-JS-Nodejs%2F12.0.3'],
  ],
  absent: {
    'publish POST v2': 'no /v2/publish in npm pubnub 12',
    'signal POST': 'signal is GET only',
  },
  cases: [
    {
      feature: 'time',
      source: `${S}/time.ts L48-50; wire-protocol.md §10`,
      request: req('GET', '/time/0'),
      expect: (r) => {
        const body = ok(r);
        assert.ok(Array.isArray(body) && typeof body[0] === 'number');
      },
    },
    {
      feature: 'publish GET',
      source: `${S}/publish.ts L170-190`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`, 'store=1&meta=%7B%22k%22%3A%22v%22%7D&custom_message_type=chat-msg'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${S}/publish.ts L192-200; transport/node-transport.ts (deflate); wire-protocol.md §2.2`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1', {
        headers: { 'Content-Type': 'application/json' },
        body: { kind: 'zlib', text: '{"text":"via post"}', contentEncoding: 'deflate' },
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${S}/fire.ts; wire-protocol.md §2.3`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22%3A1%7D', 'store=0&norep=true'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${S}/signal.ts L97-106`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22%3Atrue%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${S}/subscribe.ts L915-945 (event engine: ee, no tt); wire-protocol.md §12.3`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'ee='),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${S}/publish.ts L170-190`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${S}/subscribe.ts L924-945 (tt, tr)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'ee=&tt={subTt}&tr=1'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${S}/presence/heartbeat.ts L80-100`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300'),
      expect: (r) => void okService(r),
    },
    {
      feature: 'here_now',
      source: `${S}/presence/here_now.ts L159-225 (single-channel shape: occupancy, uuids)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}', 'limit=1000'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.equal(typeof body.occupancy, 'number');
        assert.ok(Array.isArray(body.uuids));
        assert.ok(body.uuids.includes(ctx.uuid));
      },
    },
    {
      feature: 'here_now global',
      source: `${S}/presence/here_now.ts L159-198 (payload.total_channels, payload.channels)`,
      request: req('GET', '/v2/presence/sub-key/{sub}'),
      expect: (r) => {
        const body = okObject(r);
        assert.equal(typeof body.payload?.total_channels, 'number');
        assert.equal(typeof body.payload?.channels, 'object');
      },
    },
    {
      feature: 'where_now',
      source: `${S}/presence/where_now.ts L78-93`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(body.payload.channels.includes(ctx.ch));
      },
    },
    {
      feature: 'set state',
      source: `${S}/presence/set_state.ts L92-110`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => {
        const body = okObject(r);
        assert.deepEqual(body.payload, { mood: 'ok' });
      },
    },
    {
      feature: 'get state',
      source: `${S}/presence/get_state.ts L88-110`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => {
        const body = okObject(r);
        assert.deepEqual(body.payload, { mood: 'ok' });
      },
    },
    {
      feature: 'leave',
      source: `${S}/presence/leave.ts L89-96`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okService(r),
    },
    {
      feature: 'history v2',
      source: `${S}/history/get_history.ts L159-190`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=10&include_token=true&reverse=false&include_meta=true'),
      expect: (r) => {
        const body = ok(r);
        assert.ok(Array.isArray(body) && Array.isArray(body[0]) && body[0].length > 0);
        assert.ok('message' in body[0][0] && 'timetoken' in body[0][0]);
      },
    },
    {
      feature: 'fetch v3',
      source: `${S}/fetch_messages.ts L256-290`,
      request: req('GET', '/v3/history/sub-key/{sub}/channel/{ch}', 'max=25&include_meta=true&include_uuid=true&include_message_type=true'),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${S}/history/message_counts.ts L105-120`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(body.channels[ctx.ch] >= 1);
      },
    },
    {
      feature: 'message action add',
      source: `${S}/actions/add_message_action.ts L81-100`,
      request: req('POST', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"type":"reaction","value":"smiley"}'),
      }),
      expect: (r) => actionData(okObject(r).data),
      save: (r, ctx) => {
        ctx.actionTt = String(r.json.data.actionTimetoken);
      },
    },
    {
      feature: 'message actions get',
      source: `${S}/actions/get_message_actions.ts L90-110`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => {
        const body = okObject(r);
        assert.ok(Array.isArray(body.data) && body.data.length > 0);
        body.data.forEach(actionData);
      },
    },
    {
      feature: 'fetch with actions',
      source: `${S}/fetch_messages.ts L256-265 (history-with-actions)`,
      request: req('GET', '/v3/history-with-actions/sub-key/{sub}/channel/{ch}', 'max=25&include_uuid=true&include_message_type=true'),
      expect: (r, ctx) => {
        const items = fetched(r, ctx.ch);
        assert.ok(items.some((m) => m.actions?.reaction?.smiley?.length === 1));
      },
    },
    {
      feature: 'message action remove',
      source: `${S}/actions/remove_message_action.ts L78-90`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'delete messages',
      source: `${S}/history/delete_messages.ts L74-95`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group add',
      source: `${S}/channel_groups/add_channels.ts L88-100`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch}%2C{ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group list',
      source: `${S}/channel_groups/list_channels.ts L80-102`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.deepEqual([...body.payload.channels].sort(), [ctx.ch, ctx.ch2].sort());
      },
    },
    {
      feature: 'channel group list all',
      source: `${S}/channel_groups/list_groups.ts L80-95`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.groups.includes(ctx.cg)),
    },
    {
      feature: 'channel group remove',
      source: `${S}/channel_groups/remove_channels.ts L89-100`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group delete',
      source: `${S}/channel_groups/delete_group.ts L81-88`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata set',
      source: `${S}/objects/uuid/set.ts L70-95`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=status%2Ctype%2Ccustom', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata get',
      source: `${S}/objects/uuid/get.ts L68-90`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}', 'include=status%2Ctype%2Ccustom'),
      expect: (r, ctx) => assert.deepEqual(objectData(r, ctx.uuid).custom, { team: 'blue' }),
    },
    {
      feature: 'uuid metadata list',
      source: `${S}/objects/uuid/get_all.ts L67-90 (sort repeated, count)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'include=status%2Ctype&count=true&sort=name%3Aasc&sort=updated&limit=100'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'channel metadata set',
      source: `${S}/objects/channel/set.ts L74-95`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}', 'include=status%2Ctype%2Ccustom', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"Room","description":"d"}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.ch).name, 'Room'),
    },
    {
      feature: 'channel metadata get',
      source: `${S}/objects/channel/get.ts L65-80`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}', 'include=status%2Ctype'),
      expect: (r, ctx) => void objectData(r, ctx.ch),
    },
    {
      feature: 'channel metadata list',
      source: `${S}/objects/channel/get_all.ts L73-90`,
      request: req('GET', '/v2/objects/{sub}/channels', 'include=status%2Ctype&limit=100'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${S}/objects/membership/set.ts L126-160`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=status%2Ctype%2Cchannel.status%2Cchannel.type&limit=100', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"set":[{"channel":{"id":"{ch}"}}]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'memberships get',
      source: `${S}/objects/membership/get.ts L117-150`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=status%2Ctype%2Cchannel.status%2Cchannel.type&count=true&limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'members set',
      source: `${S}/objects/member/set.ts L123-160`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=status%2Ctype%2Cuuid.status%2Cuuid.type&limit=100', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"set":[{"uuid":{"id":"{uuid}"}}]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'members get',
      source: `${S}/objects/member/get.ts L114-150`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=status%2Ctype&limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'channel metadata remove',
      source: `${S}/objects/channel/remove.ts L50-57`,
      request: req('DELETE', '/v2/objects/{sub}/channels/{ch}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata remove',
      source: `${S}/objects/uuid/remove.ts L54-61`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${S}/file_upload/generate_upload_url.ts L134-160`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"note.txt"}'),
      }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${S}/file_upload/upload-file.ts L61-100 (form fields by key, then file); transport/node-transport.ts (FormData)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', fileContentType: 'text/plain' } },
      expect: (r) => assert.ok(r.status >= 200 && r.status < 300, `upload answered ${r.status}`),
    },
    {
      feature: 'file publish',
      source: `${S}/file_upload/publish_file.ts L85-120`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22message%22%3A%7B%22hi%22%3A1%7D%2C%22file%22%3A%7B%22id%22%3A%22{fileId}%22%2C%22name%22%3A%22{fileName}%22%7D%7D',
        'store=1',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${S}/file_upload/list_files.ts L86-99`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => {
        const files = list(r);
        const f = files.find((x) => x.id === ctx.fileId);
        assert.ok(f, 'the uploaded file');
        assert.equal(f.name, ctx.fileName);
        assert.equal(typeof f.size, 'number');
        assert.equal(typeof f.created, 'string');
      },
    },
    {
      feature: 'file download',
      source: `${S}/file_upload/download_file.ts L95-110 (fetch follows redirects: 200 bytes or a 3xx with Location)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location, 'Location');
        else {
          status(r, 200);
          assert.equal(r.text, ctx.fileText);
        }
      },
    },
    {
      feature: 'file url',
      variant: 'getFileUrl, signed LOCAL',
      source:
        'pubnub/javascript src/core/pubnub-common.ts L4403-4420 (transport.request on a LOCAL request: the middleware signs method "LOCAL"); endpoints/file_upload/get_file_url.ts L45',
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      runs: 'signed',
      signer: signJavaScriptFileUrl,
      expect: (r) => assert.ok(r.status === 200 || r.status === 307, `answered ${r.status}: ${r.text.slice(0, 200)}`),
    },
    {
      feature: 'file delete',
      source: `${S}/file_upload/delete_file.ts L62-75`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'grant v2',
      source: `${S}/access_manager/grant.ts L144-190; wire-protocol.md §12.1`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'channel={ch}&auth=auth-a&r=1&w=1&m=0&d=0&g=0&j=0&u=0&ttl=60'),
      runs: 'signed',
      expect: (r) => {
        const body = okObject(r);
        assert.equal(body.payload?.ttl, 60);
        assert.equal(typeof body.payload?.level, 'string');
      },
    },
    {
      feature: 'audit v2',
      source: `${S}/access_manager/audit.ts L90-100`,
      request: req('GET', '/v2/auth/audit/sub-key/{sub}', 'channel={ch}&auth=auth-a'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'grant token',
      source: `${S}/access_manager/grant_token.ts L150-200; transport parse of data.token; core/components/token_manager.ts (parseToken)`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"uuid":"{uuid}","resources":{"channels":{"{ch}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void lenientParse(grantedToken(r)),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
      },
    },
    {
      feature: 'token use',
      source: 'wire-protocol.md §8.4 (auth=<token> verbatim, setToken)',
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${S}/access_manager/revoke_token.ts L81-88`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{token}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    {
      feature: 'token use',
      variant: 'after revoke: 403',
      source: 'wire-protocol.md §1.5, §8.2',
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => {
        denied(r);
        jsonType(r);
      },
    },
    deniedCase(`${S}/publish.ts L170-190; errors/pubnub-api-error.ts; wire-protocol.md §1.5`, req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`)),
  ],
};
