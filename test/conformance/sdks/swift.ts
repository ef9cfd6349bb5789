/**
 * PubNub's Swift SDK (github.com/pubnub/swift @ bf397ebe, 10.1.6). A client SDK: it never holds a
 * secret key, so it never signs (HTTPRouter.swift has no signature). URLComponents builds the URL:
 * query values keep `:` `,` `/` `{`-free JSON punctuation raw except what URLComponents encodes
 * (`"` `{` `}` space), and `+` and `?` are encoded by hand (String+PubNub.swift L43-46); a value of
 * nil gives a valueless item (`ee`). defaultQueryItems (HTTPRouter.swift L205-221) add pnsdk, uuid
 * and auth; RequestIdOperator adds requestid. Responses are decoded with Codable: a missing
 * non-optional field fails the whole call, so the assertions below name each one.
 */
import assert from 'node:assert/strict';
import type { Reply, SdkRecord } from '../types.ts';
import { deliveredAfterHandshake, ok, okObject, okService, published, status, subscribeEnvelope, TIMETOKEN } from '../expect.ts';
import { deniedCase, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { signJavaScript } from '../signing.ts';
import { swiftParse } from '../tokens.ts';

const R = 'pubnub/swift Sources/PubNub/Networking/Routers';
const CT = { 'Content-Type': 'application/json; charset=UTF-8' };
/** Swift's date formats (DateFormatter+PubNub.swift L20-33): ISO 8601 with or without milliseconds, UTC `Z`. */
const SWIFT_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** MessageActionsRouter.swift L147-190: every field required, both timetokens decoded as strings. */
function swiftAction(a: any): void {
  for (const k of ['uuid', 'type', 'value', 'actionTimetoken', 'messageTimetoken']) assert.equal(typeof a[k], 'string', `${k} a string`);
  assert.match(a.actionTimetoken, TIMETOKEN);
}

export const swift: SdkRecord = {
  name: 'swift',
  repository: 'github.com/pubnub/swift@bf397ebe7473715aea5494a541d24576c7b3a5ea (10.1.6)',
  sign: null,
  signsTime: false,
  common: [
    ['pnsdk', 'PubNubSwift-iOS/10.1.6'],
    ['uuid', '{uuid}'],
    ['requestid', '{requestid}'],
  ],
  absent: {
    'publish POST v2': 'no /v2/publish',
    'signal POST': 'signal is GET only',
    'history v2': 'HistoryRouter.swift has fetch v3 only',
    'grant v2': 'a client SDK: no secret key, no Access Manager calls',
    'audit v2': 'a client SDK',
    'revoke token': 'a client SDK',
  },
  cases: [
    {
      feature: 'time',
      source: `${R}/TimeRouter.swift`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${R}/PublishRouter.swift L83, L98-143 (store, ttl, custom_message_type, meta; message JSON in the path); L236-270 ([Int, String, String timetoken])`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22:%22hello%22%7D', 'store=1&meta=%7B%22k%22:%22v%22%7D'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${R}/PublishRouter.swift L85-87, L145-168 (compressedPublish: POST /publish/…/0, plain JSON body, no Content-Encoding); HTTPRouter.swift L290-300 (Content-Type)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', 'store=1', { headers: CT, body: json('{"text":"via post"}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${R}/PublishRouter.swift L117-118 (store=0, ttl=0, no norep)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22:1%7D', 'store=0&ttl=0'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${R}/PublishRouter.swift L89, L119-120`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22:true%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: `${R}/SubscribeRouter.swift L50-100 (tt, tr, heartbeat, valueless ee); L215-300 (cursor t/r required, messages optional)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt=0&heartbeat=300&ee'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${R}/PublishRouter.swift L83`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: `${R}/SubscribeRouter.swift L284-300 (a, f, k, c, p required; publisher optional)`,
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt={subTt}&tr=1&heartbeat=300&ee'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${R}/PresenceRouter.swift L103, L125-145 (AnyPresencePayload: status, message, service)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300&ee'),
      expect: (r) => void okService(r),
    },
    {
      feature: 'here_now',
      source: `${R}/PresenceRouter.swift L107, L148-153 (disable_uuids, state, limit, offset always); L221-300 (single channel: occupancy Int, uuids [String] or [{uuid,state}])`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}', 'disable_uuids=0&state=0&limit=1000&offset=0'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.ok(Number.isInteger(body.occupancy));
        assert.ok(body.uuids.includes(ctx.uuid));
      },
    },
    {
      feature: 'here_now global',
      source: `${R}/PresenceRouter.swift L109, L154-156; L247-270 (payload.channels required)`,
      request: req('GET', '/v2/presence/sub-key/{sub}', 'disable_uuids=0&state=0'),
      expect: (r) => {
        const body = okService(r);
        assert.equal(typeof body.payload.channels, 'object');
      },
    },
    {
      feature: 'where_now',
      source: `${R}/PresenceRouter.swift L111, L330-335 (AnyPresencePayload<WhereNowPayload>: status, message, service, payload.channels)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => assert.ok(okService(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'set state',
      source: `${R}/PresenceRouter.swift L117, L161-170`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22:%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okService(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${R}/PresenceRouter.swift L114, L340-400 (status, message, service, uuid; channel + payload for one channel, else payload.channels); PubNub's answer recorded in pubnub/python tests/integrational/fixtures/native_sync/state/state_of_single_channel.yaml L36-37`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r, ctx) => {
        const body = okService(r);
        assert.equal(body.uuid, ctx.uuid, 'uuid');
        assert.equal(body.channel, ctx.ch, 'channel (single-channel form)');
        assert.deepEqual(body.payload, { mood: 'ok' });
      },
    },
    {
      feature: 'leave',
      source: `${R}/PresenceRouter.swift L105, L145-147`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave', 'ee'),
      expect: (r) => void okService(r),
    },
    {
      feature: 'fetch v3',
      source: `${R}/HistoryRouter.swift L81, L93-110; L250-300 (status Int, error Bool, error_message String required; message, timetoken per item)`,
      request: req(
        'GET',
        '/v3/history/sub-key/{sub}/channel/{ch}',
        'max=25&include_meta=true&include_message_type=true&include_custom_message_type=true&include_uuid=true',
      ),
      expect: (r, ctx) => {
        const body = ok(r);
        assert.equal(body.status, 200);
        assert.equal(body.error, false);
        assert.equal(typeof body.error_message, 'string', 'error_message');
        const items = body.channels[ctx.ch];
        assert.ok(items.length > 0);
        for (const m of items) assert.match(String(m.timetoken), TIMETOKEN);
      },
    },
    {
      feature: 'message counts',
      source: `${R}/HistoryRouter.swift L85, L113-116`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${R}/MessageActionsRouter.swift L64, L79-80, L100-115`,
      request: req('POST', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}', '', { headers: CT, body: json('{"type":"reaction","value":"smiley"}') }),
      expect: (r) => swiftAction(okObject(r).data),
      save: (r, ctx) => {
        ctx.actionTt = r.json.data.actionTimetoken;
      },
    },
    {
      feature: 'message actions get',
      source: `${R}/MessageActionsRouter.swift L62, L75-78; L200-210 (data: [actions], more optional)`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(swiftAction),
    },
    {
      feature: 'fetch with actions',
      source: `${R}/HistoryRouter.swift L79, L93-101`,
      request: req(
        'GET',
        '/v3/history-with-actions/sub-key/{sub}/channel/{ch}',
        'max=25&include_meta=false&include_message_type=true&include_custom_message_type=false&include_uuid=true',
      ),
      expect: (r, ctx) => {
        const body = ok(r);
        assert.equal(typeof body.error_message, 'string');
        assert.ok(body.channels[ctx.ch].some((m: any) => m.actions));
      },
    },
    {
      feature: 'message action remove',
      source: `${R}/MessageActionsRouter.swift L66, L140-146 (DeleteResponseDecoder)`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'delete messages',
      source: `${R}/HistoryRouter.swift L83, L110-112`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group add',
      source: `${R}/ChannelGroupsRouter.swift L65, L80-82 (add: csv, URLComponents keeps "," raw)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch},{ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group list',
      source: `${R}/ChannelGroupsRouter.swift L63; L126-145 (status, service, error, payload.group, payload.channels required)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.equal(typeof body.service, 'string');
        assert.equal(body.error, false);
        assert.equal(body.payload.group, ctx.cg);
        assert.deepEqual([...body.payload.channels].sort(), [ctx.ch, ctx.ch2].sort());
      },
    },
    {
      feature: 'channel group list all',
      source: `${R}/ChannelGroupsRouter.swift L68-69; L150-152 (payload.groups)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group'),
      expect: (r, ctx) => {
        const body = okObject(r);
        assert.equal(body.error, false);
        assert.ok(body.payload.groups.includes(ctx.cg));
      },
    },
    {
      feature: 'channel group remove',
      source: `${R}/ChannelGroupsRouter.swift L67, L82-83`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'channel group delete',
      source: `${R}/ChannelGroupsRouter.swift L70-71`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'uuid metadata set',
      source: `${R}/ObjectsUserRouter.swift L99, L120-121 (include), PATCH JSON body; updated decoded as a Date`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=status,type,custom', {
        headers: CT,
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.match(objectData(r, ctx.uuid).updated, SWIFT_DATE),
    },
    {
      feature: 'uuid metadata get',
      source: `${R}/ObjectsUserRouter.swift L97, L118-119`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}', 'include=status,type,custom'),
      expect: (r, ctx) => assert.deepEqual(objectData(r, ctx.uuid).custom, { team: 'blue' }),
    },
    {
      feature: 'uuid metadata list',
      source: `${R}/ObjectsUserRouter.swift L95, L110-117 (filter, sort, limit, include, count=true, start, end)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'sort=name:asc&limit=100&include=status,type&count=true'),
      expect: (r) => {
        assert.ok(list(r).length >= 1);
        assert.equal(typeof r.json.totalCount, 'number');
      },
    },
    {
      feature: 'memberships set',
      source: `${R}/ObjectsMembershipsRouter.swift L253, L287-300`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=status,type,channel&limit=100', {
        headers: CT,
        body: json('{"set":[{"channel":{"id":"{ch}"}}]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'memberships get',
      source: `${R}/ObjectsMembershipsRouter.swift L249, L264-272`,
      request: req('GET', '/v2/objects/{sub}/uuids/{uuid}/channels', 'limit=100&include=status,type,channel&count=true'),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'members get',
      source: `${R}/ObjectsMembershipsRouter.swift L251, L273-282`,
      request: req('GET', '/v2/objects/{sub}/channels/{ch}/uuids', 'limit=100&include=status,type,uuid'),
      expect: (r) => void list(r),
    },
    {
      feature: 'uuid metadata remove',
      source: `${R}/ObjectsUserRouter.swift L101, L122`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${R}/FileManagementRouter.swift L85, L258-320 (status, data.id, data.name, file_upload_request.url/method/form_fields required)`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', { headers: CT, body: json('{"name":"note.txt"}') }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source:
        'pubnub/swift Sources/PubNub/Extensions/URLRequest+PubNub.swift L29-77 (boundary = the file id; fields in order; file part with Content-Type; closing "--id--" without CRLF)',
      request: {
        method: 'POST',
        path: '{uploadPath}',
        body: { kind: 'upload', file: '{fileText}', boundary: 'fileId', closingCrlf: false, fileContentType: 'text/plain' },
      },
      expect: (r) => assert.ok(r.status >= 200 && r.status < 300, `upload answered ${r.status}: ${r.text.slice(0, 200)}`),
    },
    {
      feature: 'file publish',
      source: `${R}/PublishRouter.swift L90-94, L121-122`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22file%22:%7B%22id%22:%22{fileId}%22,%22name%22:%22{fileName}%22%7D,%22message%22:%7B%22hi%22:1%7D%7D',
        'store=1',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${R}/FileManagementRouter.swift L87, L101-104; L178-230 (status, data, count Int required; name, id, size, created Date)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => {
        const files = list(r);
        assert.ok(Number.isInteger(r.json.count), 'count required');
        const f = files.find((x) => x.id === ctx.fileId);
        assert.ok(f);
        assert.ok(Number.isInteger(f.size));
        assert.match(f.created, SWIFT_DATE);
      },
    },
    {
      feature: 'file download',
      source: `${R}/FileManagementRouter.swift L89-93 (URLSession download task follows redirects)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location);
        else assert.equal(r.text, ctx.fileText);
      },
    },
    ...['', 'a', 'ab'].map((suffix) => ({
      feature: 'grant token' as const,
      variant: `issued by a server, parsed by Swift; channel name +${suffix.length}: every token length`,
      source:
        'pubnub/swift Sources/PubNub/Helpers/PAMToken.swift L44-57 (removingPercentEncoding, - → +, _ → /, Data(base64Encoded:) strict), L20-35 and L60-72 (Codable: v t ttl res pat meta sig; res/pat chan grp uuid required); the grant is the JS form',
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          `{"ttl":15,"permissions":{"uuid":"{uuid}","resources":{"channels":{"{ch}${suffix}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}`,
        ),
      }),
      runs: 'signed' as const,
      signer: signJavaScript,
      expect: (r: Reply) => void swiftParse(grantedToken(r)),
    })),
    {
      feature: 'grant token',
      variant: 'for use',
      source: 'the JS grant form (a server grants, Swift uses)',
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"uuid":"{uuid}","resources":{"channels":{"{ch}":3},"groups":{},"uuids":{},"users":{},"spaces":{}},"patterns":{"channels":{},"groups":{},"uuids":{},"users":{},"spaces":{}},"meta":{}}}',
        ),
      }),
      runs: 'signed',
      signer: signJavaScript,
      expect: (r) => void grantedToken(r),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
      },
    },
    {
      feature: 'token use',
      source: 'pubnub/swift Sources/PubNub/Networking/HTTPRouter.swift L214-217 (auth = authToken ?? authKey)',
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'file delete',
      source: `${R}/FileManagementRouter.swift L93; L173-176 (GeneralSuccessResponse: status)`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => status(r, 200),
    },
    deniedCase(
      'pubnub/swift Sources/PubNub/Networking/Response/GenericServicePayloadResponse.swift L250-294 (payload and channels decoded as [String: [String]])',
      req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22'),
    ),
  ],
};
