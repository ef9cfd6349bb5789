// Types of sign.js (plain browser JavaScript, no build step) for the tests that run it in Node.
export interface SignedRequestInput {
  method: string;
  publishKey: string;
  path: string;
  query: Readonly<Record<string, string>>;
  body?: string;
}
export function encodeString(value: string): string;
export function canonicalQuery(params: Readonly<Record<string, string>>): string;
export function stringToSign(request: SignedRequestInput): string;
export function importSecret(secretKey: string): Promise<CryptoKey>;
export function signRequest(key: CryptoKey, request: SignedRequestInput): Promise<string>;
export function newSecret(): string;
