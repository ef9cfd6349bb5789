/**
 * PubNub's Ruby SDK (github.com/pubnub/ruby @ 4ebf4d8d, 5.6.0). Event#uri (lib/pubnub/event.rb L78-93)
 * writes the query SORTED by key through Formatter.params_hash_to_url_params (formatter.rb L118-132):
 * values URL-encoded (encode_www_form_component, `+` → `%20`), except `t`, `state` and
 * `filter-expr`, which go as already encoded by the event; meta, ortt and filter as encoded JSON.
 * pnsdk, uuid, auth and the `l_<op>` latency are added by Event#parameters (L146-164). Publish adds
 * `seqn` and `ortt={"t":…}`. Subscribe sends its cursor as ONE parameter `t={"r":…,"t":…}`
 * (subscribe_event.rb L141-144), not tt/tr. With a secret key, every request is signed v2
 * (event/signature.rb L9-54). No Files API.
 */
import assert from 'node:assert/strict';
import type { SdkRecord } from '../types.ts';
import { signRuby } from '../signing.ts';
import { ok, okObject, published, status, subscribeEnvelope, envelopeFields } from '../expect.ts';
import { deniedCase, actionData, fetched, grantedToken, json, list, objectData, req, savePublish } from './shared.ts';
import { lenientParse } from '../tokens.ts';

const R = 'pubnub/ruby lib/pubnub/events';
const ORTT = 'ortt=%7B%22t%22%3A17000000000000000%7D';

