// Verifies an incoming request's AWS Signature Version 4 (the Authorization header form, service `lambda`, any
// region) the only trustworthy way: by signing the same request again with the SDK's own signer
// (@smithy/signature-v4: its canonical headers and canonical request) and the secret of the access key it names, with
// the date and the signed headers the client used, and comparing the two signatures in constant time. No canonical
// request is built by hand here, so lambkin and the SDKs cannot disagree about one. Refusals are AWS's
// (../shared/reference/permissions-and-extensions.md): 403 with the error type in x-amzn-ErrorType.
import { createHash, createHmac, createSecretKey, hash, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import { createScope, getCanonicalHeaders, getSigningKey, SignatureV4Base } from '@smithy/signature-v4';

/** The request shape the signer's canonical functions take. */
type HttpRequest = Parameters<typeof getCanonicalHeaders>[0];

export const SIGNING_SERVICE = 'lambda';
const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's date may be from now, either way, as AWS allows. */
export const SIGNATURE_WINDOW_MS = 15 * 60 * 1000;

/** The request as it arrived: `path` as sent (still percent-encoded), `query` the raw text after `?` (or ''). */
export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An incoming request as the verifier takes it: the target split at `?`, both parts as sent. */
export function signedRequestOf(req: { method?: string | undefined; url?: string | undefined; headers: IncomingHttpHeaders }, body: Buffer): SignedRequest {
  const target = req.url ?? '/';
  const at = target.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: at === -1 ? target : target.slice(0, at),
    query: at === -1 ? '' : target.slice(at + 1),
    headers: req.headers,
    body,
  };
}

/** Who signed: the key's owner. */
export interface SignerIdentity {
  accessKeyId: string;
  accountId: string;
  principalArn: string;
}

/** A key lambkin accepts: its secret, and whose it is. */
export interface AcceptedKey {
  secretAccessKey: string;
  accountId: string;
  principalArn: string;
}

export type KeyLookup = (accessKeyId: string) => AcceptedKey | undefined;

export interface SigV4Refusal {
  status: number;
  type: string;
  message: string;
}

export type SigV4Result = { ok: true; identity: SignerIdentity; region: string } | { ok: false; error: SigV4Refusal };

