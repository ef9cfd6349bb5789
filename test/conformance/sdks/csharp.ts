/**
 * PubNub's C# SDK (github.com/pubnub/c-sharp @ 0306654c, PubnubApi 7.x). Transport/Middleware.cs
 * (L28-111) builds every request: the endpoint's query values are pre-encoded with
 * UriUtil.EncodeUriComponent (Builder/UriUtil.cs L12-136: encodes ` ~`!@#$%^&*()+=[]\{}|;':",/<>?`),
 * uuid and pnsdk are added, the query is sent SORTED by key (UriUtil.BuildQueryString L197-200), and
 * with a secret key the signature covers that query string and the path exactly as sent (`%2F` in a
 * channel name becomes `%252F` for here-now, history, fetch, leave, heartbeat: UriUtil.cs L88-117).
 * Every presence endpoint uses `/v2/presence/sub_key/` (underscore).
 */
import assert from 'node:assert/strict';
import type { SdkRecord } from '../types.ts';
import { signCSharp } from '../signing.ts';
import { deliveredAfterHandshake, ok, okObject, published, status, subscribeEnvelope } from '../expect.ts';
import { V2_PUBLISH_GAP, deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { csharpParse } from '../tokens.ts';

const E = 'pubnub/c-sharp src/Api/PubnubApi/EndPoint';

export const csharp: SdkRecord = {
  name: 'csharp',
  repository: 'github.com/pubnub/c-sharp@0306654cd056793b837f5ba1df20ee24d0694b9b',
  sign: signCSharp,
  signsTime: false,
  // Middleware.cs L34-38 (uuid, pnsdk "<framework>/CSharp/<version>", both encoded).
  common: [
    ['pnsdk', 'NET80%2FCSharp%2F7.4.0.0'],
    ['uuid', '{uuid}'],
  ],
  absent: {
    'signal POST': 'signal is GET only (SignalOperation.cs L369)',
  },
  cases: [
    {
      feature: 'time',
      source: `${E}/TimeOperation.cs; Middleware.cs L53-61 (no auth on time)`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${E}/PubSub/PublishOperation.cs L446-520 (meta encoded; store=0 only when not stored; the message segment encoded keeping ":"); Middleware.cs L133-154`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22:%22hello%22%7D', 'meta=%7B%22k%22%3A%22v%22%7D'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${E}/PubSub/PublishOperation.cs L500-521 (POST /publish/…/0 with the JSON body); Middleware.cs L83-92 (signed as GET without the body)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', '', { headers: { 'Content-Type': 'application/json' }, body: json('{"text":"via post"}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'publish POST v2',
      source: `${E}/PubSub/PublishOperation.cs L19, L486-521, L524-545 (/v2/publish when the POST body or GET URL exceeds 32,768 bytes; Expect: 100-continue); Middleware.cs L83-84 (v2 path: real method, body signed)`,
      request: req('POST', '/v2/publish/{pub}/{sub}/0/{ch}/0', '', {
        headers: { 'Content-Type': 'application/json', Expect: '100-continue' },
        body: json(`{"text":"${'y'.repeat(40_000)}"}`),
      }),
      knownGap: V2_PUBLISH_GAP,
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${E}/PubSub/FireOperation.cs L275-315 (norep=true, store=0)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22:1%7D', 'norep=true&store=0'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${E}/PubSub/SignalOperation.cs L340-375`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22:true%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${E}/PubSub/SubscribeManager2.cs L340-385 (ee always, tt always, heartbeat when PresenceTimeout != 0)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'ee=&heartbeat=300&tt=0'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${E}/PubSub/PublishOperation.cs L486-505`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${E}/PubSub/SubscribeManager2.cs L365-371 (tt, tr when > 0)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'ee=&heartbeat=300&tr=1&tt={subTt}'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${E}/Presence/HeartbeatOperation.cs L70-98 ("sub_key"; heartbeat)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${E}/Presence/HereNowOperation.cs L245-300 ("sub_key"; disable_uuids, state, limit)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}', 'disable_uuids=0&limit=1000&state=0'),
      expect: (r) => assert.equal(typeof okObject(r).occupancy, 'number'),
    },
    {
      feature: 'where_now',
      source: `${E}/Presence/WhereNowOperation.cs L165-190 ("sub_key")`,
      request: req('GET', '/v2/presence/sub_key/{sub}/uuid/{uuid}'),
      expect: (r) => assert.ok(Array.isArray(okObject(r).payload.channels)),
    },
    {
      feature: 'set state',
      source: `${E}/Presence/SetStateOperation.cs L480-515 ("sub_key"; state encoded)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${E}/Presence/GetStateOperation.cs L213-245 ("sub_key")`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'leave',
      source: `${E}/Presence/LeaveOperation.cs L66-85 ("sub_key")`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${E}/StoragePlayback/HistoryOperation.cs L230-265`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=100&include_meta=true&include_token=true'),
      expect: (r) => assert.ok(Array.isArray(ok(r)[0])),
    },
    {
      feature: 'fetch v3',
      source: `${E}/StoragePlayback/FetchHistoryOperation.cs L268-306 (max, include_*; include_custom_message_type always)`,
      request: req(
        'GET',
        '/v3/history/sub-key/{sub}/channel/{ch}',
        'include_custom_message_type=false&include_message_type=true&include_meta=true&include_uuid=true&max=100',
      ),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${E}/StoragePlayback/MessageCountsOperation.cs L194-216`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${E}/PubSub/AddMessageActionOperation.cs L230-250`,
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
      source: `${E}/PubSub/GetMessageActionsOperation.cs L250-270`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(actionData),
    },
    {
      feature: 'fetch with actions',
      source: `${E}/StoragePlayback/FetchHistoryOperation.cs L271-281 (history-with-actions, max 25)`,
      request: req(
        'GET',
        '/v3/history-with-actions/sub-key/{sub}/channel/{ch}',
        'include_custom_message_type=false&include_message_type=true&include_uuid=true&max=25',
      ),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message action remove',
      source: `${E}/PubSub/RemoveMessageActionOperation.cs`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'delete messages',
      source: `${E}/StoragePlayback/DeleteMessageOperation.cs L195-214`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group add',
      source: `${E}/ChannelGroup/AddChannelsToChannelGroupOperation.cs L195-210 (add sorted and encoded: "," → %2C)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch}%2C{ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group list',
      source: `${E}/ChannelGroup/ListChannelsForChannelGroupOperation.cs`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'channel group list all',
      source: `${E}/ChannelGroup/ListAllChannelGroupOperation.cs`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.groups.includes(ctx.cg)),
    },
    {
      feature: 'channel group remove',
      source: `${E}/ChannelGroup/RemoveChannelsFromChannelGroupOperation.cs L215-230`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group delete',
      source: `${E}/ChannelGroup/DeleteChannelGroupOperation.cs`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'uuid metadata set',
      source: `${E}/Objects/SetUuidMetadataOperation.cs L355-390 (include encoded)`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata list',
      source: `${E}/Objects/GetAllUuidMetadataOperation.cs L225-290 (count=true, sort joined with "," and encoded)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'count=true&include=custom&limit=100&sort=name%3Aasc%2Cupdated%3Adesc'),
      expect: (r) => {
        assert.ok(list(r).length >= 1);
        assert.equal(typeof r.json.totalCount, 'number');
      },
    },
    {
      feature: 'memberships set',
      source: `${E}/Objects/SetMembershipsOperation.cs`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=custom&limit=100', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"set":[{"channel":{"id":"{ch}"}}]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'uuid metadata remove',
      source: `${E}/Objects/RemoveUuidMetadataOperation.cs`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${E}/Files/GenerateFileUploadUrlOperation.cs L165-195`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"note.txt"}'),
      }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${E}/Files/SendFileOperation.cs L618-665 (fields in order, file part typed by the Content-Type field), L205-210 and L345 (only 204 is success)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', fileContentType: 'text/plain' } },
      expect: (r) => status(r, 204),
    },
    {
      feature: 'file publish',
      source: `${E}/Files/SendFileOperation.cs L730-780 (ttl, store=0 when not stored); PublishFileMessage.cs L237-275 (sends "tt1" for the ttl: an SDK typo)`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22message%22:%7B%22hi%22:1%7D%2C%22file%22:%7B%22id%22:%22{fileId}%22%2C%22name%22:%22{fileName}%22%7D%7D',
        'tt1=0',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${E}/Files/ListFilesOperation.cs L180-210`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((f) => f.id === ctx.fileId)),
    },
    {
      feature: 'file download',
      source: `${E}/Files/DownloadFileOperation.cs L230-250 (HttpClient follows redirects)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location);
        else assert.equal(r.text, ctx.fileText);
      },
    },
    {
      feature: 'file url',
      source: 'pubnub/c-sharp src/Api/PubnubApi/Builder/UriUtil.cs L202-230 (GetFileUrl: the download request through the middleware, signed v2 GET)',
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => assert.ok(r.status === 200 || r.status === 307, `answered ${r.status}`),
    },
    {
      feature: 'file delete',
      source: `${E}/Files/DeleteFileOperation.cs`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'grant v2',
      source: `${E}/Access/GrantOperation.cs L318-365 (auth, channel, target-uuid encoded; bits)`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'auth=auth-a&channel={ch}&d=0&g=0&j=0&m=0&r=1&ttl=60&u=0&w=1'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'audit v2',
      source: `${E}/Access/AuditOperation.cs L185-205`,
      request: req('GET', '/v2/auth/audit/sub-key/{sub}', 'auth=auth-a&channel={ch}'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    ...['', 'a', 'ab'].map((suffix) => ({
      feature: 'grant token' as const,
      variant: `channel name +${suffix.length}: every token length`,
      source: `${E}/Access/GrantTokenOperation.cs L410-440; ${E}/TokenManager.cs L58-70 (ParseToken: Convert.FromBase64String, strict about padding; sig read as bytes)`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          `{"ttl":15,"permissions":{"resources":{"channels":{"{ch}${suffix}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{},"uuid":"{uuid}"}}`,
        ),
      }),
      runs: 'signed' as const,
      expect: (r: Parameters<typeof grantedToken>[0]) => void csharpParse(grantedToken(r)),
    })),
    {
      feature: 'grant token',
      variant: 'for use and revoke',
      source: `${E}/Access/GrantTokenOperation.cs L410-440`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"resources":{"channels":{"{ch}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{},"uuid":"{uuid}"}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void grantedToken(r),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
        ctx.tokenInPath = encodeURIComponent(ctx.token);
      },
    },
    {
      feature: 'token use',
      source: 'pubnub/c-sharp src/Api/PubnubApi/Transport/Middleware.cs L62-75 (auth = the token, encoded)',
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${E}/Access/RevokeTokenOperation.cs L150-172; Middleware.cs L144-147 (token path segment encoded)`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{tokenInPath}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(
      'pubnub/c-sharp src/Api/PubnubApi/Model/PNStatusCategoryHelper.cs (403 → PNAccessDeniedCategory); Builder/StatusBuilder.cs',
      req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22'),
    ),
  ],
};
