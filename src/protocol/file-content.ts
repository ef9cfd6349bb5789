/**
 * How shared files are typed and served. Files are uploaded by clients and served from Parley's own
 * origin (where the demo page lives too), so nothing a client uploads may run there as a page.
 */

const BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
};

const FALLBACK = 'application/octet-stream';

/** A MIME type guessed from the file name, as PubNub's service puts one in the upload form fields. */
export function contentTypeFor(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot < 0 ? undefined : BY_EXTENSION[name.slice(dot + 1).toLowerCase()]) ?? FALLBACK;
}

/** `type/subtype` with optional parameters, nothing that could split a header. */
const MIME = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}(\s*;\s*[A-Za-z0-9_-]+=("[^"\r\n]*"|[A-Za-z0-9_.-]+))*$/;

/** The Content-Type form field the uploader sent, if it is a well-formed MIME type; else the guess. */
export function uploadedContentType(field: string | undefined, name: string): string {
  const value = field?.trim() ?? '';
  return value.length <= 200 && MIME.test(value) ? value : contentTypeFor(name);
}

/** Types a browser only ever displays (never runs), so they may be shown inline. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|text\/plain)(\s*;.*)?$/i;

/** Headers of a download (§11): the bytes as uploaded, in a sandbox whatever their type. */
export function downloadHeaders(name: string, contentType: string, size: number): Record<string, string | number> {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const disposition = INLINE.test(contentType) ? 'inline' : 'attachment';
  return {
    'Content-Type': contentType,
    'Content-Length': size,
    'Content-Disposition': `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`,
    // Uploaded HTML or SVG must not script Parley's origin, even when opened directly.
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, max-age=0',
    'Access-Control-Allow-Origin': '*',
  };
}

function encodeRfc5987(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
