/**
 * Sends one recorded request to Parley over HTTP, byte for byte as recorded (node:http, so the path
 * and query are not re-encoded the way WHATWG URL would, and redirects are not followed).
 */
import { request } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { VALUELESS, type Context, type RecordedBody, type Reply } from './types.ts';

/** A template named a value this run does not have (its producer failed or is a known gap). */
export class MissingValue extends Error {
  constructor(readonly key: string) {
    super(`no value for {${key}} in this run`);
  }
}

/** Replaces `{name}` from the context; `{requestid}` is a fresh UUID each time, as the SDKs send it. */
export function fill(template: string, ctx: Context): string {
  return template.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, key: string) => {
    if (key === 'requestid') return randomUUID();
    const value = ctx[key];
    if (value === undefined) throw new MissingValue(key);
    return value;
  });
}

export interface Wire {
  method: string;
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body: Buffer;
  /** The uncompressed body text, for signatures. */
  bodyText: string;
}

/** One upload form field as generate-upload-url returned it. */
interface FormField {
  key: string;
  value: string;
}

function multipart(body: Extract<RecordedBody, { kind: 'upload' }>, ctx: Context): { bytes: Buffer; contentType: string } {
  const fields: FormField[] = JSON.parse(fill('{uploadFields}', ctx));
  const ordered = body.keyFirst ? [...fields.filter((f) => f.key === 'key'), ...fields.filter((f) => f.key !== 'key')] : fields;
  const boundary = body.boundary === 'fileId' ? fill('{fileId}', ctx) : `----conformance${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const f of ordered) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.key}"\r\n\r\n${f.value}\r\n`));
  }
  const fileName = fill('{fileName}', ctx);
  const type = body.fileContentType ? `Content-Type: ${body.fileContentType}\r\n` : '';
  chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n${type}\r\n`));
  chunks.push(Buffer.from(fill(body.file, ctx)));
  chunks.push(Buffer.from(`\r\n--${boundary}--${body.closingCrlf === false ? '' : '\r\n'}`));
  return { bytes: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The body bytes, their plain text and the headers the body brings. */
export function buildBody(body: RecordedBody | undefined, ctx: Context): { bytes: Buffer; text: string; headers: Record<string, string> } {
  if (body === undefined) return { bytes: Buffer.alloc(0), text: '', headers: {} };
  if (body.kind === 'text') {
    const text = fill(body.text, ctx);
    return { bytes: Buffer.from(text), text, headers: {} };
  }
  if (body.kind === 'zlib') {
    const text = fill(body.text, ctx);
    return { bytes: deflateSync(Buffer.from(text)), text, headers: { 'content-encoding': body.contentEncoding } };
  }
  const { bytes, contentType } = multipart(body, ctx);
  return { bytes, text: '', headers: { 'content-type': contentType } };
}

export function send(origin: { host: string; port: number }, wire: Wire, timeoutMs: number): Promise<Reply> {
  const qs = wire.query.map(([k, v]) => (v === VALUELESS ? k : `${k}=${v}`)).join('&');
  const path = qs === '' ? wire.path : `${wire.path}?${qs}`;
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      {
        host: origin.host,
        port: origin.port,
        method: wire.method,
        path,
        headers: { ...wire.headers, ...(wire.body.length > 0 ? { 'content-length': String(wire.body.length) } : {}), connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, bytes, text, json });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms: ${wire.method} ${path.slice(0, 200)}`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(wire.body.length > 0 ? wire.body : undefined);
  });
}
