/**
 * PubNub's Python SDK (github.com/pubnub/python @ 7ac96cda, 10.4.0), read from its source. Facts that
 * shape the wire: the query string is built as `k=v` with values as the endpoint left them
 * (structures.py RequestOptions.query_list L56-66): some pre-encoded with url_encode (quote with
 * safe="~", `+` → %2B), some raw (uuid, include, sort, `add`); json.dumps puts a space after `:`
 * and `,`; pnsdk and uuid are added to every request, auth when set (endpoint.py L199-221); a client
 * holding the secret key signs every request, /time included (endpoint.py L213-214, utils.py
 * sign_request L190-218: v1 for POST /publish, v2 otherwise). The parsers read fields unguarded:
 * a missing key is a KeyError (models/consumer/*).
 */
import assert from 'node:assert/strict';
import type { Reply, SdkRecord } from '../types.ts';
import { signPython } from '../signing.ts';
import { deliveredAfterHandshake, ok, okObject, published, status, subscribeEnvelope, TIMETOKEN } from '../expect.ts';
import { deniedCase, actionData, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { pythonParse } from '../tokens.ts';

const S = 'pubnub/python pubnub/endpoints';
const M = 'pubnub/python pubnub/models';
/** json.dumps({"text": "hello"}) through url_encode. */
const MSG = '%7B%22text%22%3A%20%22hello%22%7D';

/** Python's url_encode: urllib.parse.quote(safe="~"), so `-_.~` and alphanumerics stay, `=` → %3D. */
const pyQuote = (s: string): string => encodeURIComponent(s).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const python: SdkRecord = {
  name: 'python',
  repository: 'github.com/pubnub/python@7ac96cdaf71bc47a8673934b665ffb1c238c0e1d (10.4.0)',
  sign: signPython,
  signsTime: true,
  common: [
    ['pnsdk', 'PubNub-Python%2F10.4.0'],
    ['uuid', '{uuid}'],
  ],
  absent: {
    'publish POST v2': 'no /v2/publish',
    'signal POST': 'signal is GET only (signal.py L54-55)',
    'channel group list all': 'no list-all-groups call in pubnub_core.py',
  },
  cases: [
    {
      feature: 'time',
      source: `${S}/time.py L14-33; ${M}/consumer/time.py (envelope[0])`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${S}/pubsub/publish.py L96-146 (meta: custom_params raw for the signature, encoded_params url_write on the wire); L163-175 int(envelope[2])`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`, 'store=1&meta=%7B%22k%22%3A%20%22v%22%7D'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${S}/pubsub/publish.py L82-94, L128-132, L148-152; endpoint.py L97-107 (Content-type: application/json, no compression by default: pnconfiguration.py L49 should_compress=False)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"text": "via post"}'),
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'publish POST',
      variant: 'should_compress: zlib bytes labelled gzip',
      source: `${S}/endpoint.py L97-100 (Content-Encoding: gzip), L123-126 (zlib.compress(level=2): a zlib stream, not gzip)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1', {
        headers: { 'Content-type': 'application/json' },
        body: { kind: 'zlib', text: '{"text": "compressed"}', contentEncoding: 'gzip' },
      }),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${S}/pubsub/fire.py L72-106 (store=0, norep=1)`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22%3A%201%7D`, 'store=0&norep=1'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${S}/signal.py L39-66`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22%3A%20true%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${S}/pubsub/subscribe.py L74-102; event_engine/effects.py L80 (timetoken(0) → tt=0); models/server/subscribe.py L10-17, L61-72 (asserts t.r and t.t)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt=0'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'subscribe handshake',
      variant: 'with a filter: signed double-encoded',
      source: `${S}/pubsub/subscribe.py L84-85 (filter-expr pre-encoded in custom_params, so sign_request encodes it again: endpoint.py L213-214, utils.py L125-153)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch2}/0', 'tt=0&filter-expr=uuid%20%21%3D%20%27nobody%27'),
      signsEncoded: ['filter-expr'],
      expect: (r) => void subscribeEnvelope(r),
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${S}/pubsub/publish.py L128-146`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${S}/pubsub/subscribe.py L87-91 (tt, tr); event_engine/effects.py L113-121; models/server/subscribe.py L36-58, L107-117 (c, d, f, k, p.t, p.r read unguarded; int(p.t), int(p.r))`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt={subTt}&tr=1'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${S}/presence/heartbeat.py L48-64 (heartbeat=str(presence_timeout), 300 by default)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${S}/presence/here_now.py L59-92 (limit=1000 always); ${M}/consumer/presence.py L13-76 (single: uuids list of str or {uuid,state}; int(occupancy))`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}', 'limit=1000'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(Number.isInteger(body.occupancy));
        assert.ok(body.uuids.some((u: any) => u === ctx.uuid || u?.uuid === ctx.uuid));
      },
    },
    {
      feature: 'here_now global',
      source: `${S}/presence/here_now.py L76-82; ${M}/consumer/presence.py L16-38 (payload.channels, int(total_channels), int(total_occupancy))`,
      request: req('GET', '/v2/presence/sub-key/{sub}', 'limit=1000'),
      expect: (r) => {
        const p = okObject(r).payload;
        assert.ok(Number.isInteger(p.total_channels) && Number.isInteger(p.total_occupancy));
        assert.equal(typeof p.channels, 'object');
      },
    },
    {
      feature: 'where_now',
      source: `${S}/presence/where_now.py L30-47; ${M}/consumer/presence.py L120-130 (payload.channels a list)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'set state',
      source: `${S}/presence/set_state.py L48-93 (state: json.dumps raw for the signature, url_write on the wire; status == 200 → payload, a dict)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%20%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${S}/presence/get_state.py L47-78 (single channel: {ch: payload})`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      variant: 'two channels: payload.channels',
      source: `${S}/presence/get_state.py L70-78 (else envelope["payload"]["channels"]); PubNub's answer recorded in pubnub/python tests/integrational/fixtures/native_sync/state/state_of_multiple_channels.yaml L36-38`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch},{ch2}/uuid/{uuid}'),
      expect: (r, ctx) => {
        const p = okObject(r).payload;
        assert.equal(typeof p.channels, 'object', 'payload.channels');
        assert.deepEqual(p.channels[ctx.ch], { mood: 'ok' });
      },
    },
    {
      feature: 'leave',
      source: `${S}/presence/leave.py L27-52`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${S}/history.py L55-96 (count=100 default); ${M}/consumer/history.py L15-30 ([messages, start, end]; item["message"], item["timetoken"])`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=100&include_token=true&include_meta=true'),
      expect: (r) => {
        const body = ok(r);
        assert.ok(Array.isArray(body[0]) && body[0].length > 0);
        for (const item of body[0]) assert.ok('message' in item && 'timetoken' in item && 'meta' in item);
        assert.ok(1 in body && 2 in body, 'start and end');
      },
    },
    {
      feature: 'fetch v3',
      source: `${S}/fetch_messages.py L103-138; ${M}/consumer/history.py L74-105 (channels, item message/timetoken, uuid, message_type, meta)`,
      request: req('GET', '/v3/history/sub-key/{sub}/channel/{ch}', 'max=25&include_meta=true&include_message_type=true&include_custom_message_type=true'),
      expect: (r, ctx) => {
        const items = ok(r).channels[ctx.ch];
        assert.ok(items.length > 0);
        for (const m of items) {
          assert.ok('message' in m);
          assert.match(String(m.timetoken), TIMETOKEN);
        }
      },
    },
    {
      feature: 'message counts',
      source: `${S}/message_count.py L38-66 (timetoken, or channelsTimetoken joined raw); ${M}/consumer/message_count.py (result["channels"])`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${S}/message_actions/add_message_action.py L36-60 (json.dumps body, envelope["data"]); ${M}/consumer/message_actions.py L1-10`,
      request: req('POST', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}', '', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"type": "reaction", "value": "smiley"}'),
      }),
      expect: (r) => actionData(okObject(r).data),
      save: (r, ctx) => {
        ctx.actionTt = String(r.json.data.actionTimetoken);
      },
    },
    {
      feature: 'message actions get',
      source: `${S}/message_actions/get_message_actions.py L44-80 (limit only when not 100; data list)`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}'),
      expect: (r) => {
        const data = okObject(r).data;
        assert.ok(data.length > 0);
        data.forEach(actionData);
      },
    },
    {
      feature: 'fetch with actions',
      source: `${S}/fetch_messages.py L120-136 (history-with-actions, url_encode(channels[0]))`,
      request: req('GET', '/v3/history-with-actions/sub-key/{sub}/channel/{ch}', 'max=25&include_meta=false&include_message_type=true&include_uuid=true'),
      expect: (r, ctx) => {
        const items = ok(r).channels[ctx.ch];
        assert.ok(items.some((m: any) => m.actions?.reaction));
      },
    },
    {
      feature: 'message action remove',
      source: `${S}/message_actions/remove_message_action.py L29-52`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'delete messages',
      source: `${S}/history_delete.py L29-56`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group add',
      source: `${S}/channel_groups/add_channel_to_channel_group.py L36-60 (add joined raw: "a,b")`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch},{ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group list',
      source: `${S}/channel_groups/list_channels_in_channel_group.py L28-50 (payload.channels)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.deepEqual([...okObject(r).payload.channels].sort(), [ctx.ch, ctx.ch2].sort()),
    },
    {
      feature: 'channel group remove',
      source: `${S}/channel_groups/remove_channel_from_channel_group.py L38-62`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group delete',
      source: `${S}/channel_groups/remove_channel_group.py L28-48`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata set',
      source: `${S}/objects_v2/uuid/set_uuid.py L51-82; objects_endpoint.py L55-117 (include raw "status,type")`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom,status,type', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"name": "Ann", "email": null, "externalId": null, "profileUrl": null, "custom": {"team": "blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata get',
      source: `${S}/objects_v2/uuid/get_uuid.py L25-44`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom,status,type'),
      expect: (r, ctx) => assert.deepEqual(objectData(r, ctx.uuid).custom, { team: 'blue' }),
    },
    {
      feature: 'uuid metadata list',
      source: `${S}/objects_v2/objects_endpoint.py L63-86 (count=bool → "True", sort joined with ",", filter url_encode on the wire); ${M}/consumer/objects_v2/page.py`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'include=status,type&limit=100&count=True&sort=name:asc,updated:desc'),
      expect: (r) => {
        const body = okObject(r);
        assert.ok(Array.isArray(body.data) && body.data.length >= 1);
        assert.equal(typeof body.totalCount, 'number');
      },
    },
    {
      feature: 'uuid metadata list',
      variant: 'without count',
      source: `${S}/objects_v2/objects_endpoint.py L55-88`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'include=status,type&limit=100&sort=name:asc'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'channel metadata set',
      source: `${S}/objects_v2/channel/set_channel.py L52-79`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}', 'include=status,type', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"name": "Room", "description": "d", "custom": null}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.ch).name, 'Room'),
    },
    {
      feature: 'channel metadata get',
      source: `${S}/objects_v2/channel/get_channel.py L25-44`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}', 'include=status,type'),
      expect: (r, ctx) => void objectData(r, ctx.ch),
    },
    {
      feature: 'channel metadata list',
      source: `${S}/objects_v2/channel/get_all_channels.py L27-43`,
      request: req('GET', '/v2/objects/{sub}/channels', 'include=status,type&limit=100'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${S}/objects_v2/memberships/set_memberships.py L65-93 ({"set": [...], "delete": []})`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=channel,status,type&limit=100', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"set": [{"channel": {"id": "{ch}"}}], "delete": []}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'memberships get',
      source: `${S}/objects_v2/memberships/get_memberships.py L32-71`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=channel.custom,custom&limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'members set',
      source: `${S}/objects_v2/members/set_channel_members.py L65-93`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=uuid,status,type&limit=100', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"set": [{"uuid": {"id": "{uuid}"}}], "delete": []}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'members get',
      source: `${S}/objects_v2/members/get_channel_members.py L32-55`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=uuid.custom&limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'channel metadata remove',
      source: `${S}/objects_v2/channel/remove_channel.py L21-40`,
      request: req('DELETE', '/v2/objects/{sub}/channels/{ch}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata remove',
      source: `${S}/objects_v2/uuid/remove_uuid.py L21-40`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${S}/file_operations/fetch_upload_details.py L14-46; ${M}/consumer/file.py L27-31 (data.name, data.id, file_upload_request)`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', {
        headers: { 'Content-type': 'application/json' },
        body: json('{"name": "note.txt"}'),
      }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${S}/file_operations/send_file.py L36-62 (no query, form_fields by key then "file"), L83-90; request_handlers/httpx.py L325 (200, 204, 307 are success)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', fileContentType: 'text/plain' } },
      expect: (r) => assert.ok([200, 204, 307].includes(r.status), `upload answered ${r.status}`),
    },
    {
      feature: 'file publish',
      source: `${S}/file_operations/publish_file_message.py L69-102 (meta=url_write(None) → "null", ttl=0, store=1|0 always); send_file.py L137-148`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22message%22%3A%20%7B%22hi%22%3A%201%7D%2C%20%22file%22%3A%20%7B%22id%22%3A%20%22{fileId}%22%2C%20%22name%22%3A%20%22{fileName}%22%7D%7D',
        'meta=null&ttl=0&store=1',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${S}/file_operations/list_files.py L26-63 (limit/next only when set); ${M}/consumer/file.py L1-5 (data, count, next)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files'),
      expect: (r, ctx) => {
        const f = list(r).find((x) => x.id === ctx.fileId);
        assert.ok(f && f.name === ctx.fileName);
      },
    },
    {
      feature: 'file url',
      source: `${S}/file_operations/get_file_url.py L23-29, L68-78 (a real GET, allow_redirects False); ${M}/consumer/file.py L19-21 (result.headers["Location"]); request_handlers/httpx.py L325 (307 is success)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => {
        status(r, 307);
        const location = r.headers.location ?? '';
        assert.match(location, /^https?:\/\//, 'an absolute URL: download_file requests it with use_base_path False');
      },
      save: (r, ctx) => {
        // download_file.py L71-73: the Location's query, parse_qs-decoded, rebuilt as raw k=v.
        const url = new URL(r.headers.location);
        const query = [...url.searchParams].map(([k, v]) => `${k}=${v}`).join('&');
        ctx.downloadTarget = query === '' ? url.pathname : `${url.pathname}?${query}`;
      },
    },
    {
      feature: 'file download',
      source: `${S}/file_operations/download_file.py L24-34, L56-85 (GETs the Location URL with its own query values decoded, no pnsdk/uuid/auth/signature)`,
      request: req('GET', '{downloadTarget}'),
      bare: true,
      expect: (r, ctx) => {
        status(r, 200);
        assert.equal(r.text, ctx.fileText);
      },
    },
    {
      feature: 'file delete',
      source: `${S}/file_operations/delete_file.py L23-60; ${M}/consumer/file.py L11-13 (result["status"])`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'grant v2',
      source: `${S}/access/grant.py L77-130 (sorted query; channel url-encoded on the wire, raw when signed); ${M}/consumer/access_manager.py L20-80 (payload.level, payload.subscribe_key)`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'auth=auth-a&channel={ch}&r=1&ttl=60&w=1'),
      runs: 'signed',
      expect: (r) => {
        const p = okObject(r).payload;
        assert.equal(typeof p.level, 'string');
        assert.equal(typeof p.subscribe_key, 'string');
      },
    },
    {
      feature: 'audit v2',
      source: `${S}/access/audit.py L34-60 (payload)`,
      request: req('GET', '/v2/auth/audit/sub-key/{sub}', 'auth=auth-a&channel={ch}'),
      runs: 'signed',
      expect: (r) => {
        const p = okObject(r).payload;
        assert.equal(typeof p.level, 'string');
      },
    },
    ...['', 'a', 'ab'].map((suffix) => ({
      feature: 'grant token' as const,
      variant: `channel name +${suffix.length}: every token length`,
      source: `${S}/access/grant_token.py L86-130 (json.dumps body; channels copied into "spaces", uuids into "users"); utils.py L221-241; managers.py L400-447 (parse_token: strict b64decode, token["meta"])`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-type': 'application/json' },
        body: json(
          `{"ttl": 15, "permissions": {"resources": {"channels": {"{ch}${suffix}": 3}, "groups": {}, "uuids": {}, "users": {}, "spaces": {"{ch}${suffix}": 3}}, "patterns": {"channels": {}, "groups": {}, "uuids": {}, "users": {}, "spaces": {}}, "meta": {}, "uuid": "{uuid}"}}`,
        ),
      }),
      runs: 'signed' as const,
      expect: (r: Reply) => void pythonParse(grantedToken(r)),
    })),
    {
      feature: 'grant token',
      variant: 'for use and revoke (no parse)',
      source: `${S}/access/grant_token.py L86-130`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-type': 'application/json' },
        body: json(
          '{"ttl": 15, "permissions": {"resources": {"channels": {"{ch}": 3}, "groups": {}, "uuids": {}, "users": {}, "spaces": {"{ch}": 3}}, "patterns": {"channels": {}, "groups": {}, "uuids": {}, "users": {}, "spaces": {}}, "meta": {}, "uuid": "{uuid}"}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void grantedToken(r),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
        ctx.tokenInPath = pyQuote(ctx.token);
      },
    },
    {
      feature: 'token use',
      source: `${S}/endpoint.py L207-211 (auth = the token, raw)`,
      request: req('GET', `/publish/{pub}/{sub}/0/{ch}/0/%22tok%22`, 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${S}/access/revoke_token.py L25-47 (url_encode(token) in the path; result["status"])`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{tokenInPath}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(
      `${S}/endpoint.py L257-286; request_handlers/httpx.py L325-363 (403 → PNAccessDeniedCategory, body as response)`,
      req('GET', `/publish/{pub}/{sub}/0/{ch}/0/${MSG}`),
    ),
  ],
};
