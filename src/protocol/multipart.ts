import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import { ParleyError, isParleyError } from '../errors.ts';

/**
 * The file upload's multipart/form-data body (RFC 7578), streamed through @fastify/busboy: nothing
 * beyond the limits below is kept, a body that stops arriving is dropped, and the caller authorizes
 * when the file part begins, before any byte of the file is consumed.
 */
export interface UploadLimits {
  /** Largest file part, bytes; one more byte is PAYLOAD_TOO_LARGE at once. */
  maxFileBytes: number;
  /** Largest body on the wire, bytes (file, fields, part headers, preamble, epilogue). */
  maxBodyBytes: number;
  /**
   * Most bytes read before the file part may begin (give or take one socket read): the form fields
   * that carry an upload token are read before it is verified, and only this far.
   */
  maxBytesBeforeFile: number;
  /** Longest pause between two chunks of the body, ms (REQUEST_TIMEOUT past it). */
  idleTimeoutMs: number;
}

export interface UploadForm {
  /** Non-file fields sent before the file part; the first occurrence of a name wins. */
  fields: ReadonlyMap<string, string>;
  /** The bytes of the part named `file`, or null when the form has none. */
  file: Buffer | null;
}

/** Bounds on the form around the file, so a hostile form costs little to refuse. */
export const MAX_FIELDS = 8;
export const MAX_FIELD_BYTES = 4096;
const MAX_PARTS = MAX_FIELDS + 2;
const MAX_PART_HEADER_BYTES = 8192;
const MAX_PART_HEADER_PAIRS = 16;

function invalid(what: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `multipart body: ${what}`);
}

function tooLarge(maxFileBytes: number): ParleyError {
  return new ParleyError('PAYLOAD_TOO_LARGE', `Your proposed upload exceeds the maximum allowed size (${maxFileBytes} bytes)`);
}

/** The boundary of a `multipart/form-data; boundary=…` Content-Type (RFC 2046 §5.1.1: 1–70 characters). */
export function boundaryOf(contentType: string | undefined): string {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new ParleyError('INVALID_PARAM', 'Content-Type must be multipart/form-data');
  }
  const m = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.){1,70})"|([^;\s"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  const boundary = m === null ? undefined : (m[1]?.replace(/\\(.)/g, '$1') ?? m[2]);
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70) throw invalid('missing or bad boundary');
  return boundary;
}

function createParser(req: IncomingMessage, limits: UploadLimits): BusboyInstance {
  return Busboy({
    headers: req.headers as BusboyHeaders,
    // The part named `file` is the file, whatever its Content-Type or filename; every other part is a field.
    isPartAFile: (name) => name === 'file',
    limits: {
      fileSize: limits.maxFileBytes,
      files: 1,
      fields: MAX_FIELDS,
      fieldSize: MAX_FIELD_BYTES,
      parts: MAX_PARTS,
      headerSize: MAX_PART_HEADER_BYTES,
      headerPairs: MAX_PART_HEADER_PAIRS,
    },
  });
}

/**
 * Reads the upload form from the request stream. `beforeFile(fields)` runs when the part named `file`
 * begins and may throw to refuse the upload; parts after the file are read and dropped. A body that
 * ends before its closing delimiter is refused, since a truncated upload must never be stored as if it
 * were whole. Every refusal stops reading at once: the server answers with `Connection: close`.
 */
export function readUploadForm(req: IncomingMessage, limits: UploadLimits, beforeFile: (fields: ReadonlyMap<string, string>) => void): Promise<UploadForm> {
  return new Promise((resolve, reject) => {
    // Throws INVALID_PARAM, which rejects: the caller always gets a promise.
    boundaryOf(req.headers['content-type']);
    const fields = new Map<string, string>();
    const chunks: Buffer[] = [];
    let bodyBytes = 0;
    let fileStarted = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    let parser: BusboyInstance;
    try {
      parser = createParser(req, limits);
    } catch (err) {
      reject(invalid(err instanceof Error ? err.message : 'unreadable Content-Type'));
      return;
    }

    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onClose);
      parser.off('drain', onDrain);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      stop();
      // The parser may still hold listeners and emit; nothing it says matters any more.
      parser.on('error', () => {});
      reject(isParleyError(err) ? err : invalid(err instanceof Error ? err.message : String(err)));
    };
    const idle = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        fail(new ParleyError('REQUEST_TIMEOUT', `no part of the request body arrived for ${limits.idleTimeoutMs} ms`));
        // The 408 goes out with Connection: close; a peer that does not even read it is cut off.
        setTimeout(() => req.destroy(), limits.idleTimeoutMs).unref();
      }, limits.idleTimeoutMs);
    };
    // Fed by hand rather than piped: the bytes before the file part are cut at maxBytesBeforeFile exactly.
    const feed = (chunk: Buffer): boolean => parser.write(chunk);
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      idle();
      const before = bodyBytes;
      bodyBytes += chunk.length;
      if (bodyBytes > limits.maxBodyBytes) {
        fail(tooLarge(limits.maxFileBytes));
        return;
      }
      let more = true;
      if (!fileStarted && bodyBytes > limits.maxBytesBeforeFile) {
        const allowed = Math.max(0, limits.maxBytesBeforeFile - before);
        more = feed(chunk.subarray(0, allowed));
        if (settled) return;
        if (!fileStarted) {
          fail(invalid(`no file part within the first ${limits.maxBytesBeforeFile} bytes`));
          return;
        }
        if (allowed < chunk.length) more = feed(chunk.subarray(allowed));
      } else {
        more = feed(chunk);
      }
      if (!more && !settled) req.pause();
    };
    const onDrain = (): void => {
      if (!settled) req.resume();
    };
    const onEnd = (): void => {
      if (!settled) parser.end();
    };
    const onGone = (): void => fail(new ParleyError('CLIENT_CLOSED_REQUEST', 'the client closed the connection during the upload'));
    const onClose = (): void => {
      if (!req.complete) onGone();
    };

    parser.on('field', (name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      if (settled) return;
      if (typeof name !== 'string' || name === '') return fail(invalid('part without a name'));
      if (valueTruncated) return fail(invalid(`field "${name.slice(0, 40)}" is over ${MAX_FIELD_BYTES} bytes`));
      if (!fileStarted && !fields.has(name)) fields.set(name, value);
    });
    parser.on('file', (_name: string, stream: NodeJS.ReadableStream) => {
      // A file part cut short errors on its stream; unheard, that error would be thrown.
      stream.on('error', () => {});
      if (settled) {
        stream.resume();
        return;
      }
      fileStarted = true;
      try {
        beforeFile(fields);
      } catch (err) {
        stream.resume();
        fail(err);
        return;
      }
      stream.on('data', (c: Buffer) => {
        if (!settled) chunks.push(c);
      });
      stream.on('limit', () => fail(tooLarge(limits.maxFileBytes)));
      stream.on('error', (err: Error) =>
        fail(req.complete ? invalid(err.message) : new ParleyError('CLIENT_CLOSED_REQUEST', 'the client closed the connection during the upload')),
      );
    });
    parser.on('filesLimit', () => fail(invalid('more than one file part')));
    parser.on('fieldsLimit', () => fail(invalid(`more than ${MAX_FIELDS} fields`)));
    parser.on('partsLimit', () => fail(invalid(`more than ${MAX_PARTS} parts`)));
    parser.on('error', (err: unknown) => fail(err));
    parser.on('finish', () => {
      if (settled) return;
      settled = true;
      stop();
      resolve({ fields, file: fileStarted ? Buffer.concat(chunks) : null });
    });

    parser.on('drain', onDrain);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onClose);
    idle();
  });
}
