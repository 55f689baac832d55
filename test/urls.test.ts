// Function URLs on serve's port, driven as a user drives them: node:http and fetch (undici) with the Host header of
// the URL or its path form, and curl. Functions run on our runtime as child processes (ProcessInvoker) in an
// in-process service; URL configs are put in the service's own store.
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionUrlRecord, FunctionUrlStore, UrlCors } from '../src/urls/url-config.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { Sha256 } from './support/node-sha256.ts';

const HANDLER = `
export const handler = async (event, context) => {
  switch (event.rawPath) {
    case '/context':
      return { arn: context.invokedFunctionArn, version: context.functionVersion };
    case '/full':
      return { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-custom': 'yes' }, cookies: ['a=1; Path=/', 'b=2; HttpOnly'], body: 'created' };
    case '/binary':
      return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
    case '/object':
      return { message: 'hi', list: [1, 2] };
    case '/string':
      return 'Hello';
    case '/throw':
      throw new Error('the function failed');
    case '/malformed':
      return { statusCode: 'not a status', body: 'x' };
    case '/cors':
      return { statusCode: 200, headers: { 'access-control-allow-origin': 'https://function.example', 'content-type': 'text/plain' }, body: 'cors' };
    default:
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
  }
};
`;

/** Three server-sent events 400 ms apart, with the HTTP prelude of HttpResponseStream.from. */
const STREAMER = `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.rawPath === '/bad-prelude') {
    responseStream.setContentType('application/vnd.awslambda.http-integration-response');
    responseStream.write('{not json' + '\\0'.repeat(8) + 'body');
    responseStream.end();
    return;
  }
  if (event.rawPath === '/fail' || event.rawPath === '/forever') {
    const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
    stream.write('part');
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (event.rawPath === '/fail') throw new Error('failed mid-stream');
    await new Promise(() => setInterval(() => {}, 1000));
  }
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 207,
    headers: { 'content-type': 'text/event-stream', 'x-streamed': 'yes' },
    cookies: ['s=1', 't=2'],
  });
  for (let i = 1; i <= 3; i++) {
    if (i > 1) await new Promise((resolve) => setTimeout(resolve, 400));
    stream.write('data: ' + i + '\\n\\n');
  }
  stream.end();
});
`;

const REGION = 'us-east-1';
const ids = {
  echo: 'a'.repeat(32),
  streamed: 'b'.repeat(32),
  streamerBuffered: 'c'.repeat(32),
  cors: 'd'.repeat(32),
  iam: 'e'.repeat(32),
  throttled: 'f'.repeat(32),
  echoStreamMode: '0123456789abcdefghijklmnopqrstuv',
  corsAny: '9'.repeat(32),
};
const UNKNOWN_ID = 'z'.repeat(32);
const hostOf = (urlId: string) => `${urlId}.lambda-url.${REGION}.localhost`;

let dataDir: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;
let lambda: LambdaClient;
let port: number;

function urlStore(): FunctionUrlStore {
  return service!.store.functionUrls;
}

async function addUrl(urlId: string, functionName: string, extra: Partial<FunctionUrlRecord> = {}): Promise<void> {
  const now = new Date().toISOString();
  const created = await urlStore().create({
    urlId,
    functionName,
    authType: 'NONE',
    invokeMode: 'BUFFERED',
    creationTime: now,
    lastModifiedTime: now,
    ...extra,
  });
  if (!created) throw new Error(`${functionName} has a URL already`);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** When each chunk arrived (ms since the request was sent). */
  chunks: { at: number; text: string }[];
}

