/**
 * PubNub's Kotlin SDK, also under the Java (pubnub-gson) API (github.com/pubnub/kotlin @ 72ea314b,
 * 13.4.1). Retrofit builds the requests: `@Path` values are percent-encoded but keep `:` and `,`
 * raw (JSON in a publish path reads `%7B%22text%22:%22hello%22%7D`); `@QueryMap` values go through
 * OkHttp's query-component encoding (`:` `,` `/` `~` encoded). EndpointCore.createBaseParams
 * (EndpointCore.kt L202-227) adds pnsdk, uuid, requestid (on by default) and auth. SignatureInterceptor
 * signs every request when a secret key is set (PubNubUtil.kt L57-133): v1 for POST /publish, else
 * v2 with the real method and the body. Gson leaves nulls out of bodies.
 */
import assert from 'node:assert/strict';
import type { SdkRecord } from '../types.ts';
import { signKotlin } from '../signing.ts';
import { deliveredAfterHandshake, ok, okObject, published, status, subscribeEnvelope } from '../expect.ts';
import { V2_PUBLISH_GAP, deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { kotlinParse } from '../tokens.ts';

const K = 'pubnub/kotlin pubnub-kotlin/pubnub-kotlin-impl/src/main/kotlin/com/pubnub/internal';
const SV = `${K}/services`;
const EP = `${K}/endpoints`;
const CT = { 'Content-Type': 'application/json; charset=UTF-8' };

export const kotlin: SdkRecord = {
  name: 'kotlin',
  repository: 'github.com/pubnub/kotlin@72ea314b8d380c0571e009c53a32c36eb54bb53a (13.4.1)',
  sign: signKotlin,
  signsTime: true,
  common: [
    ['pnsdk', 'PubNub-Kotlin%2F13.4.1'],
    ['uuid', '{uuid}'],
    ['requestid', '{requestid}'],
  ],
  absent: {
    'signal POST': 'signal is GET only',
    'audit v2': 'AccessManagerService.kt has no audit',
  },
  cases: [
    {
      feature: 'time',
      source: `${SV}/TimeService.kt L8-11 (Call<List<Long>>)`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${SV}/PublishService.kt L12-19; ${EP}/pubsub/PublishEndpoint.kt L120-162, L210-219 (store, meta, seqn always); L159-162 body[2].toString().toLong()`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22:%22hello%22%7D', 'meta=%7B%22k%22%3A%22v%22%7D&store=1&seqn=1'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${SV}/PublishService.kt L21-29; ${EP}/pubsub/PublishEndpoint.kt L89-119 (POST /publish when the body fits 32 KiB); PubNubUtil.kt L106-111 (v1 signature for POST /publish)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1&seqn=2', { headers: CT, body: json('{"text":"via post"}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'publish POST v2',
      variant: 'route, small body',
      source: `${SV}/PublishService.kt L31-42 (POST /v2/publish, v2 signature with the body)`,
      request: req('POST', '/v2/publish/{pub}/{sub}/0/{ch}/0', 'store=1&seqn=3', { headers: CT, body: json('{"text":"v2"}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'publish POST v2',
      variant: '40 KB body, as the SDK sends it',
      source: `${EP}/pubsub/PublishEndpoint.kt L44-57, L89-110 (bodies over 32,768 bytes or GET paths over 32,752 bytes go to /v2/publish; server limit 2 MiB)`,
      request: req('POST', '/v2/publish/{pub}/{sub}/0/{ch}/0', 'store=1&seqn=4', { headers: CT, body: json(`{"text":"${'x'.repeat(40_000)}"}`) }),
      knownGap: V2_PUBLISH_GAP,
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${EP}/pubsub/PublishEndpoint.kt L210-219 (fire = store=0, norep=true)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22:1%7D', 'store=0&norep=true&seqn=5'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${SV}/SignalService.kt L9-16; ${EP}/pubsub/SignalEndpoint.kt L45-60`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22:true%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${SV}/SubscribeService.kt L10-15; ${EP}/pubsub/SubscribeEndpoint.kt L66-91 (heartbeat always, ee=); subscribe/eventengine/effect/effectprovider/HandshakeProviderImpl.kt L18 (tt=0)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt=0&heartbeat=300&ee='),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${EP}/pubsub/PublishEndpoint.kt L120-156`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22', 'seqn=6'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${EP}/pubsub/SubscribeEndpoint.kt L76-82 (tt, tr)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt={subTt}&tr=1&heartbeat=300&ee='),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${SV}/HeartbeatService.kt L16-21; ${EP}/presence/HeartbeatEndpoint.kt L65-84 (heartbeat, ee=)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300&ee='),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${SV}/PresenceService.kt L19-24 ("sub_key" with an underscore); ${EP}/presence/HereNowEndpoint.kt L64-115, L174-186 (limit=1000; single: top-level uuids of strings, occupancy)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}', 'limit=1000'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(Number.isInteger(body.occupancy));
        assert.ok(body.uuids.includes(ctx.uuid), 'uuids are strings unless state is asked for');
      },
    },
    {
      feature: 'here_now global',
      source: `${SV}/PresenceService.kt L26-30; ${EP}/presence/HereNowEndpoint.kt L117-149 (payload.channels, total_channels, total_occupancy)`,
      request: req('GET', '/v2/presence/sub_key/{sub}', 'limit=1000'),
      expect: (r) => {
        const p = okObject(r).payload;
        assert.ok(Number.isInteger(p.total_channels) && Number.isInteger(p.total_occupancy));
        assert.equal(typeof p.channels, 'object');
      },
    },
    {
      feature: 'where_now',
      source: `${SV}/PresenceService.kt L12-17 (Envelope<WhereNowPayload>: payload.channels)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'set state',
      source: `${SV}/PresenceService.kt L40-46; ${EP}/presence/SetStateEndpoint.kt L70-94`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${SV}/PresenceService.kt L32-38; ${EP}/presence/GetStateEndpoint.kt L60-90`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'leave',
      source: `${SV}/HeartbeatService.kt L9-14; ${EP}/presence/LeaveEndpoint.kt L55-65 (channel-group=toCsv() is "," when there are none; ee=)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave', 'channel-group=%2C&ee='),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${SV}/HistoryService.kt L12-17; ${EP}/HistoryEndpoint.kt L73-80, L150-156`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'reverse=false&include_token=true&include_meta=false&count=100'),
      expect: (r) => {
        const body = ok(r);
        assert.ok(Array.isArray(body[0]) && body[0].length > 0);
        assert.ok('timetoken' in body[0][0]);
      },
    },
    {
      feature: 'fetch v3',
      source: `${SV}/HistoryService.kt L26-31; ${EP}/FetchMessagesEndpoint.kt L107-112, L168-180`,
      request: req(
        'GET',
        '/v3/history/sub-key/{sub}/channel/{ch}',
        'max=25&include_uuid=true&include_message_type=true&include_meta=true&include_custom_message_type=false',
      ),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${SV}/HistoryService.kt L40-45; ${EP}/MessageCountsEndpoint.kt L61-88 (one channel: timetoken)`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${SV}/MessageActionService.kt L17-25 (EntityEnvelope<PNMessageAction>)`,
      request: req('POST', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}', '', { headers: CT, body: json('{"type":"reaction","value":"smiley"}') }),
      expect: (r) => actionData(okObject(r).data),
      save: (r, ctx) => {
        ctx.actionTt = String(r.json.data.actionTimetoken);
      },
    },
    {
      feature: 'message actions get',
      source: `${SV}/MessageActionService.kt L27-32; ${EP}/message_actions/GetMessageActionsEndpoint.kt L45-63 (data, more)`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(actionData),
    },
    {
      feature: 'fetch with actions',
      source: `${SV}/HistoryService.kt L33-38`,
      request: req(
        'GET',
        '/v3/history-with-actions/sub-key/{sub}/channel/{ch}',
        'max=25&include_uuid=true&include_message_type=true&include_custom_message_type=false',
      ),
      expect: (r, ctx) => assert.ok(fetched(r, ctx.ch).some((m) => m.actions)),
    },
    {
      feature: 'message action remove',
      source: `${SV}/MessageActionService.kt L34-41`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'delete messages',
      source: `${SV}/HistoryService.kt L19-24; ${EP}/DeleteMessagesEndpoint.kt L55-71`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group add',
      source: `${SV}/ChannelGroupService.kt L23-28; ${EP}/channel_groups/AddChannelChannelGroupEndpoint.kt L55-62`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch}%2C{ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group list',
      source: `${SV}/ChannelGroupService.kt L16-21 (Envelope payload.channels)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.deepEqual([...okObject(r).payload.channels].sort(), [ctx.ch, ctx.ch2].sort()),
    },
    {
      feature: 'channel group list all',
      source: `${SV}/ChannelGroupService.kt L10-14 (payload.groups)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.groups.includes(ctx.cg)),
    },
    {
      feature: 'channel group remove',
      source: `${SV}/ChannelGroupService.kt L30-35`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group delete',
      source: `${SV}/ChannelGroupService.kt L37-42`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'uuid metadata set',
      source: `${SV}/ObjectsService.kt L37-45; ${EP}/objects/internal/IncludeQueryParam.kt (include: custom,type,status in that order)`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom%2Ctype%2Cstatus', {
        headers: CT,
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata get',
      source: `${SV}/ObjectsService.kt L30-35`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom%2Ctype%2Cstatus'),
      expect: (r, ctx) => assert.deepEqual(objectData(r, ctx.uuid).custom, { team: 'blue' }),
    },
    {
      feature: 'uuid metadata list',
      source: `${SV}/ObjectsService.kt L24-28; ${EP}/objects/internal/CollectionQueryParameters.kt (sort joined with ",", count=true)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'sort=name%3Aasc%2Cupdated%3Adesc&limit=100&count=true&include=type%2Cstatus'),
      expect: (r) => {
        assert.ok(list(r).length >= 1);
        assert.equal(typeof r.json.totalCount, 'number');
      },
    },
    {
      feature: 'channel metadata set',
      source: `${SV}/ObjectsService.kt L66-74`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}', 'include=type%2Cstatus', { headers: CT, body: json('{"name":"Room","description":"d"}') }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.ch).name, 'Room'),
    },
    {
      feature: 'channel metadata get',
      source: `${SV}/ObjectsService.kt L59-64`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}', 'include=type%2Cstatus'),
      expect: (r, ctx) => void objectData(r, ctx.ch),
    },
    {
      feature: 'channel metadata list',
      source: `${SV}/ObjectsService.kt L53-57`,
      request: req('GET', '/v2/objects/{sub}/channels', 'limit=100&include=type%2Cstatus'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${SV}/ObjectsService.kt L89-96`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=type%2Cstatus%2Cchannel&limit=100', {
        headers: CT,
        body: json('{"set":[{"channel":{"id":"{ch}"}}],"delete":[]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'memberships get',
      source: `${SV}/ObjectsService.kt L82-87`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=type%2Cstatus%2Cchannel&limit=100&count=true'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'members set',
      source: `${SV}/ObjectsService.kt L105-112`,
      request: req('PATCH', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=type%2Cstatus%2Cuuid&limit=100', {
        headers: CT,
        body: json('{"set":[{"uuid":{"id":"{uuid}"}}],"delete":[]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'members get',
      source: `${SV}/ObjectsService.kt L98-103`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}/uuids', 'include=type%2Cstatus%2Cuuid&limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.uuid.id === ctx.uuid)),
    },
    {
      feature: 'channel metadata remove',
      source: `${SV}/ObjectsService.kt L76-80`,
      request: req('DELETE', '/v2/objects/{sub}/channels/{ch}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata remove',
      source: `${SV}/ObjectsService.kt L47-51`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${SV}/FilesService.kt L16-22; ${EP}/files/GenerateUploadUrlEndpoint.kt L41-60 (throws unless a form field named "key" exists)`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', { headers: CT, body: json('{"name":"note.txt"}') }),
      expect: (r) => {
        uploadTicket(r);
        assert.ok(
          r.json.file_upload_request.form_fields.some((f: any) => f.key === 'key'),
          'a form field named "key"',
        );
      },
      save: saveUpload,
    },
    {
      feature: 'file generate-upload-url',
      variant: 'continue without the key check',
      source: `${SV}/FilesService.kt L16-22`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', { headers: CT, body: json('{"name":"note.txt"}') }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${EP}/files/UploadFileEndpoint.kt L44-86, L309-318 (the "key" field first, the others, then the file part typed by the Content-Type field)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', keyFirst: true, fileContentType: 'text/plain' } },
      expect: (r) => assert.ok(r.status >= 200 && r.status < 300, `upload answered ${r.status}`),
    },
    {
      feature: 'file publish',
      source: `${SV}/FilesService.kt L24-31; ${EP}/files/PublishFileMessageEndpoint.kt L38-62 (store, ttl only when set; body[2].toLong())`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22message%22:%7B%22hi%22:1%7D,%22file%22:%7B%22id%22:%22{fileId}%22,%22name%22:%22{fileName}%22%7D%7D',
        'store=1',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${SV}/FilesService.kt L33-38; ${EP}/files/ListFilesEndpoint.kt L45-67 (limit=100 always; count, next, status, data)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => {
        const files = list(r);
        assert.equal(typeof r.json.count, 'number');
        assert.ok(files.some((f) => f.id === ctx.fileId));
      },
    },
    {
      feature: 'file download',
      source: `${SV}/FilesService.kt L40-47; ${EP}/files/DownloadFileEndpoint.kt L38-62 (OkHttp follows redirects; the body stream)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location);
        else assert.equal(r.text, ctx.fileText);
      },
    },
    {
      feature: 'file url',
      source: `${EP}/files/GetFileUrlEndpoint.kt L25-61 (builds the download request and signs it with PubNubUtil.signRequest: v2 GET)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => assert.ok(r.status === 200 || r.status === 307, `answered ${r.status}`),
    },
    {
      feature: 'file delete',
      source: `${SV}/FilesService.kt L49-56`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'grant v2',
      source: `${SV}/AccessManagerService.kt L16-20; ${EP}/access/GrantEndpoint.kt L69-130 (payload.channels[ch].auths, r/w/m/d/g/u/j), L135-200 (every bit sent)`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'channel={ch}&auth=auth-a&ttl=60&r=1&w=1&m=0&d=0&g=0&u=0&j=0'),
      runs: 'signed',
      expect: (r) => {
        const p = okObject(r).payload;
        assert.equal(typeof p.level, 'string');
      },
    },
    {
      feature: 'grant token',
      source: `${SV}/AccessManagerService.kt L22-27; models/server/access_manager/v3/GrantTokenRequestBody.kt (Gson: resources/patterns with channels, groups, uuids, spaces, users; meta {} ; uuid); ${EP}/access/GrantTokenEndpoint.kt L69-90 (data.token); managers/TokenParser.kt`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json; charset=UTF-8' },
        body: json(
          '{"ttl":15,"permissions":{"resources":{"channels":{"{ch}":3},"groups":{},"uuids":{},"spaces":{},"users":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"spaces":{},"users":{}},"meta":{},"uuid":"{uuid}"}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void kotlinParse(grantedToken(r)),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
        // RevokeTokenEndpoint.kt L47: URLEncoder.encode(token), passed with encoded = true.
        ctx.tokenInPath = encodeURIComponent(ctx.token).replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
      },
    },
    {
      feature: 'token use',
      source: `${K}/EndpointCore.kt L218-225 (auth = the token)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}&seqn=7'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${SV}/AccessManagerService.kt L29-34; ${EP}/access/RevokeTokenEndpoint.kt L40-50`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{tokenInPath}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(
      `${K}/EndpointCore.kt L250-275 (error body: payload.channels, payload["channel-groups"])`,
      req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22', 'seqn=9'),
    ),
  ],
};
