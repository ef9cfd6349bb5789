import { ParleyError } from '../errors.ts';

/** One part of a multipart/form-data body (RFC 7578). */
export interface MultipartPart {
  /** The `name` of Content-Disposition. */
  name: string;
  /** The `filename`, or null for a plain field. */
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

/** Bounds on what a form may hold, so a hostile body costs little to refuse. */
const MAX_PARTS = 64;
const MAX_HEADER_BYTES = 8192;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function invalid(what: string): ParleyError {
  return new ParleyError('INVALID_PARAM', `multipart body: ${what}`);
}

/** The boundary of a `multipart/form-data; boundary=…` Content-Type (RFC 2046 §5.1.1: 1–70 characters). */
export function boundaryOf(contentType: string | undefined): string {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new ParleyError('INVALID_PARAM', 'Content-Type must be multipart/form-data');
  }
  const params = parseParams(contentType.slice(contentType.indexOf(';') + 1));
  const boundary = params.get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70) throw invalid('missing or bad boundary');
  return boundary;
}

/**
 * Parses a whole (buffered) multipart body. Tolerates a preamble, an epilogue and transport padding
 * after a delimiter; a body without the closing delimiter is refused rather than guessed at, since a
 * truncated upload must not be stored as if it were complete.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let pos: number;
  if (body.subarray(0, delimiter.length).equals(delimiter)) pos = delimiter.length;
  else {
    const first = body.indexOf(nextDelimiter);
    if (first < 0) throw invalid('no boundary found');
    pos = first + nextDelimiter.length;
  }
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // "--": the closing delimiter
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw invalid('malformed delimiter line');
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos);
    if (headerEnd < 0 || headerEnd - pos > MAX_HEADER_BYTES) throw invalid('part headers missing or too long');
    const headers = parseHeaders(body.toString('utf8', pos, headerEnd));
    const dataStart = headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart - 2);
    if (dataEnd < 0) throw invalid('closing boundary missing');
    if (parts.length === MAX_PARTS) throw invalid(`more than ${MAX_PARTS} parts`);
    parts.push({ ...headers, data: body.subarray(Math.min(dataStart, dataEnd), dataEnd) });
    pos = dataEnd + nextDelimiter.length;
  }
}

function parseHeaders(text: string): Omit<MultipartPart, 'data'> {
  let disposition: Map<string, string> | null = null;
  let contentType: string | null = null;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid('malformed part header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') {
      if (!/^form-data\s*(;|$)/i.test(value)) throw invalid('part is not form-data');
      disposition = parseParams(value.slice(value.indexOf(';') + 1 || value.length));
    } else if (name === 'content-type') {
      contentType = value;
    }
  }
  const fieldName = disposition?.get('name');
  if (fieldName === undefined) throw invalid('part without a name');
  return { name: fieldName, filename: disposition?.get('filename') ?? null, contentType };
}

/** `; key=value; key="quoted \" value"` → lower-cased keys; the first occurrence of a key wins. */
function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ';' || text[i] === ' ' || text[i] === '\t')) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      i++;
    } else {
      const end = text.indexOf(';', i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (key && !out.has(key)) out.set(key, value);
  }
  return out;
}