/** One request to serve's port with the headers as given (Host included: fetch cannot set it). */
function send(options: { method?: string; path?: string; headers?: Record<string, string | string[]>; body?: Buffer | string }): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {} }, (res) => {
      const chunks: { at: number; text: string }[] = [];
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        chunks.push({ at: performance.now() - started, text: chunk.toString('utf8') });
      });
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), chunks });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The credentials serve accepts for AWS_IAM URLs: its own (the environment's), as `lambkin serve` is started with. */
const KEY = { accessKeyId: 'AKIAURLTESTKEY000001', secretAccessKey: 'url-test-secret' };

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = KEY.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = KEY.secretAccessKey;
  dataDir = await makeDataDir('lambkin-urls-');
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker });
  lambda = service.lambda;
  port = Number(new URL(service.endpoint).port);
  const zip = makeZip([
    { name: 'index.mjs', content: HANDLER },
    { name: 'stream.mjs', content: STREAMER },
  ]);
  await createNodeFunction(lambda, 'web', zip);
  await createNodeFunction(lambda, 'streamer', zip, { Handler: 'stream.handler' });
  await createNodeFunction(lambda, 'throttled', zip);
  // One URL per function (and alias): each config below has its own copy of the function.
  for (const name of ['web-streamed', 'web-cors', 'web-cors-any', 'web-iam', 'web-sdk', 'web-alias']) await createNodeFunction(lambda, name, zip);
  await createNodeFunction(lambda, 'streamer-buffered', zip, { Handler: 'stream.handler' });
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 0 }));
  const cors: UrlCors = {
    AllowOrigins: ['https://app.example'],
    AllowMethods: ['GET', 'POST'],
    AllowHeaders: ['x-custom', 'content-type'],
    ExposeHeaders: ['x-custom'],
    MaxAge: 300,
    AllowCredentials: true,
  };
  await addUrl(ids.echo, 'web');
  await addUrl(ids.echoStreamMode, 'web-streamed', { invokeMode: 'RESPONSE_STREAM' });
  await addUrl(ids.streamed, 'streamer', { invokeMode: 'RESPONSE_STREAM' });
  await addUrl(ids.streamerBuffered, 'streamer-buffered');
  await addUrl(ids.cors, 'web-cors', { cors });
  await addUrl(ids.corsAny, 'web-cors-any', { cors: { AllowOrigins: ['*'], AllowMethods: ['*'] } });
  await addUrl(ids.iam, 'web-iam', { authType: 'AWS_IAM' });
  await addUrl(ids.throttled, 'throttled');
});

afterAll(async () => {
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
});