export const ruby: SdkRecord = {
  name: 'ruby',
  repository: 'github.com/pubnub/ruby@4ebf4d8d7a40a251a171961a9e22ed473b32ebfa (5.6.0)',
  sign: signRuby,
  signsTime: false,
  common: [
    ['pnsdk', 'PubNub-Ruby%2F5.6.0'],
    ['uuid', '{uuid}'],
  ],
  absent: {
    'publish POST v2': 'no /v2/publish',
    'signal POST': 'signal is GET only',
    fire: 'no fire event (publish with replicate: false instead)',
    'file generate-upload-url': 'no Files API in the Ruby SDK',
    'file upload': 'no Files API',
    'file publish': 'no Files API',
    'file list': 'no Files API',
    'file download': 'no Files API',
    'file url': 'no Files API',
    'file delete': 'no Files API',
  },
  cases: [
    {
      feature: 'time',
      source: `${R}/time.rb L20-22`,
      request: req('GET', '/time/0'),
      expect: (r) => assert.ok(Number.isInteger(ok(r)[0])),
    },
    {
      feature: 'publish GET',
      source: `${R}/publish.rb L51-83 (custom_message_type, store, meta, ttl, norep, seqn, ortt={"t":…}); formatter.rb L53-74 (message encoded)`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%7B%22text%22%3A%22hello%22%7D', `l_pub=0.01&meta=%7B%22k%22%3A%22v%22%7D&${ORTT}&seqn=1&store=1`),
      expect: (r) => void published(r),
      save: savePublish('msgTt'),
    },
    {
      feature: 'publish POST',
      source: `${R}/publish.rb L31-43, L72-83 (compressed: POST /publish/…/0 with the JSON body, no Content-Encoding); event/signature.rb L12-17 (signed as GET, no body)`,
      request: req('POST', '/publish/{pub}/{sub}/0/{ch}/0', `${ORTT}&seqn=2&store=1`, { body: json('{"text":"via post"}') }),
      expect: (r) => void published(r),
    },
    {
      feature: 'signal',
      source: `${R}/signal.rb L26-50 (seqn, ortt)`,
      request: req('GET', '/signal/{pub}/{sub}/0/{ch}/0/%7B%22typing%22%3Atrue%7D', `${ORTT}&seqn=3`),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe handshake',
      source: 'pubnub/ruby lib/pubnub/subscribe_event.rb L122-150 (t=encode({r: region_code, t: timetoken}), 0 and 0 at first)',
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 't=%7B%22r%22%3A0%2C%22t%22%3A0%7D'),
      expect: (r) => void subscribeEnvelope(r),
      save: (r, ctx) => {
        ctx.subTt = r.json.t.t;
      },
    },
    {
      feature: 'publish GET',
      variant: 'for the long-poll',
      source: `${R}/publish.rb L72-83`,
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22next%22', `${ORTT}&seqn=4`),
      expect: (r) => void published(r),
    },
    {
      feature: 'subscribe long-poll',
      source:
        'pubnub/ruby lib/pubnub/subscribe_event.rb L111-116 (timetoken and region from t.t/t.r, kept as given), L141-144; subscribe_event/formatter.rb L268-275',
      request: req('GET', '/v2/subscribe/{sub}/{ch}/0', 't=%7B%22r%22%3A1%2C%22t%22%3A%22{subTt}%22%7D'),
      expect: (r, ctx) => {
        const body = subscribeEnvelope(r);
        assert.ok(body.m.length >= 1, 'the message published after the handshake');
        body.m.forEach(envelopeFields);
        assert.ok(BigInt(body.t.t) > BigInt(ctx.subTt));
      },
    },
    {
      feature: 'heartbeat',
      source: `${R}/heartbeat.rb L21-43 (heartbeat; state encoded JSON)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/heartbeat', 'heartbeat=300'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'here_now',
      source: `${R}/here_now.rb L20-56`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}'),
      expect: (r, ctx) => assert.ok(okObject(r).uuids.includes(ctx.uuid)),
    },
    {
      feature: 'here_now global',
      source: `${R}/here_now.rb L20-48`,
      request: req('GET', '/v2/presence/sub-key/{sub}'),
      expect: (r) => assert.equal(typeof okObject(r).payload.channels, 'object'),
    },
    {
      feature: 'where_now',
      source: `${R}/where_now.rb L22-32`,
      request: req('GET', '/v2/presence/sub-key/{sub}/uuid/{uuid}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'set state',
      source: `${R}/set_state.rb L21-40 (state: encode_parameter(JSON), sent as is)`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/uuid/{uuid}/data', 'state=%7B%22mood%22%3A%22ok%22%7D'),
      expect: (r) => assert.deepEqual(okObject(r).payload, { mood: 'ok' }),
    },
    {
      feature: 'get state',
      source: `${R}/state.rb L22-40 ("sub_key")`,
      request: req('GET', '/v2/presence/sub_key/{sub}/channel/{ch}/uuid/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'leave',
      source: `${R}/leave.rb L26-45`,
      request: req('GET', '/v2/presence/sub-key/{sub}/channel/{ch}/leave'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'history v2',
      source: `${R}/history.rb L47-70`,
      request: req('GET', '/v2/history/sub-key/{sub}/channel/{ch}', 'count=100&include_token=true'),
      expect: (r) => assert.ok(Array.isArray(ok(r)[0])),
    },
    {
      feature: 'fetch v3',
      source: `${R}/fetch_messages.rb L50-67 (encode_channels=false unless actions)`,
      request: req(
        'GET',
        '/v3/history/sub-key/{sub}/channel/{ch}',
        'encode_channels=false&include_message_type=true&include_meta=true&include_uuid=true&max=25',
      ),
      expect: (r, ctx) => void fetched(r, ctx.ch),
    },
    {
      feature: 'message counts',
      source: `${R}/message_counts.rb L27-47`,
      request: req('GET', '/v3/history/sub-key/{sub}/message-counts/{ch}', 'timetoken={tt}'),
      expect: (r, ctx) => assert.ok(okObject(r).channels[ctx.ch] >= 1),
    },
    {
      feature: 'message action add',
      source: `${R}/add_message_action.rb L14-42 (JSON body, Content-Type: application/json)`,
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
      source: `${R}/get_message_actions.rb L16-36`,
      request: req('GET', '/v1/message-actions/{sub}/channel/{ch}', 'limit=100'),
      expect: (r) => okObject(r).data.forEach(actionData),
    },
    {
      feature: 'message action remove',
      source: `${R}/remove_message_actions.rb L20-31`,
      request: req('DELETE', '/v1/message-actions/{sub}/channel/{ch}/message/{msgTt}/action/{actionTt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'delete messages',
      source: `${R}/delete_messages.rb L20-36`,
      request: req('DELETE', '/v3/history/sub-key/{sub}/channel/{ch2}', 'start={tt}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group add',
      source: `${R}/channel_registration.rb L17-44 (add joined, then encoded)`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'add={ch}%2C{ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'channel group list',
      source: `${R}/channel_registration.rb L66-72`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.channels.includes(ctx.ch)),
    },
    {
      feature: 'channel group list all',
      source: `${R}/channel_registration.rb L54-58`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group'),
      expect: (r, ctx) => assert.ok(okObject(r).payload.groups.includes(ctx.cg)),
    },
    {
      feature: 'channel group remove',
      source: `${R}/channel_registration.rb L17-24`,
      request: req('GET', '/v1/channel-registration/sub-key/{sub}/channel-group/{cg}', 'remove={ch2}'),
      expect: (r) => status(r, 200),
    },
    {
      feature: 'uuid metadata set',
      source: `${R}/set_uuid_metadata.rb L33-62 (PATCH, body JSON, include sorted and joined)`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}', 'include=custom', { body: json('{"name":"Ann","custom":{"team":"blue"}}') }),
      expect: (r, ctx) => assert.equal(objectData(r, ctx.uuid).name, 'Ann'),
    },
    {
      feature: 'uuid metadata list',
      source: `${R}/get_all_uuid_metadata.rb L40-60 (limit, sort, count, include); event/signature.rb L48-49 (sort signed raw, sent encoded)`,
      request: req('GET', '/v2/objects/{sub}/uuids', 'count=true&include=custom&limit=100&sort=name%3Aasc'),
      expect: (r) => assert.ok(list(r).length >= 1),
    },
    {
      feature: 'memberships set',
      source: `${R}/set_memberships.rb L50-90 (body {"set": […]})`,
      request: req('PATCH', '/v2/objects/{sub}/uuids/{uuid}/channels', 'include=channel&limit=100', { body: json('{"set":[{"channel":{"id":"{ch}"}}]}') }),
      expect: (r, ctx) => assert.ok(list(r).some((m) => m.channel.id === ctx.ch)),
    },
    {
      feature: 'uuid metadata remove',
      source: `${R}/remove_uuid_metadata.rb`,
      request: req('DELETE', '/v2/objects/{sub}/uuids/{uuid}'),
      expect: (r) => void okObject(r),
    },
    {
      feature: 'grant v2',
      source: 'pubnub/ruby lib/pubnub/pam.rb L16-28 (channel, auth, timestamp; signature v2 GET); events/grant.rb L21-50 (w, r, m, d, g, u, j, ttl)',
      request: req('GET', '/v2/auth/grant/sub-key/{sub}', 'auth=auth-a&channel={ch}&m=0&r=1&ttl=60&w=1'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'audit v2',
      source: `${R}/audit.rb L19-31`,
      request: req('GET', '/v2/auth/audit/sub-key/{sub}', 'auth=auth-a&channel={ch}'),
      runs: 'signed',
      expect: (r) => void okObject(r).payload,
    },
    {
      feature: 'grant token',
      source: `${R}/grant_token.rb L28-38 (ttl, permissions: meta and uuid left out when nil); client.rb L338-341 (parse_token: urlsafe_decode64, re-pads)`,
      request: req('POST', '/v3/pam/{sub}/grant', '', {
        headers: { 'Content-Type': 'application/json' },
        body: json(
          '{"ttl":15,"permissions":{"uuid":"{uuid}","resources":{"channels":{"{ch}":3},"groups":{},"uuids":{}},"patterns":{"channels":{},"groups":{},"uuids":{}}}}',
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
      source: 'pubnub/ruby lib/pubnub/event.rb L151-156 (auth = the token)',
      request: req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22tok%22', `auth={token}&${ORTT}&seqn=5`),
      runs: 'signed',
      unsigned: true,
      expect: (r) => void published(r),
    },
    {
      feature: 'revoke token',
      source: `${R}/revoke_token.rb L56-64 (the token raw in the path)`,
      request: req('DELETE', '/v3/pam/{sub}/grant/{token}'),
      runs: 'signed',
      expect: (r) => void okObject(r),
    },
    deniedCase(
      'pubnub/ruby lib/pubnub/event.rb L233-300 (error_message, error_envelope read the parsed body)',
      req('GET', '/publish/{pub}/{sub}/0/{ch}/0/%22x%22', `${ORTT}&seqn=6`),
    ),
  ],
};
