/**
 * PubNub's Go SDK (github.com/pubnub/go @ e73b2358, 9.0.3). endpoints.go buildURL (L149-273) writes
 * the query itself: values go on the wire RAW (`add=a,b`, `pnsdk=PubNub-Go/9.0.3`, JSON state) except
 * meta, state (set state only), uuid, filter-expr, filter, include and sort, which it URL-encodes
 * after signing; the signature is computed over the raw values (utils/string_utils.go PamEncode).
 * Every request carries the average latency of earlier calls as `l_<op>` (telemetry_manager.go L59).
 * With a secret key: v1 for a POST publish (and for everything when UsePAMV3 is false), otherwise v2
 * with the real method and buildBody() (endpoints.go L178-194, L275-308).
 */
import assert from 'node:assert/strict';
import type { SdkRecord } from '../types.ts';
import { signGo } from '../signing.ts';
import { deliveredAfterHandshake, ok, okObject, published, status, subscribeEnvelope } from '../expect.ts';
import { deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { lenientParse } from '../tokens.ts';

const G = 'pubnub/go';

export const go: SdkRecord = {
  name: 'go',
  repository: 'github.com/pubnub/go@e73b2358524d53b217b90d29e078752ee4b11aed (9.0.3)',
  sign: signGo,
  signsTime: true,
  // endpoints.go defaultQuery L136-147.
  common: [
    ['pnsdk', 'PubNub-Go/9.0.3'],
    ['uuid', '{uuid}'],
  ],
  absent: {
    'publish POST v2': 'no /v2/publish',
    'audit v2': 'no audit call in the Go SDK',
  },
  cases: [
    {
      feature: 'time',
      source: `${G} time_request.go L13; endpoints.go L178 (signed like any request)`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${G} publish_request.go L18, L330-345 (path), L355-395 (meta, store, ttl, seqn, custom_message_type, norep); telemetry l_pub`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22%3A%22hello%22%7D', 'meta=%7B%22k%22%3A%22v%22%7D&store=1&seqn=1&l_pub=0.012'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${G} publish_request.go L19, L300-312 (POST /publish/…/0), L397-423 (body); endpoints.go L182-190 (v1 signature for a POST publish)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1&seqn=2', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"text":"via post"}'),
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${G} fire_request.go L215-232 (store=0, norep=true, seqn)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22%3A1%7D', 'store=0&norep=true&seqn=3'),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      variant: 'UsePost',
      source: `${G} fire_request.go L160-168 (POST /publish/…/0), L198-230, L271-274; endpoints.go L191-192 (v2 signature: method POST and the body, unlike JS)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=0&norep=true&seqn=4', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"f":2}'),
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${G} signal_request.go L19, L140-160`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22%3Atrue%7D', 'seqn=5'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal POST',
      source: `${G} signal_request.go L20, L130-139 (POST /signal/…/0), L162-172 (body), L193-196`,
      request: req('POST', '/signal/{pub}/{sub}/0/{ch}/0', '', { headers: { 'Content-Type': 'application/json' }, body: json('{"typing":false}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${G} subscribe_request.go L13, L156-190 (no tt when 0, heartbeat when >= 4)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'heartbeat=300'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${G} publish_request.go L330-345`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22', 'seqn=6'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${G} subscribe_request.go L164-170 (tt, tr); subscription_manager.go (t.t and p.t parsed as strings)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt={subTt}&tr=1&heartbeat=300'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${G} heartbeat_request.go L13, L133-153 (heartbeat; state as RAW JSON on the wire)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300&state={"{ch}":{"mood":"hb"}}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${G} here_now_request.go L15 ("sub_key"), L164-210 (state=0|1, disable-uuids=0|1 with a hyphen, limit)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}', 'state=0&disable-uuids=0&limit=1000'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(body.uuids.includes(ctx.uuid));
      },
    },
    {
      feature: 'here_now global',
      source: `${G} here_now_request.go L16, L164-170`,
      request: req('GET', '/v2/presence/sub_key/{sub}', 'state=0&disable-uuids=0&limit=1000'),
      expect: (r) => assert.equal(typeof okObject(r).payload.channels, 'object'),
    },
    {
      feature: 'where_now',
      source: `${G} where_now_request.go L14, L100-125`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'set state',
      source: `${G} set_state_request.go L15, L150-162; endpoints.go L203-206 (state URL-encoded after signing)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${G} get_state_request.go L17, L155-165 (channel-group always set, empty when none)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}', 'channel-group='),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'leave',
      source: `${G} leave_request.go L10, L85-95`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${G} history_request.go L17, L180-206`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=100&reverse=false&include_token=true&include_meta=false'),
      expect: (r) => assert.ok(Array.isArray(ok(r)[0])),
    },
    {
      feature: 'fetch v3',
      source: `${G} fetch_request.go L20, L198-230`,
      request: req('GET', '/v3/history/sub-key/{sub}/channel/{ch}', 'max=25&include_meta=false&include_message_type=true&include_uuid=true'),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${G} message_counts_request.go L21, L138-153`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${G} message_actions_add.go L16, L120-140`,
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
      source: `${G} message_actions_get.go L17, L125-140`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(actionData),
    },
    {
      feature: 'message action remove',
      source: `${G} message_actions_remove.go L16, L120-124`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'delete messages',
      source: `${G} history_delete_request.go L12, L128-146`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group add',
      source: `${G} add_channel_channel_group_request.go L12, L130-136 (add joined raw)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch},{ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group list',
      source: `${G} list_all_channel_group_request.go L15`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'channel group remove',
      source: `${G} remove_channel_channel_group_request.go L12, L125-128`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group delete',
      source: `${G} delete_channel_group_request.go L11`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'uuid metadata set',
      source: `${G} objects_set_uuid_metadata.go L16, L200-210 (include comma-separated, URL-encoded), L236-238`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata list',
      source: `${G} objects_get_all_uuid_metadata.go L17, L170-195 (limit always; count=1|0)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'limit=100&count=1&include=custom'),
      expect: (r) => {
        assert.ok(list(r).length >= 1);
        assert.equal(typeof r.json.totalCount, 'number');
      },
    },
    {
      feature: 'uuid metadata list',
      variant: 'count=0',
      source: `${G} objects_get_all_uuid_metadata.go L182-186`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'limit=100&count=0'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${G} objects_manage_memberships_v2.go L17, L185-210`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'limit=100&count=0', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"set":[{"channel":{"id":"{ch}"}}],"delete":[]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'uuid metadata remove',
      source: `${G} objects_remove_uuid_metadata.go`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${G} files_send_file.go L17, L200-250, L266-300 (status, data, file_upload_request)`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"note.txt"}'),
      }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${G} files_send_file_to_s3.go L115-145 (fields in order, Content-Type field replaced by the sniffed type, file part application/octet-stream), L181-183 (POSTFORM: no query); files_send_file.go L298-302 (only 204 is success)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', fileContentType: 'application/octet-stream' } },
      expect: (r) => status(r, 204),
    },
    {
      feature: 'file publish',
      source: `${G} publish_file_message.go L19, L300-372 (message {"message":{"text":…},"file":{…}}), L378-410`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22message%22%3A%7B%22text%22%3A%22hi%22%7D%2C%22file%22%3A%7B%22id%22%3A%22{fileId}%22%2C%22name%22%3A%22{fileName}%22%7D%7D',
        'store=1&seqn=7',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file publish',
      variant: 'UsePost',
      source: `${G} publish_file_message.go L20, L290-299 (POST /v1/files/publish-file/…/0), L412-423`,
      request: req('POST', '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0', 'store=1&seqn=8', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"file":{"id":"{fileId}","name":"{fileName}"},"message":{"text":"hi"}}'),
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${G} files_list_files.go L17, L120-130`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((f) => f.id === ctx.fileId)),
    },
    {
      feature: 'file download',
      source: `${G} files_download_file.go L14, L150-195 (net/http follows the redirect)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location);
        else assert.equal(r.text, ctx.fileText);
      },
    },
    {
      feature: 'file delete',
      source: `${G} files_delete_file.go L16, L150-152`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'grant v2',
      source: `${G} grant_request.go L16, L230-300 (every bit sent)`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'channel={ch}&auth=auth-a&r=1&w=1&m=0&d=0&g=0&u=0&j=0&ttl=60'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'grant token',
      source: `${G} grant_token_request.go L13, L400-420 (body), L540-565 (data.token); grant_common.go L181-199 (GetPermissions re-pads), L351-365`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"resources":{"channels":{"{ch}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{},"uuid":"{uuid}"}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void lenientParse(grantedToken(r)),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
        ctx.tokenInPath = encodeURIComponent(ctx.token);
      },
    },
    {
      feature: 'token use',
      source: `${G} endpoints.go L172-176 (auth = the token)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}&seqn=9'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${G} revoke_token.go L14, L100-113 (URLEncode(token) in the path)`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{tokenInPath}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(`${G} request.go L340-360 (errors 400, 403, 500 from the status and body)`, req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22', 'seqn=10')),
  ],
};
