import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ParleyError } from '../../errors.ts';
import { isPresenceName } from '../../realtime/channel-name.ts';
import { contentTypeFor, downloadHeaders, uploadedContentType } from '../file-content.ts';
import { checkChannels, keysetFor } from '../guard.ts';
import { boundaryOf, readUploadForm } from '../multipart.ts';
import { decodeComponent, JS_CONTENT_TYPE, queryFlag, queryInt, queryJsonObject, sendJson, type RequestContext } from '../request.ts';
import { guarded, publicRoute, type Granted, type Parsed, type Route } from '../route.ts';
import type { Services } from '../services.ts';
import {
  signDownloadToken,
  signUploadToken,
  UPLOAD_TOKEN_FIELD,
  UPLOAD_TOKEN_PARAM,
  verifyDownloadToken,
  verifyUploadToken,
  type FileGrant,
} from '../file-token.ts';
import { CUSTOM_MESSAGE_TYPE } from './publish.ts';

/**
 * What the file routes use (route.ts): the file service for everything stored and published, and
 * the keysets and clock for the signed upload and download URLs, which stand in for a storage bucket.
 */
export type FileDeps = Pick<Services, 'config' | 'keysets' | 'clock' | 'files' | 'm'>;

/** Room for the form fields and part headers around the file itself, bytes. */
const FORM_OVERHEAD_BYTES = 64 * 1024;
/** Largest upload body on the wire: the file plus its form. */
const uploadBodyLimit = (config: Services['config']): number => config.files.maxFileBytes + FORM_OVERHEAD_BYTES;
/** listFiles: the SDK's default page, and the largest. */
const MAX_LIST_LIMIT = 100;
const HOST = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

function channelParam(ctx: RequestContext, s: FileDeps): string {
  const channel = decodeComponent(ctx.params.channel, 'channel');
  checkChannels(s, [channel], 'channel');
  if (isPresenceName(channel)) throw new ParleyError('INVALID_CHANNEL', 'presence channels carry no files');
  return channel;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
}

/**
 * The origin the client reached Parley at, for the upload URL: the Host header (or what a proxy in
 * front forwarded). A client that forges these headers only misdirects its own upload.
 */
function publicOrigin(req: IncomingMessage): string {
  const forwardedProto = firstHeader(req.headers['x-forwarded-proto']);
  const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const host = firstHeader(req.headers['x-forwarded-host']) ?? req.headers.host;
  if (host !== undefined && HOST.test(host)) return `${proto}://${host}`;
  const address = req.socket.localAddress ?? '127.0.0.1';
  return `${proto}://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`;
}

/** The `name` of a generate-upload-url body; a missing or non-string one reads as empty, which the service refuses. */
function fileName(body: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_JSON', 'the generate-upload-url body is not valid JSON');
  }
  const name = (parsed as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : '';
}

/**
 * §11 step 1: authorizes the send, then answers with an upload URL on Parley itself. The URL's query
 * carries a token signed for this keyset, channel, file id and deadline (upload-token.ts), so only the
 * party that was authorized here can upload, once, before the deadline, and the upload is authorized
 * before any byte of its body is read. The token is also a form field, for a client that would drop
 * the URL's query and for nodes of an older version during a rolling upgrade.
 */
async function generateUploadUrl(ctx: RequestContext, s: FileDeps, channel: string, { keyset }: Granted): Promise<void> {
  const { id, name } = s.files.newFile(fileName(ctx.body));
  const expiresAtMs = s.clock.nowMs() + s.config.files.uploadUrlTtlSec * 1000;
  const token = signUploadToken(keyset, { subscribeKey: keyset.subscribeKey, channel, id, name, expiresAtMs });
  sendJson(
    ctx.res,
    200,
    JSON.stringify({
      status: 200,
      data: { id, name },
      file_upload_request: {
        // The JS SDK posts to the URL's path and query as given (upload-file.ts `path`); so do Kotlin (@Url) and
        // Python. Go drops the query: its uploads authorize by the form field below.
        url: `${publicOrigin(ctx.req)}/v1/files/${encodeURIComponent(keyset.subscribeKey)}/upload?${UPLOAD_TOKEN_PARAM}=${token}`,
        method: 'POST',
        expiration_date: new Date(expiresAtMs).toISOString(),
        // The Node transport reads `key` (not `name`) from each field and posts them before the file.
        // Kotlin requires a field named `key` (S3's object key) and sends it first (sdk-differences.md §4).
        form_fields: [
          { key: 'key', value: `${id}/${name}` },
          { key: 'Content-Type', value: contentTypeFor(name) },
          { key: UPLOAD_TOKEN_FIELD, value: token },
        ],
      },
    }),
  );
}