const refuse = (type: string, message: string): SigV4Result => ({ ok: false, error: { status: 403, type, message } });
const MISSING_TOKEN = () => refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
const UNKNOWN_KEY = () => refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const MISMATCH = () => refuse('InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE);
const incomplete = (message: string) => refuse('IncompleteSignatureException', message);

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA256 from node:crypto, in the shape the signer takes (a ChecksumConstructor). */
class NodeSha256 {
  private readonly secret: SourceData | undefined;
  private hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    if (typeof this.secret === 'string') return createHmac('sha256', bytesOf(this.secret));
    return createHmac('sha256', keyObjectOf(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    // A Buffer is a Uint8Array: no copy on the invoke path.
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/**
 * The signing key as a KeyObject, made once per key: the final HMAC of every verification is keyed by the same
 * (cached) derived key, and createHmac takes a KeyObject in a quarter of the time it takes raw bytes.
 */
const keyObjects = new WeakMap<ArrayBuffer | ArrayBufferView, KeyObject>();
function keyObjectOf(secret: ArrayBuffer | ArrayBufferView): KeyObject {
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(bytesOf(secret));
    keyObjects.set(secret, key);
  }
  return key;
}

function bytesOf(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * The SDK's signer, used for the part that must agree with every client: the canonical request, made by the
 * signer's own (protected) createCanonicalRequest, reached as a subclass may. What is left is fixed arithmetic on
 * it: AWS's string to sign and an HMAC keyed by the signing key, which the signer derives (getSigningKey, exported)
 * once per date and region and this class keeps. Once a key is derived, verification runs without an await, so a
 * request's check is not interleaved with other work on a busy event loop (`sign()` takes some fifteen promise
 * turns, and clones the request).
 */
class VerifyingSigner extends SignatureV4Base {
  private readonly credentials: { accessKeyId: string; secretAccessKey: string };
  private readonly signingKeys = new Map<string, KeyObject>();

  constructor(credentials: { accessKeyId: string; secretAccessKey: string }) {
    super({ service: SIGNING_SERVICE, region: 'us-east-1', credentials, sha256: NodeSha256, applyChecksum: false });
    this.credentials = credentials;
  }

  /** The signing key of a date (YYYYMMDD) and region, when it was derived before. */
  knownSigningKey(shortDate: string, region: string): KeyObject | undefined {
    return this.signingKeys.get(`${shortDate}/${region}`);
  }

  async deriveSigningKey(shortDate: string, region: string): Promise<KeyObject> {
    const key = createSecretKey(bytesOf(await getSigningKey(NodeSha256, this.credentials, shortDate, region, SIGNING_SERVICE)));
    // A few dates (today's, yesterday's near midnight) and regions: forget them all now and then.
    if (this.signingKeys.size >= 16) this.signingKeys.clear();
    this.signingKeys.set(`${shortDate}/${region}`, key);
    return key;
  }

  /** The signature of `request` (its headers: exactly those signed) as the signer makes it. */
  signatureOf(request: HttpRequest, signedHeaders: Set<string>, payloadHash: string, longDate: string, region: string, signingKey: KeyObject): string {
    const canonicalHeaders = getCanonicalHeaders(request, undefined, signedHeaders);
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const scope = createScope(longDate.slice(0, 8), region, SIGNING_SERVICE);
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
    return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  }
}

/** One signer per key, kept: the verifier is on every invoke's path. */
const signers = new Map<string, { secretAccessKey: string; signer: VerifyingSigner }>();
const MAX_SIGNERS = 1_000;

function signerFor(accessKeyId: string, secretAccessKey: string): VerifyingSigner {
  const known = signers.get(accessKeyId);
  if (known && known.secretAccessKey === secretAccessKey) return known.signer;
  const signer = new VerifyingSigner({ accessKeyId, secretAccessKey });
  if (signers.size >= MAX_SIGNERS) signers.clear();
  signers.set(accessKeyId, { secretAccessKey, signer });
  return signer;
}

interface Authorization {
  accessKeyId: string;
  /** YYYYMMDD, region, service, terminator. */
  scope: [string, string, string, string];
  signedHeaders: string[];
  signature: string;
}

/**
 * The Authorization header's parts, or AWS's words for what is missing from it. Whitespace between them is ignored.
 * Taken apart with indexOf and split, not regular expressions: it runs on every invoke, where whatever code it runs
 * is cold in the caches (a check that takes ~9 µs in a loop takes ~60 µs inside serve), so less code is less time.
 */
function parseAuthorization(header: string): Authorization | SigV4Result {
  const text = header.trim();
  const rest = text.slice(ALGORITHM.length);
  if (!text.startsWith(ALGORITHM) || (rest !== '' && !startsWithSpace(rest))) {
    return incomplete(`Authorization header requires 'Credential' parameter. Authorization=${header}`);
  }
  const parts: Record<'Credential' | 'SignedHeaders' | 'Signature', string | undefined> = {
    Credential: undefined,
    SignedHeaders: undefined,
    Signature: undefined,
  };
  for (const raw of rest.split(',')) {
    const part = withoutSpaces(raw);
    const at = part.indexOf('=');
    const name = part.slice(0, at);
    if (at > 0 && (name === 'Credential' || name === 'SignedHeaders' || name === 'Signature')) parts[name] = part.slice(at + 1);
  }
  const { Credential: credentialText, SignedHeaders: signedHeaders, Signature: signature } = parts;
  if (!credentialText) return incomplete(`Authorization header requires 'Credential' parameter. Authorization=${header}`);
  if (!signedHeaders) return incomplete(`Authorization header requires 'SignedHeaders' parameter. Authorization=${header}`);
  if (!signature) return incomplete(`Authorization header requires 'Signature' parameter. Authorization=${header}`);
  const credential = credentialText.split('/');
  if (credential.length !== 5) return incomplete(`Authorization header has an invalid Credential: ${credentialText}`);
  const [accessKeyId, ...scope] = credential as [string, string, string, string, string];
  return { accessKeyId, scope, signedHeaders: signedHeaders.split(';'), signature };
}

const startsWithSpace = (text: string) => text.trimStart().length < text.length;

/** A part of the header with every whitespace run taken out (a header's value has no line breaks). */
function withoutSpaces(part: string): string {
  const trimmed = part.trim();
  return trimmed.includes(' ') || trimmed.includes('\t') ? trimmed.replace(/\s+/g, '') : trimmed;
}

/** The last X-Amz-Date parsed and its time: a client's requests within one second all carry the same one. */
let lastAmzDate = { text: '', ms: 0 };

/** 20240101T000000Z → its time; undefined when it is not one. */
function parseAmzDate(value: string): number | undefined {
  if (value === lastAmzDate.text) return lastAmzDate.ms;
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  lastAmzDate = { text: value, ms };
  return ms;
}

const amzDate = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The query as the signer takes it: decoded names to decoded values (a repeated name: all of its values). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

/** Whether two signatures (hex text) are equal, in a time that does not tell how much of them matched. */
function constantTimeEqual(a: string, b: string): boolean {
  // A length difference is no secret (a signature is always 64 hex digits); no Buffers made on the invoke path.
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * Whether `request` carries a valid SigV4 signature (service `lambda`) by a key `keys` knows, made within 15
 * minutes of `now`: the signer's identity, or AWS's refusal. A promise only for a key's first request of a date and
 * region (the signer derives signing keys asynchronously); otherwise the answer itself, so that the invoke path does
 * not give up its turn of the event loop for a check that has nothing to wait for.
 */
export function verifySigV4(request: SignedRequest, keys: KeyLookup, now: number = Date.now()): SigV4Result | Promise<SigV4Result> {
  const header = headerText(request.headers.authorization);
  if (header === undefined || header.trim() === '') return MISSING_TOKEN();
  const auth = parseAuthorization(header);
  if ('ok' in auth) return auth;
  // Without the host, a signature could be replayed against another endpoint. AWS's words (not from a recording).
  if (!auth.signedHeaders.includes('host')) return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  const [shortDate, region, service, terminator] = auth.scope;
  if (service !== SIGNING_SERVICE || terminator !== 'aws4_request') {
    return refuse('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'. `);
  }
  const dateText = headerText(request.headers['x-amz-date']);
  const signedAt = dateText === undefined ? undefined : parseAmzDate(dateText);
  if (dateText === undefined || signedAt === undefined) {
    return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (signedAt < now - SIGNATURE_WINDOW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${dateText} is now earlier than ${amzDate(now - SIGNATURE_WINDOW_MS)} (${amzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + SIGNATURE_WINDOW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${dateText} is still later than ${amzDate(now + SIGNATURE_WINDOW_MS)} (${amzDate(now)} + 15 min.)`,
    );
  }
  const key = keys(auth.accessKeyId);
  if (!key) return UNKNOWN_KEY();
  if (shortDate !== dateText.slice(0, 8)) return MISMATCH();

  // The signer takes a content hash header at its word: one that is not the body's own is a tampered body.
  const payloadHash = hash('sha256', request.body, 'hex');
  const contentHash = headerText(request.headers['x-amz-content-sha256']);
  if (contentHash !== undefined && contentHash !== payloadHash) return MISMATCH();

  // Exactly the headers the client signed: the signer signs every header it is given.
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headerText(request.headers[name]);
    if (value === undefined) return MISMATCH();
    headers[name] = value;
  }
  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(request.query);
  } catch {
    // A malformed percent-escape: no client signed that.
    return MISMATCH();
  }
  const signer = signerFor(auth.accessKeyId, key.secretAccessKey);
  const compare = (signingKey: KeyObject): SigV4Result => {
    const expected = signer.signatureOf(
      { method: request.method, protocol: 'http:', hostname: headers.host ?? '', path: request.path, query, headers } as HttpRequest,
      new Set(auth.signedHeaders),
      payloadHash,
      dateText,
      region,
      signingKey,
    );
    if (!constantTimeEqual(expected, auth.signature)) return MISMATCH();
    return { ok: true, identity: { accessKeyId: auth.accessKeyId, accountId: key.accountId, principalArn: key.principalArn }, region };
  };
  const signingKey = signer.knownSigningKey(shortDate, region);
  return signingKey ? compare(signingKey) : signer.deriveSigningKey(shortDate, region).then(compare);
}

/** The access keys lambkin accepts: serve's own credentials, and any it is given (a keys file, later). */
export class KeyRing {
  private readonly keys = new Map<string, AcceptedKey>();

  /** serve's own AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), owned by `accountId`'s root. */
  static fromEnvironment(accountId: string, env: NodeJS.ProcessEnv = process.env): KeyRing {
    const ring = new KeyRing();
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (accessKeyId && secretAccessKey) ring.add(accessKeyId, { secretAccessKey, accountId, principalArn: `arn:aws:iam::${accountId}:root` });
    return ring;
  }

  /**
   * serve's own credentials: the environment's, else those of the shared credentials file's profile (AWS_PROFILE,
   * or `default`), read by the SDK's own loader. None found: an empty ring (signed requests are then refused).
   */
  static async fromServeCredentials(
    accountId: string,
    env: NodeJS.ProcessEnv = process.env,
    files: { filepath?: string; configFilepath?: string } = {},
  ): Promise<KeyRing> {
    const ring = KeyRing.fromEnvironment(accountId, env);
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return ring;
    try {
      const credentials = await fromIni({ profile: env.AWS_PROFILE || 'default', ignoreCache: true, ...files })();
      ring.add(credentials.accessKeyId, {
        secretAccessKey: credentials.secretAccessKey,
        accountId: credentials.accountId ?? accountId,
        principalArn: `arn:aws:iam::${credentials.accountId ?? accountId}:root`,
      });
    } catch {
      // No such profile, or one that needs more than a file (SSO, a role to assume): lambkin accepts no key of its own.
    }
    return ring;
  }

  add(accessKeyId: string, key: AcceptedKey): this {
    this.keys.set(accessKeyId, key);
    return this;
  }

  /** A KeyLookup over this ring, for verifySigV4. */
  readonly lookup: KeyLookup = (accessKeyId) => this.keys.get(accessKeyId);
}
