// The SigV4 verifier against requests the real SDK signed: ones a LambdaClient sent (captured by a plain node:http
// server: ARNs and $LATEST in the path, queries, payloads) and ones @smithy/signature-v4 signed as a client would (a
// function URL request, a session token). Each verifies; each tampered with, signed with a wrong secret or an unknown
// key, too old or too new, or unsigned is refused with AWS's error type and words.
import { InvokeCommand, LambdaClient, ListFunctionsCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, SIGNATURE_MISMATCH_MESSAGE, verifySigV4, type SignedRequest, type SigV4Result } from '../src/iam/sigv4-verifier.ts';
import { Sha256 } from './support/node-sha256.ts';

const ACCESS_KEY = 'AKIALAMBKINTEST00001';
const SECRET = 'lambkin/test+secret/0123456789abcdefghijklmn';
const ACCOUNT = '123456789012';
const keys = new KeyRing().add(ACCESS_KEY, { secretAccessKey: SECRET, accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/tester` });

/** A plain HTTP server that keeps every request as it arrived and answers as Lambda would enough for the SDK. */
let server: Server;
let endpoint: string;
const captured: SignedRequest[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const at = url.indexOf('?');
      captured.push({
        method: req.method ?? 'GET',
        path: at < 0 ? url : url.slice(0, at),
        query: at < 0 ? '' : url.slice(at + 1),
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The request a real LambdaClient sends for `command`, as the server received it. */
async function sentBySdk(
  send: (client: LambdaClient) => Promise<unknown>,
  credentials: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
) {
  const client = new LambdaClient({ endpoint, region: 'eu-west-3', credentials, maxAttempts: 1 });
  const before = captured.length;
  try {
    await send(client);
  } finally {
    client.destroy();
  }
  expect(captured.length).toBe(before + 1);
  return captured[captured.length - 1]!;
}

const invokeArn = (client: LambdaClient) =>
  client.send(
    new InvokeCommand({
      FunctionName: `arn:aws:lambda:eu-west-3:${ACCOUNT}:function:my-fn`,
      Qualifier: '$LATEST',
      Payload: Buffer.from(JSON.stringify({ hello: 'wörld', list: [1, 2, 3] })),
      LogType: 'Tail',
    }),
  );

function refusal(result: SigV4Result) {
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

/** A function URL request signed by @smithy/signature-v4 as a client (aws4fetch, the SDK's signer) would. */
async function signedUrlRequest(options: { secret?: string; date?: Date; sessionToken?: string; service?: string } = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({
    service: options.service ?? 'lambda',
    region: 'us-east-1',
    credentials: {
      accessKeyId: ACCESS_KEY,
      secretAccessKey: options.secret ?? SECRET,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const body = Buffer.from('{"order":42}');
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost',
      port: 9000,
      // As a client takes it from a URL: percent-encoded (the signer encodes it once more, as for every service but S3).
      path: new URL('http://h/orders/a b/ü').pathname,
      query: { filter: 'x=y&z', tag: ['b', 'a'] },
      headers: {
        host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost:9000',
        'content-type': 'application/json',
        'x-custom': 'value',
      },
      body,
    },
    options.date ? { signingDate: options.date } : {},
  );
  // As it crosses the wire: the path and query percent-encoded, header names lower-case.
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return { method: 'POST', path: '/orders/a%20b/%C3%BC', query: 'filter=x%3Dy%26z&tag=b&tag=a', headers, body };
}

describe('SigV4 verification', () => {
  it('accepts what a real LambdaClient signed: an ARN and $LATEST in the path, a payload, queries', async () => {
    const invoke = await sentBySdk(invokeArn);
    // The SDK sent the ARN percent-encoded, and signed it encoded once more.
    expect(invoke.path).toContain('arn%3Aaws%3Alambda');
    expect(invoke.query).toBe('Qualifier=%24LATEST');
    expect(await verifySigV4(invoke, keys.lookup)).toEqual({
      ok: true,
      identity: { accessKeyId: ACCESS_KEY, accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/tester` },
      region: 'eu-west-3',
    });

    const list = await sentBySdk((client) => client.send(new ListFunctionsCommand({ MaxItems: 7, Marker: 'a b+c/=&d', MasterRegion: 'ALL' })));
    expect(list.query).toContain('Marker=');
    expect((await verifySigV4(list, keys.lookup)).ok).toBe(true);

    const versions = await sentBySdk((client) => client.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn:live' })));
    expect((await verifySigV4(versions, keys.lookup)).ok).toBe(true);
  });

  it('accepts a request @smithy/signature-v4 signed with a session token, in another region than the SDK requests', async () => {
    const request = await signedUrlRequest({ sessionToken: 'session-token-xyz' });
    expect(request.headers['x-amz-security-token']).toBe('session-token-xyz');
    const result = await verifySigV4(request, keys.lookup);
    expect(result).toMatchObject({ ok: true, region: 'us-east-1', identity: { accessKeyId: ACCESS_KEY } });
  });

  it('refuses a tampered body, header, path or query, and a wrong secret, as InvalidSignatureException', async () => {
    const invoke = await sentBySdk(invokeArn);
    const mismatched = async (request: SignedRequest) => {
      const error = refusal(await verifySigV4(request, keys.lookup));
      expect(error).toEqual({ status: 403, type: 'InvalidSignatureException', message: SIGNATURE_MISMATCH_MESSAGE });
    };
    await mismatched({ ...invoke, body: Buffer.from('{"hello":"world"}') });
    await mismatched({ ...invoke, path: invoke.path.replace('my-fn', 'my-fm') });
    await mismatched({ ...invoke, query: 'Qualifier=live' });
    await mismatched({ ...invoke, query: 'Qualifier=%E0%A4%A' });
    await mismatched({ ...invoke, method: 'PUT' });
    await mismatched({ ...invoke, headers: { ...invoke.headers, 'x-amz-log-type': 'None' } });
    await mismatched({ ...invoke, headers: { ...invoke.headers, host: 'evil.example:80' } });
    // A body swapped together with its hash header is still not what was signed.
    const otherBody = Buffer.from('{}');
    await mismatched({
      ...invoke,
      body: otherBody,
      headers: { ...invoke.headers, 'x-amz-content-sha256': createHash('sha256').update(otherBody).digest('hex') },
    });
    // A signature changed by one digit.
    const authorization = String(invoke.headers.authorization);
    const flipped = authorization.replace(/.$/, (last) => (last === '0' ? '1' : '0'));
    await mismatched({ ...invoke, headers: { ...invoke.headers, authorization: flipped } });

    const wrongSecret = await sentBySdk(invokeArn, { accessKeyId: ACCESS_KEY, secretAccessKey: `${SECRET}x` });
    await mismatched(wrongSecret);
    await mismatched({ ...(await signedUrlRequest()), body: Buffer.from('{"order":43}') });
    await mismatched({ ...(await signedUrlRequest()), query: 'filter=x%3Dy%26z&tag=a&tag=c' });
  });

  it('refuses an unknown key, a missing Authorization, another service, and a date outside 15 minutes, in AWS words', async () => {
    const unknown = await sentBySdk(invokeArn, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SECRET });
    expect(refusal(await verifySigV4(unknown, keys.lookup))).toEqual({
      status: 403,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });

    const invoke = await sentBySdk(invokeArn);
    const { authorization: _dropped, ...unsigned } = invoke.headers;
    expect(refusal(await verifySigV4({ ...invoke, headers: unsigned }, keys.lookup))).toEqual({
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });

    expect(refusal(await verifySigV4(await signedUrlRequest({ service: 'execute-api' }), keys.lookup)).type).toBe('InvalidSignatureException');

    const signedAt = new Date('2024-01-01T00:00:00Z');
    const old = await signedUrlRequest({ date: signedAt });
    expect(refusal(await verifySigV4(old, keys.lookup, Date.parse('2024-01-01T00:25:00Z')))).toEqual({
      status: 403,
      type: 'InvalidSignatureException',
      message: 'Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T002500Z - 15 min.)',
    });
    const early = refusal(await verifySigV4(old, keys.lookup, Date.parse('2023-12-31T23:40:00Z')));
    expect(early.type).toBe('InvalidSignatureException');
    expect(early.message).toBe('Signature not yet current: 20240101T000000Z is still later than 20231231T235500Z (20231231T234000Z + 15 min.)');
    // Within the window, either way, it verifies.
    expect((await verifySigV4(old, keys.lookup, Date.parse('2024-01-01T00:14:59Z'))).ok).toBe(true);
    expect((await verifySigV4(old, keys.lookup, Date.parse('2023-12-31T23:45:01Z'))).ok).toBe(true);
  });

  it('reads the Authorization header whatever whitespace separates its parts, and refuses one glued to the algorithm', async () => {
    const request = await signedUrlRequest();
    const header = String(request.headers.authorization);
    const withHeader = (authorization: string) => ({ ...request, headers: { ...request.headers, authorization } });
    // As the SDKs send it, with tabs and runs of spaces, with none after the commas, and with spaces around a part.
    for (const spaced of [header, header.replace(' ', ' \t  ').replaceAll(', ', ',\t'), header.replaceAll(', ', ','), header.replaceAll(', ', ' , ')]) {
      expect((await verifySigV4(withHeader(`  ${spaced} `), keys.lookup)).ok, spaced).toBe(true);
    }
    const glued = header.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256');
    expect(refusal(await verifySigV4(withHeader(glued), keys.lookup))).toEqual({
      status: 403,
      type: 'IncompleteSignatureException',
      message: `Authorization header requires 'Credential' parameter. Authorization=${glued}`,
    });
    const withoutSignature = header.slice(0, header.indexOf(', Signature='));
    expect(refusal(await verifySigV4(withHeader(withoutSignature), keys.lookup)).message).toBe(
      `Authorization header requires 'Signature' parameter. Authorization=${withoutSignature}`,
    );
  });

  it("takes serve's own credentials from the environment", async () => {
    const ring = KeyRing.fromEnvironment(ACCOUNT, { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET });
    expect(ring.lookup(ACCESS_KEY)).toEqual({ secretAccessKey: SECRET, accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` });
    expect((await verifySigV4(await sentBySdk(invokeArn), ring.lookup)).ok).toBe(true);
    expect(KeyRing.fromEnvironment(ACCOUNT, {}).lookup(ACCESS_KEY)).toBeUndefined();
  });

  it("takes serve's own credentials from the shared credentials file's profile when the environment has none", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-sigv4-'));
    try {
      const filepath = join(dir, 'credentials');
      const configFilepath = join(dir, 'config');
      await writeFile(
        filepath,
        `[default]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET}\n\n[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = other\n`,
      );
      await writeFile(configFilepath, '');
      const ring = await KeyRing.fromServeCredentials(ACCOUNT, {}, { filepath, configFilepath });
      expect((await verifySigV4(await sentBySdk(invokeArn), ring.lookup)).ok).toBe(true);
      const other = await KeyRing.fromServeCredentials(ACCOUNT, { AWS_PROFILE: 'other' }, { filepath, configFilepath });
      expect(other.lookup(ACCESS_KEY)).toBeUndefined();
      expect(other.lookup('AKIAOTHER00000000000')?.secretAccessKey).toBe('other');
      const none = await KeyRing.fromServeCredentials(ACCOUNT, { AWS_PROFILE: 'missing' }, { filepath, configFilepath });
      expect(none.lookup(ACCESS_KEY)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
