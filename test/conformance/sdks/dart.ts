/**
 * PubNub's Dart SDK (github.com/pubnub/dart @ afa76541, 8.0.1). Requests are built from path
 * segments and a query map (Dart Uri: path segments keep `:` `,` raw; query values through
 * Uri.encodeQueryComponent, then `+` → `%20`: networking/request_handler/io.dart L95-130); pnsdk is
 * added by networking.dart L52, uuid and auth by each endpoint. With a secret key every request is
 * signed v2 with its real method and its body (dx/_utils/default_flow.dart L55-75,
 * dx/_utils/signature.dart L30-57), including pnsdk in the signed query and `~` left raw.
 */
import assert from 'node:assert/strict';
import type { SdkRecord, SignInput } from '../types.ts';
import { signDart, signDartFileUrl } from '../signing.ts';
import { deliveredAfterHandshake, ok, okObject, published, status, subscribeEnvelope } from '../expect.ts';
import { deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, saveUpload, savePublish, uploadTicket } from './shared.ts';
import { dartParse } from '../tokens.ts';

const D = 'pubnub/dart pubnub/lib/src/dx/_endpoints';

export const dart: SdkRecord = {
  name: 'dart',
  repository: 'github.com/pubnub/dart@afa765417ac53d1581f99ed4a1b3acd15d1a5a11 (8.0.1)',
  sign: signDart,
  signsTime: false,
  common: [
    ['pnsdk', 'PubNub-Dart%2F8.0.1'],
    ['uuid', '{uuid}'],
  ],
  absent: {
    'publish POST': 'publish.dart builds GET only',
    'publish POST v2': 'no /v2/publish',
    'signal POST': 'signal is GET only',
    'audit v2': 'pam.dart has grant v2, grant-token and revoke only',
    'channel group list all': 'channel_group.dart has no list-all call',
  },
  cases: [
    {
      feature: 'time',
      source: `${D}/time.dart`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${D}/publish.dart L32-62 (store, meta as given, norep, custom_message_type, ttl)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22:%22hello%22%7D', 'store=1&meta=%7B%22k%22%3A%22v%22%7D'),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish GET',
      variant: 'a "~" in meta: raw on the wire and in the signature',
      source: `${D}/publish.dart L44-54; dx/_utils/signature.dart L7-12 (Uri.encodeQueryComponent leaves "~" raw)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tilde%22', 'store=1&meta=%7B%22k%22%3A%22v~w%22%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'fire',
      source: `${D}/publish.dart L44-51 (store=0, norep=true)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22f%22:1%7D', 'store=0&norep=true'),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${D}/signal.dart L21-40`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22:true%7D'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source:
        'pubnub/dart pubnub/lib/src/subscribe/_endpoints/subscribe.dart L20-62 (tt always, heartbeat when set; signed as GET); L68-74 (t.t parsed with BigInt.tryParse)',
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt=0&heartbeat=300'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${D}/publish.dart L32-62`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22'),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source: 'pubnub/dart pubnub/lib/src/subscribe/_endpoints/subscribe.dart L37-50',
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 'tt={subTt}&tr=1&heartbeat=300'),
      expect: deliveredAfterHandshake,
    },
    {
      feature: 'heartbeat',
      source: `${D}/presence.dart L27-50 ("sub_key"; heartbeat)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${D}/presence.dart L262-296 ("sub_key"; disable_uuids, state, limit)`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}', 'disable_uuids=0&limit=1000'),
      expect: (r) => assert.equal(typeof okObject(r).occupancy, 'number'),
    },
    {
      feature: 'where_now',
      source: `${D}/presence.dart L364-395`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r) => assert.ok(Array.isArray(okObject(r).payload.channels)),
    },
    {
      feature: 'set state',
      source: `${D}/presence.dart L80-110`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${D}/presence.dart L136-165`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'leave',
      source: `${D}/presence.dart L190-215 ("sub_key")`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${D}/history.dart L41-62`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=100&reverse=false&include_token=true'),
      expect: (r) => assert.ok(Array.isArray(ok(r)[0])),
    },
    {
      feature: 'fetch v3',
      source: `${D}/history.dart L132-157`,
      request: req('GET', '/v3/history/sub-key/{sub}/channel/{ch}', 'max=25&include_meta=true&include_message_type=true&include_uuid=true'),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${D}/history.dart L308-330`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${D}/message_action.dart L132-152 (JSON body)`,
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
      source: `${D}/message_action.dart L23-40`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(actionData),
    },
    {
      feature: 'message action remove',
      source: `${D}/message_action.dart L188-206`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'delete messages',
      source: `${D}/history.dart L370-386`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group add',
      source: `${D}/channel_group.dart L76-100`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch}%2C{ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group list',
      source: `${D}/channel_group.dart L16-40`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'channel group delete',
      source: `${D}/channel_group.dart L119-140`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}/remove'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'uuid metadata set',
      source: `${D}/objects/uuid_metadata.dart L189-206`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"Ann","custom":{"team":"blue"}}'),
      }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata list',
      source: `${D}/objects/uuid_metadata.dart L34-47 (include and sort joined with ",", count)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'include=custom&limit=100&count=true&sort=name%3Aasc'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${D}/objects/membership_metadata.dart L157-182`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=channel&limit=100', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"set":[{"channel":{"id":"{ch}"}}]}'),
      }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'uuid metadata remove',
      source: `${D}/objects/uuid_metadata.dart L238-250`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'file generate-upload-url',
      source: `${D}/files.dart L21-32`,
      request: req('POST', '/v1/files/{sub}/channels/{ch}/generate-upload-url', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json('{"name":"note.txt"}'),
      }),
      expect: uploadTicket,
      save: saveUpload,
    },
    {
      feature: 'file upload',
      source: `${D}/files.dart L57-75; networking/request_handler/io.dart L102-113 (form fields in order, then the file bytes)`,
      request: { method: 'POST', path: '{uploadPath}', body: { kind: 'upload', file: '{fileText}', fileContentType: 'application/octet-stream' } },
      expect: (r) => assert.ok(r.status >= 200 && r.status < 300, `upload answered ${r.status}`),
    },
    {
      feature: 'file publish',
      source: `${D}/files.dart L107-135 (store, ttl, meta, custom_message_type)`,
      request: req(
        'GET',
        '/v1/files/publish-file/{pub}/{sub}/0/{ch}/0/%7B%22file%22:%7B%22id%22:%22{fileId}%22,%22name%22:%22{fileName}%22%7D,%22message%22:%7B%22hi%22:1%7D%7D',
        'store=1',
      ),
      expect: (r) => void published(r),
    },
    {
      feature: 'file list',
      source: `${D}/files.dart L215-230`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files', 'limit=100'),
      expect: (r, ctx) => assert.ok(list(r).some((f) => f.id === ctx.fileId)),
    },
    {
      feature: 'file url',
      variant: 'getFileUrl, v1-signed',
      source:
        'pubnub/dart pubnub/lib/src/dx/files/files.dart L344-379 (v1 signature over the unencoded path; the host is hard-coded to ps.pndsn.com, an SDK bug); dx/_utils/signature.dart L14-28',
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      runs: 'signed',
      signer: (i: SignInput) => signDartFileUrl(i, i.path),
      expect: (r) => assert.ok(r.status === 200 || r.status === 307, `answered ${r.status}: ${r.text.slice(0, 200)}`),
    },
    {
      feature: 'file download',
      source: `${D}/files.dart L158-195 (GET on the file URL; dart:io HttpClient follows redirects)`,
      request: req('GET', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r, ctx) => {
        if (r.status >= 300 && r.status < 400) assert.ok(r.headers.location);
        else assert.equal(r.text, ctx.fileText);
      },
    },
    {
      feature: 'file delete',
      source: `${D}/files.dart L298-315`,
      request: req('DELETE', '/v1/files/{sub}/channels/{ch}/files/{fileId}/{fileName}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'grant v2',
      source: `${D}/pam.dart L88-112`,
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'auth=auth-a&channel={ch}&ttl=60&d=0&m=0&r=1&w=1'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'grant token',
      source: `${D}/pam.dart L10-27 (POST /v3/pam/{sub}/grant, JSON body); dx/pam/cbor.dart L5-30 (parseToken: re-pads, casts top-level keys to byte lists)`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"resources":{"channels":{"{ch}":3},"groups":{},"uuids":{}},"patterns":{"channels":{},"groups":{},"uuids":{}},"meta":{},"uuid":"{uuid}"}}',
        ),
      }),
      runs: 'signed',
      expect: (r) => void dartParse(grantedToken(r)),
      save: (r, ctx) => {
        ctx.token = r.json.data.token;
        ctx.tokenInPath = encodeURIComponent(ctx.token);
      },
    },
    {
      feature: 'token use',
      source: `${D}/publish.dart L51 and dx/_utils/default_flow.dart L44-53 (auth)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', 'auth={token}'),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${D}/pam.dart L225-240`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{tokenInPath}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(
      'pubnub/dart pubnub/lib/src/dx/_utils/exceptions.dart L40-50 (ForbiddenException(service, message) from a 403 body); core/exceptions.dart L99-105',
      req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22'),
    ),
  ],
};