describe('the request event (payload format 2.0)', () => {
  it('carries every documented field, from the Host form', async () => {
    const before = Date.now();
    const answer = await send({
      method: 'POST',
      path: '/echo/a%20b?x=1&x=2&y=z%20w',
      headers: {
        host: `${hostOf(ids.echo)}:${port}`,
        'user-agent': 'lambkin-test/1.0',
        'content-type': 'application/json',
        'X-Multi': ['one', 'two'],
        cookie: 'c1=v1; c2=v2',
      },
      body: '{"k":1}',
    });
    expect(answer.status).toBe(200);
    const event = JSON.parse(answer.text);
    expect(event).toEqual({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/echo/a%20b',
      rawQueryString: 'x=1&x=2&y=z%20w',
      cookies: ['c1=v1', 'c2=v2'],
      headers: {
        host: `${hostOf(ids.echo)}:${port}`,
        'user-agent': 'lambkin-test/1.0',
        'content-type': 'application/json',
        'content-length': '7',
        'x-multi': 'one,two',
        connection: expect.any(String),
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': String(port),
        'x-amzn-trace-id': expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
      },
      queryStringParameters: { x: '1,2', y: 'z w' },
      requestContext: {
        accountId: 'anonymous',
        apiId: ids.echo,
        authentication: null,
        domainName: hostOf(ids.echo),
        domainPrefix: ids.echo,
        http: { method: 'POST', path: '/echo/a%20b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'lambkin-test/1.0' },
        requestId: answer.headers['x-amzn-requestid'],
        routeKey: '$default',
        stage: '$default',
        time: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
        timeEpoch: expect.any(Number),
      },
      body: '{"k":1}',
      isBase64Encoded: false,
      pathParameters: null,
      stageVariables: null,
    });
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(event.requestContext.timeEpoch).toBeLessThanOrEqual(Date.now());
    // The readable time is the same instant as timeEpoch, to the second.
    const [, day, mon, year, hh, mm, ss] = /^(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)/.exec(event.requestContext.time)!;
    expect(Date.parse(`${day} ${mon} ${year} ${hh}:${mm}:${ss} GMT`)).toBe(Math.floor(event.requestContext.timeEpoch / 1000) * 1000);
  });

  it('leaves out body, cookies and queryStringParameters when the request has none', async () => {
    const event = JSON.parse((await send({ path: '/', headers: { host: hostOf(ids.echo) } })).text);
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).toMatchObject({ rawPath: '/', rawQueryString: '', isBase64Encoded: false, requestContext: { http: { method: 'GET' } } });
  });

  it('gives a binary body base64-encoded, with isBase64Encoded', async () => {
    const bytes = Buffer.from([0, 1, 2, 200, 255]);
    const event = JSON.parse(
      (await send({ method: 'PUT', path: '/', headers: { host: hostOf(ids.echo), 'content-type': 'application/octet-stream' }, body: bytes })).text,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
  });

  it('serves the path form /lambda-url/<urlId>/... to fetch, with the rest as the path', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/lambda-url/${ids.echo}/some/path?q=1`, { headers: { 'user-agent': 'fetch-test' } });
    expect(response.status).toBe(200);
    const event = await response.json();
    expect(event).toMatchObject({
      rawPath: '/some/path',
      rawQueryString: 'q=1',
      queryStringParameters: { q: '1' },
      requestContext: { apiId: ids.echo, domainName: hostOf(ids.echo), http: { path: '/some/path', userAgent: 'fetch-test' } },
    });
  });
});

describe('the response mapping', () => {
  it('maps the full form: status, headers, each cookie its own Set-Cookie, body', async () => {
    const answer = await send({ path: '/full', headers: { host: hostOf(ids.echo) } });
    expect(answer.status).toBe(201);
    expect(answer.headers['content-type']).toBe('text/plain');
    expect(answer.headers['x-custom']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(answer.text).toBe('created');
  });

  it('decodes a base64 body', async () => {
    const answer = await send({ path: '/binary', headers: { host: hostOf(ids.echo) } });
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(answer.body).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('sends a result without statusCode as JSON with 200, as it is', async () => {
    const object = await send({ path: '/object', headers: { host: hostOf(ids.echo) } });
    expect(object.status).toBe(200);
    expect(object.headers['content-type']).toBe('application/json');
    expect(JSON.parse(object.text)).toEqual({ message: 'hi', list: [1, 2] });
    const text = await send({ path: '/string', headers: { host: hostOf(ids.echo) } });
    expect(text.status).toBe(200);
    expect(text.text).toBe('"Hello"');
  });

  it('answers 502 Internal Server Error when the function throws or answers a malformed response', async () => {
    for (const path of ['/throw', '/malformed']) {
      const answer = await send({ path, headers: { host: hostOf(ids.echo) } });
      expect(answer.status, path).toBe(502);
      expect(answer.text, path).toBe('Internal Server Error');
    }
  });

  it('answers 403 AccessDeniedException for a url id that does not exist, in both forms', async () => {
    const byHost = await send({ headers: { host: hostOf(UNKNOWN_ID) } });
    expect(byHost.status).toBe(403);
    expect(byHost.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(byHost.text).toBe('{"Message":null}');
    const byPath = await fetch(`http://127.0.0.1:${port}/lambda-url/${UNKNOWN_ID}/`);
    expect(byPath.status).toBe(403);
    expect(byPath.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
  });

  it('answers 413 for a request body over 6 MB', async () => {
    const answer = await send({
      method: 'POST',
      headers: { host: hostOf(ids.echo), 'content-type': 'text/plain' },
      body: Buffer.alloc(6 * 1024 * 1024 + 1, 'a'),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
  });

  it('answers 429 when the function is throttled (reserved concurrency 0)', async () => {
    const answer = await send({ headers: { host: hostOf(ids.throttled) } });
    expect(answer.status).toBe(429);
    expect(answer.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
  });

  it('AWS_IAM: refuses an unsigned request, and one signed with a wrong secret, with 403; a signed one reaches the function', async () => {
    const unsigned = await send({ headers: { host: hostOf(ids.iam) } });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(unsigned.text).toBe('{"Message":"Forbidden"}');
    const signedBy = async (secretAccessKey: string) => {
      const signer = new SignatureV4({ service: 'lambda', region: REGION, sha256: Sha256, credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey } });
      const body = '{"signed":true}';
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: hostOf(ids.iam),
        path: '/echo',
        query: { a: 'b' },
        headers: { host: hostOf(ids.iam), 'content-type': 'application/json' },
        body,
      });
      return send({ method: 'POST', path: '/echo?a=b', headers: signed.headers, body });
    };
    const wrong = await signedBy('not-the-secret');
    expect(wrong.status).toBe(403);
    expect(wrong.text).toBe('{"Message":"Forbidden"}');
    const right = await signedBy(KEY.secretAccessKey);
    expect(right.status).toBe(200);
    const event = JSON.parse(right.text);
    expect(event.requestContext.accountId).toBe('123456789012');
    expect(event.requestContext.authorizer).toEqual({
      iam: {
        accessKey: KEY.accessKeyId,
        accountId: '123456789012',
        callerId: '123456789012',
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: 'arn:aws:iam::123456789012:root',
        userId: '123456789012',
      },
    });
    expect(event.body).toBe('{"signed":true}');
  });

  it('is reached by curl with the Host header set, and by its path form', async () => {
    const run = promisify(execFile);
    const byHost = await run('curl', ['-sS', '-i', '-H', `Host: ${hostOf(ids.echo)}`, `http://127.0.0.1:${port}/full`]);
    expect(byHost.stdout).toMatch(/^HTTP\/1\.1 201 /);
    expect(byHost.stdout.match(/^set-cookie: /gim)).toHaveLength(2);
    expect(byHost.stdout.endsWith('created')).toBe(true);
    const byPath = await run('curl', ['-sS', `http://127.0.0.1:${port}/lambda-url/${ids.echo}/object`]);
    expect(JSON.parse(byPath.stdout)).toEqual({ message: 'hi', list: [1, 2] });
  });
});

describe('CORS', () => {
  it('answers a preflight from the config, without running the function', async () => {
    const calls = invoker.calls.length;
    const answer = await send({
      method: 'OPTIONS',
      headers: { host: hostOf(ids.cors), origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'x-custom,content-type',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '300',
    });
    expect(invoker.calls.length).toBe(calls);
  });

  it('answers any origin with * when AllowOrigins is * (and credentials are not allowed)', async () => {
    const preflight = await send({
      method: 'OPTIONS',
      headers: { host: hostOf(ids.corsAny), origin: 'https://any.example', 'access-control-request-method': 'DELETE' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toBe('*');
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    const answer = await send({ path: '/full', headers: { host: hostOf(ids.corsAny), origin: 'https://any.example' } });
    expect(answer.status).toBe(201);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
  });

  it('gives no CORS headers to an origin the config does not allow', async () => {
    const answer = await send({
      method: 'OPTIONS',
      headers: { host: hostOf(ids.cors), origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("adds the configured headers to every response, over the function's own", async () => {
    const answer = await send({ path: '/cors', headers: { host: hostOf(ids.cors), origin: 'https://app.example' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(answer.headers['access-control-expose-headers']).toBe('x-custom');
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
    expect(answer.text).toBe('cors');
  });

  it('leaves a URL without a Cors config to the function: its headers stand, OPTIONS reaches it', async () => {
    const answer = await send({ path: '/cors', headers: { host: hostOf(ids.echo), origin: 'https://app.example' } });
    expect(answer.headers['access-control-allow-origin']).toBe('https://function.example');
  });
});

describe('invoke modes', () => {
  it('RESPONSE_STREAM: status, headers and cookies from the prelude, and each chunk before the function ends', async () => {
    const answer = await send({ headers: { host: hostOf(ids.streamed) } });
    expect(answer.status).toBe(207);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.headers['x-streamed']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['s=1', 't=2']);
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.text).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
    // The function writes 400 ms apart (800 ms from first to last): the first event arrives well before the last was
    // written (a margin for a loaded machine delaying one chunk).
    const first = answer.chunks.find((c) => c.text.includes('data: 1'))!;
    const last = answer.chunks.find((c) => c.text.includes('data: 3'))!;
    expect(first.text).not.toContain('data: 2');
    expect(last.at - first.at).toBeGreaterThan(400);
  });

  it('BUFFERED: a streaming function answers whole, its prelude applied', async () => {
    const answer = await send({ headers: { host: hostOf(ids.streamerBuffered) } });
    expect(answer.status).toBe(207);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.headers['set-cookie']).toEqual(['s=1', 't=2']);
    expect(answer.headers['content-length']).toBe(String('data: 1\n\ndata: 2\n\ndata: 3\n\n'.length));
    expect(answer.chunks).toHaveLength(1);
    expect(answer.text).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\n');
  });

  it('RESPONSE_STREAM with a function that does not stream: its result mapped as BUFFERED maps it', async () => {
    const answer = await send({ path: '/full', headers: { host: hostOf(ids.echoStreamMode) } });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('created');
  });
});

describe('a URL made through the SDK', () => {
  it('answers at the FunctionUrl CreateFunctionUrlConfig gave, as curl reaches it (names under localhost are loopback)', async () => {
    const created = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web-sdk', AuthType: 'NONE' }));
    expect(created.FunctionUrl).toMatch(new RegExp(`^http://[a-z0-9]{32}\\.lambda-url\\.${REGION}\\.localhost:${port}/$`));
    const run = promisify(execFile);
    const answer = await run('curl', ['-sS', '-i', `${created.FunctionUrl}full`]);
    expect(answer.stdout).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer.stdout.endsWith('created')).toBe(true);
  });
});

describe('a URL of an alias', () => {
  it("runs the alias's version, and the function sees the alias's ARN", async () => {
    const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName: 'web-alias' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'web-alias', Name: 'live', FunctionVersion: Version! }));
    const created = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web-alias', Qualifier: 'live', AuthType: 'NONE' }));
    const urlId = new URL(created.FunctionUrl!).hostname.split('.')[0]!;
    const answer = await send({ path: '/context', headers: { host: hostOf(urlId) } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ arn: 'arn:aws:lambda:us-east-1:123456789012:function:web-alias:live', version: Version });
  });
});

describe('a stream that goes wrong after it began', () => {
  /** The first chunk, then how reading the rest ended. */
  async function readCut(path: string): Promise<{ first: string; rest: string }> {
    const response = await fetch(`http://127.0.0.1:${port}/lambda-url/${ids.streamed}${path}`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    try {
      for (;;) if ((await reader.read()).done) return { first, rest: 'ended' };
    } catch {
      return { first, rest: 'cut' };
    }
  }

  it('answers 502 for a prelude that is not JSON, and the function answers the next request', async () => {
    const bad = await send({ path: '/bad-prelude', headers: { host: hostOf(ids.streamed) } });
    expect(bad.status).toBe(502);
    expect(bad.text).toBe('Internal Server Error');
    const next = await send({ headers: { host: hostOf(ids.streamed) } });
    expect(next.status).toBe(207);
  });

  it('cuts the connection when the function throws mid-stream (the body cannot end cleanly)', async () => {
    expect(await readCut('/fail')).toEqual({ first: 'part', rest: 'cut' });
  });

  it('cuts the connection when a function that never ends reaches its timeout', async () => {
    const started = Date.now();
    expect(await readCut('/forever')).toEqual({ first: 'part', rest: 'cut' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  }, 20_000);
});
