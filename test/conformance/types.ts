/**
 * The data model of the conformance suite (issue 10): for each official PubNub SDK, the requests it
 * sends, recorded as facts from its public source (file and line range in `source`), and what its
 * response parser needs, as assertions. The runner (conformance.test.ts) replays them against Parley.
 *
 * Templates: `{name}` in a path, a query value or a body is replaced from the run's context before
 * sending (keys, channel names, timetokens and ids captured from earlier answers). Names in use:
 * pub sub ch ch2 cg uuid, tt (a timetoken from before this run's messages), msgTt (the first publish),
 * subTt (the handshake's t.t), actionTt, fileId fileName, token, plus anything a case `save`s.
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A query value meaning "the name alone, without `=`" (Swift's valueless `ee`). */
export const VALUELESS = '\u0000';

/** Every feature a case can exercise; docs/compat.md has one column per group of these. */
export const FEATURES = [
  'time',
  'publish GET',
  'publish POST',
  'publish POST v2',
  'fire',
  'signal',
  'signal POST',
  'subscribe handshake',
  'subscribe long-poll',
  'heartbeat',
  'leave',
  'here_now',
  'here_now global',
  'where_now',
  'set state',
  'get state',
  'history v2',
  'fetch v3',
  'fetch with actions',
  'message counts',
  'delete messages',
  'channel group add',
  'channel group list',
  'channel group list all',
  'channel group remove',
  'channel group delete',
  'uuid metadata set',
  'uuid metadata get',
  'uuid metadata list',
  'uuid metadata remove',
  'channel metadata set',
  'channel metadata get',
  'channel metadata list',
  'channel metadata remove',
  'memberships set',
  'memberships get',
  'members set',
  'members get',
  'message action add',
  'message actions get',
  'message action remove',
  'file generate-upload-url',
  'file upload',
  'file publish',
  'file list',
  'file url',
  'file download',
  'file delete',
  'grant v2',
  'audit v2',
  'grant token',
  'token use',
  'revoke token',
  'access denied (403 body)',
] as const;

export type Feature = (typeof FEATURES)[number];

/** A request body as the SDK puts it on the wire. */
export type RecordedBody =
  /** Text sent as is (JSON for every JSON body). */
  | { readonly kind: 'text'; readonly text: string }
  /** Text compressed with zlib (`78 9c …`) and labelled with `contentEncoding`, which may not match (Python says gzip). */
  | { readonly kind: 'zlib'; readonly text: string; readonly contentEncoding: string }
  /**
   * The storage upload: the form fields generate-upload-url returned, in the SDK's order, then the file.
   * `keyFirst`: the `key` field first (Kotlin); `boundary: 'fileId'`: the file id is the boundary (Swift);
   * `closingCrlf: false`: no CRLF after the closing delimiter (Swift).
   */
  | {
      readonly kind: 'upload';
      readonly file: string;
      readonly keyFirst?: boolean;
      readonly boundary?: 'fileId';
      readonly closingCrlf?: boolean;
      /** The file part's Content-Type header, when the SDK sends one. */
      readonly fileContentType?: string;
    };

export interface RecordedRequest {
  readonly method: Method;
  /** The path exactly as the SDK sends it (still percent-encoded), a template. `{uploadPath}` is the upload URL's path. */
  readonly path: string;
  /** Query parameters in wire order, each value exactly as it appears on the wire (encoded), a template. */
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RecordedBody;
}

/** The answer as the SDK's transport sees it (redirects not followed). */
export interface Reply {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Buffer;
  readonly text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly json: any;
}

/** Values shared by the cases of one run, filled from the keyset and by `save`. */
export type Context = Record<string, string>;

export interface Case {
  readonly feature: Feature;
  /** Where the fact comes from: `'pubnub/<repo> <path> L<from>-<to>'` (several separated by `; `). */
  readonly source: string;
  /** A short name when an SDK records the same feature more than once. */
  readonly variant?: string;
  readonly request: RecordedRequest;
  /** What the SDK's response parser needs; throws (node:assert) when the answer would break it. */
  readonly expect: (reply: Reply, ctx: Context) => void | Promise<void>;
  /** Captures values for later cases (runs after `expect` passed). */
  readonly save?: (reply: Reply, ctx: Context) => void;
  /** Which runs replay this case: the app client on the open keyset, the secret-key holder on the Access Manager keyset. Default: both. */
  readonly runs?: 'open' | 'signed' | 'both';
  /** Sent without the SDK's common parameters (pnsdk, uuid, auth…): storage URLs taken from an answer. Uploads always are. */
  readonly bare?: boolean;
  /** Sent without timestamp/signature even in the signed run (a client using a token it was granted). */
  readonly unsigned?: boolean;
  /** A signature form of its own for this request (JS getFileUrl signs `LOCAL`). */
  readonly signer?: Signer;
  /** Query names whose value the SDK signs as it appears on the wire (it pre-encoded them before signing), not decoded. */
  readonly signsEncoded?: readonly string[];
  /** Parley does not yet do what this case needs: the run reports it with t.todo. The fix removes the mark. */
  readonly knownGap?: string;
  /** As knownGap, for the signed run only (a signature form the server does not accept yet). */
  readonly signedGap?: string;
}

/** How an SDK signs (signing.ts has one per form the official SDKs use). */
export interface SignInput {
  readonly method: Method;
  /** The path as sent. */
  readonly path: string;
  /** Query pairs in wire order with wire values (encoded), timestamp already added. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** The uncompressed body text ('' when none). */
  readonly body: string;
  readonly keys: { readonly publishKey: string; readonly subscribeKey: string; readonly secretKey: string };
  /** Names the SDK signs as sent (Case.signsEncoded). */
  readonly signsEncoded: ReadonlySet<string>;
}

export type Signer = (input: SignInput) => string;

export interface SdkRecord {
  /** `python`, `javascript`, … (also the prefix of this SDK's channel names). */
  readonly name: string;
  /** The repository the facts were read from, with the commit. */
  readonly repository: string;
  /** How the SDK signs when it holds the secret key; null when it never signs (Swift). */
  readonly sign: Signer | null;
  /** Query parameters the SDK adds to every request (wire values), before the case's own. */
  readonly common: ReadonlyArray<readonly [string, string]>;
  /** Whether the SDK adds `timestamp`/`signature` to /time (Kotlin, Go, Python do; JS does not). */
  readonly signsTime: boolean;
  readonly cases: readonly Case[];
  /** Features this SDK does not offer at all, with the reason (docs/compat.md says n/a). */
  readonly absent?: Readonly<Partial<Record<Feature, string>>>;
}
