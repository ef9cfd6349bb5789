// PubNub's v2 request signature (wire-protocol.md §9), computed with WebCrypto exactly as
// src/access/signature.ts verifies it. The secret is imported once as a non-extractable HMAC key: the
// page can sign with it but never read it back, and it is never stored or sent.
// Plain ES module without browser-only globals, so test/unit/console/sign.test.ts runs it in Node too.

const utf8 = new TextEncoder();

/** The SDK's encodeString (§1.1): encodeURIComponent plus ! ~ * ' ( ). */
export function encodeString(value) {
  return encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** §9 step 3: keys sorted (plain code-unit order), values encoded, `signature` left out. */
export function canonicalQuery(params) {
  return Object.keys(params)
    .filter((key) => key !== 'signature')
    .sort()
    .map((key) => `${key}=${encodeString(String(params[key]))}`)
    .join('&');
}

/** §9 steps 2 and 4: publish is signed as GET; only POST and PATCH append the body. */
export function stringToSign({ method, publishKey, path, query, body = '' }) {
  const signedMethod = path.startsWith('/publish') ? 'GET' : method.toUpperCase();
  const head = `${signedMethod}\n${publishKey}\n${path}\n${canonicalQuery(query)}\n`;
  return signedMethod === 'POST' || signedMethod === 'PATCH' ? head + body : head;
}

/** The secret as a WebCrypto HMAC-SHA256 key that cannot be exported. */
export function importSecret(secretKey) {
  return globalThis.crypto.subtle.importKey('raw', utf8.encode(secretKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** §9 steps 5 and 6: `v2.` + base64url(HMAC-SHA256) without padding. */
export async function signRequest(key, request) {
  const mac = await globalThis.crypto.subtle.sign('HMAC', key, utf8.encode(stringToSign(request)));
  return `v2.${base64url(new Uint8Array(mac))}`;
}

/** A fresh secret for a rotation: 32 random bytes, base64url, with PubNub's `sec-c-` prefix. */
export function newSecret() {
  return `sec-c-${base64url(globalThis.crypto.getRandomValues(new Uint8Array(32)))}`;
}