/** The declared Content-Length, if any (Node has already refused a malformed one). */
function declaredLength(ctx: RequestContext): number | undefined {
  const raw = ctx.req.headers['content-length'];
  return raw === undefined ? undefined : Number(raw);
}

/**
 * §11 step 2, standing in for PubNub's storage bucket. The signed token is the authorization; it was
 * issued only after `send_file` was allowed. Nothing of the body is read before the token from the
 * URL verified and the declared length fits; a request without one (a URL from an older node, or Go,
 * which posts without the URL's query) authorizes by the form field instead, verified when the file part begins, before any byte of the file is read,
 * and with at most FORM_OVERHEAD_BYTES read before it. The form is streamed (multipart.ts) and only
 * the file, within files.maxFileBytes, is kept. Success is 204, which Go requires.
 */
async function upload(ctx: RequestContext, s: FileDeps): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  const urlToken = ctx.query.get(UPLOAD_TOKEN_PARAM);
  let grant: FileGrant | null = urlToken === undefined ? null : verifyUploadToken(urlToken, keyset, s.clock.nowMs());
  boundaryOf(ctx.req.headers['content-type']);
  const maxFileBytes = s.config.files.maxFileBytes;
  const maxBodyBytes = uploadBodyLimit(s.config);
  const declared = declaredLength(ctx);
  if (declared !== undefined && declared > maxBodyBytes) {
    throw new ParleyError('PAYLOAD_TOO_LARGE', `Your proposed upload exceeds the maximum allowed size (${maxFileBytes} bytes)`);
  }
  const form = await readUploadForm(
    ctx.req,
    { maxFileBytes, maxBodyBytes, maxBytesBeforeFile: FORM_OVERHEAD_BYTES, idleTimeoutMs: s.config.limits.bodyIdleTimeoutMs },
    (fields) => {
      const fieldToken = fields.get(UPLOAD_TOKEN_FIELD);
      if (grant === null) grant = verifyUploadToken(fieldToken, keyset, s.clock.nowMs());
      else if (fieldToken !== undefined && fieldToken !== urlToken) {
        throw new ParleyError('SIGNATURE_MISMATCH', `the ${UPLOAD_TOKEN_FIELD} form field differs from the upload URL's token`);
      }
    },
  );
  // No file part at all: a missing or bad token still answers first, as it would have with one.
  grant ??= verifyUploadToken(form.fields.get(UPLOAD_TOKEN_FIELD), keyset, s.clock.nowMs());
  if (form.file === null) throw new ParleyError('INVALID_PARAM', 'the file part is missing');
  const stored = await s.files.save(
    { subscribeKey: grant.subscribeKey, channel: grant.channel, id: grant.id, name: grant.name },
    uploadedContentType(form.fields.get('Content-Type'), grant.name),
    form.file,
  );
  if (!stored) throw new ParleyError('CONFLICT', 'this upload URL has been used already');
  ctx.res.writeHead(204, { 'Access-Control-Allow-Origin': '*' });
  ctx.res.end();
}

/** §11 step 3: a publish of `{message?, file: {id, name}}` (or its encrypted string) as an `e:4` message. */
interface PublishFileParams {
  channel: string;
  /** undefined for the POST form: the body is the message. */
  payload: string | undefined;
  customMessageType: string | null;
  meta: Record<string, unknown> | undefined;
  store: boolean;
  ttlHours: number | undefined;
}

function parsePublishFile(ctx: RequestContext, s: FileDeps): Parsed<PublishFileParams> {
  const { params, query } = ctx;
  const channel = channelParam(ctx, s);
  // GET carries the message in the path; Go's POST form carries it as the body, read after the decision.
  if (params.payload !== undefined && params.payload.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
  const payload = params.payload === undefined ? undefined : decodeComponent(params.payload, 'message');
  const customMessageType = query.get('custom_message_type') ?? null;
  if (customMessageType !== null && !CUSTOM_MESSAGE_TYPE.test(customMessageType)) {
    throw new ParleyError('INVALID_PARAM', 'custom_message_type must be 3-50 characters of A-Z a-z 0-9 _ -');
  }
  const meta = queryJsonObject(query, 'meta');
  const store = queryFlag(query, 'store') ?? s.config.history.storeByDefault;
  const ttlHours = queryInt(query, 'ttl', 0, 1_000_000);
  return { value: { channel, payload, customMessageType, meta, store, ttlHours }, resources: { channels: [channel] } };
}

async function publishFile(ctx: RequestContext, s: FileDeps, p: PublishFileParams, { keyset }: Granted): Promise<void> {
  const { channel, customMessageType, meta, store, ttlHours } = p;
  if (p.payload === undefined && ctx.body.length > s.config.limits.maxMessageBytes) throw new ParleyError('PAYLOAD_TOO_LARGE');
  const payload = p.payload ?? ctx.body.toString('utf8');
  const tt = await s.files.publish({
    subscribeKey: keyset.subscribeKey,
    channel,
    publisher: ctx.uuid,
    payload,
    meta: meta === undefined ? null : JSON.stringify(meta),
    customMessageType,
    store,
    ttlHours,
  });
  s.m.publishes({ kind: 'file' });
  sendJson(ctx.res, 200, `[1,"Sent","${tt}"]`, JS_CONTENT_TYPE);
}

function parseList(ctx: RequestContext, s: FileDeps): Parsed<{ channel: string; limit: number; next: string | null }> {
  const channel = channelParam(ctx, s);
  const limit = queryInt(ctx.query, 'limit', 1, MAX_LIST_LIMIT) ?? MAX_LIST_LIMIT;
  const next = ctx.query.get('next') || null;
  return { value: { channel, limit, next }, resources: { channels: [channel] } };
}

async function listFiles(
  ctx: RequestContext,
  s: FileDeps,
  { channel, limit, next }: { channel: string; limit: number; next: string | null },
  { keyset }: Granted,
): Promise<void> {
  const page = await s.files.list(keyset.subscribeKey, channel, limit, next);
  const data = page.files.map((f) => ({ name: f.name, id: f.id, size: f.size, created: f.created }));
  sendJson(ctx.res, 200, JSON.stringify({ status: 200, data, count: data.length, ...(page.next === null ? {} : { next: page.next }) }));
}

/** A file as its path names it: the channel, the id and the name. */
interface FilePath {
  channel: string;
  id: string;
  name: string;
}

function parseFilePath(ctx: RequestContext, s: FileDeps): Parsed<FilePath> {
  const channel = channelParam(ctx, s);
  const id = decodeComponent(ctx.params.id, 'file id');
  const name = decodeComponent(ctx.params.name, 'file name');
  return { value: { channel, id, name }, resources: { channels: [channel] } };
}

/**
 * As PubNub does, a download answers 307 with the file's storage URL in `Location` (§0.1): the Python
 * SDK's get_file_url and download_file read that header with redirects off; the JS, Kotlin, Go, C#,
 * Dart and Swift SDKs and browsers follow it. The storage URL is Parley's own: it carries a download
 * token signed for this file, minted only now that `download_file` was allowed, and expires after
 * files.downloadUrlTtlSec, like a presigned bucket URL.
 */
async function downloadFile(ctx: RequestContext, s: FileDeps, { channel, id, name }: FilePath, granted: Granted): Promise<void> {
  const { file } = await s.files.get({ subscribeKey: granted.keyset.subscribeKey, channel, id, name });
  const token = signDownloadToken(granted.keyset, {
    subscribeKey: file.subscribeKey,
    channel: file.channel,
    id: file.id,
    name: file.name,
    expiresAtMs: s.clock.nowMs() + s.config.files.downloadUrlTtlSec * 1000,
  });
  const location = `${publicOrigin(ctx.req)}/v1/files/${encodeURIComponent(file.subscribeKey)}/download/${token}/${encodeURIComponent(file.name)}`;
  ctx.res.writeHead(307, { Location: location, 'Content-Length': 0, 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
  ctx.res.end();
}

/** The storage URL a download redirects to: the signed download token is the authorization. */
async function serveDownload(ctx: RequestContext, s: FileDeps): Promise<void> {
  const keyset = keysetFor(s, ctx.params.sub);
  const grant = verifyDownloadToken(ctx.params.token, keyset, s.clock.nowMs());
  // The name in the URL is the one the token was minted for (it is what a browser saves the file as).
  if (decodeComponent(ctx.params.name, 'file name') !== grant.name) throw new ParleyError('NOT_FOUND', 'File does not exist');
  const { file, bytes } = await s.files.get({ subscribeKey: grant.subscribeKey, channel: grant.channel, id: grant.id, name: grant.name });
  // A reader that stops reading would hold the file's buffer with its connection: dropped when no
  // byte goes out for the body idle time, as a request body that stops arriving is.
  ctx.res.setTimeout(s.config.limits.bodyIdleTimeoutMs, () => ctx.res.destroy());
  ctx.res.writeHead(200, downloadHeaders(file.name, file.contentType, bytes.length));
  ctx.res.end(bytes);
}

/** The file message in history stays, as in PubNub; downloading it afterwards answers 404. */
async function deleteFile(ctx: RequestContext, s: FileDeps, { channel, id, name }: FilePath, { keyset }: Granted): Promise<void> {
  await s.files.remove({ subscribeKey: keyset.subscribeKey, channel, id, name });
  sendJson(ctx.res, 200, '{"status":200}');
}

const service = 'Files';
const channelOnly = (ctx: RequestContext, s: FileDeps): Parsed<string> => {
  const channel = channelParam(ctx, s);
  return { value: channel, resources: { channels: [channel] } };
};

export const fileRoutes: Route<FileDeps>[] = [
  guarded({
    method: 'POST',
    path: '/v1/files/:sub/channels/:channel/generate-upload-url',
    family: 'generic',
    service,
    operation: 'send_file',
    parse: channelOnly,
    handler: generateUploadUrl,
  }),
  publicRoute({
    method: 'POST',
    path: '/v1/files/:sub/upload',
    family: 'upload',
    service,
    why: 'stands in for the storage bucket: authorized by the signed one-shot upload token issued after send_file was allowed, verified before the body is read',
    handler: upload,
    readsOwnBody: true,
    maxBodyBytes: uploadBodyLimit,
  }),
  guarded({
    method: 'GET',
    path: '/v1/files/publish-file/:pub/:sub/0/:channel/0/:payload',
    family: 'publish',
    service: 'Publish',
    operation: 'publish_file',
    parse: parsePublishFile,
    handler: publishFile,
  }),
  guarded({
    method: 'GET',
    path: '/v1/files/:sub/channels/:channel/files',
    family: 'generic',
    service,
    operation: 'list_files',
    parse: parseList,
    handler: listFiles,
  }),
  guarded({
    method: 'GET',
    path: '/v1/files/:sub/channels/:channel/files/:id/:name',
    family: 'generic',
    service,
    operation: 'download_file',
    parse: parseFilePath,
    handler: downloadFile,
  }),
  publicRoute({
    method: 'GET',
    path: '/v1/files/:sub/download/:token/:name',
    family: 'generic',
    service,
    why: 'stands in for a presigned bucket URL: authorized by the expiring download token minted after download_file was allowed',
    handler: serveDownload,
  }),
  // Go publishes file messages by POST, the message as the body.
  guarded({
    method: 'POST',
    path: '/v1/files/publish-file/:pub/:sub/0/:channel/0',
    family: 'publish',
    service: 'Publish',
    operation: 'publish_file',
    parse: parsePublishFile,
    handler: publishFile,
  }),
  guarded({
    method: 'DELETE',
    path: '/v1/files/:sub/channels/:channel/files/:id/:name',
    family: 'generic',
    service,
    operation: 'delete_file',
    parse: parseFilePath,
    handler: deleteFile,
  }),
];
