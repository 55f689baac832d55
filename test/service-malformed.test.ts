// A corpus of malformed requests against the Lambda API, as a fuzzing client or a broken script would send them:
// every operation's path with bad names, bad qualifiers and bad query strings, bodies that are not JSON, not
// objects, of the wrong types or truncated, code that is not base64 or not a zip, and invoke headers out of range.
// Whatever comes in, the service answers each one in Lambda's error shape, quickly, never with an internal error,
// and goes on serving real calls (a real function runs as a process through the real runtime).
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, payloadJson, ROLE } from './support/lambda-fixtures.ts';

const HANDLER = 'export const handler = async (event) => ({ echoed: event });';

interface MalformedRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const NAMES = [
  'no-such-function',
  '',
  '%ZZ',
  '%00',
  'a'.repeat(300),
  'bad%20name!',
  '..%2F..%2Fetc%2Fpasswd',
  'arn:aws:lambda:us-east-1:123456789012:function:',
  'echo:',
  'echo:$LATEST:x',
];
const BODIES: (string | Buffer)[] = [
  '',
  '{',
  'null',
  '[]',
  '"a string"',
  '12e9999',
  '{"FunctionName":123}',
  '{"FunctionName":"x","Code":{"ZipFile":"not base64!!"},"Runtime":"nodejs24.x","Role":"r","Handler":"h"}',
  '{"FunctionName":"x","Code":{"ZipFile":"UEsDBA=="},"Runtime":"nodejs24.x","Role":"arn:aws:iam::123456789012:role/r","Handler":"i.h"}',
  '{"MemorySize":"lots","Timeout":-1,"Environment":{"Variables":[1,2]}}',
  '{"ReservedConcurrentExecutions":-5}',
  '{"ProvisionedConcurrentExecutions":1e30}',
  `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0xc3, 0x28]),
];

function corpus(): MalformedRequest[] {
  const requests: MalformedRequest[] = [];
  for (const name of NAMES) {
    requests.push({ method: 'GET', path: `/2015-03-31/functions/${name}` });
    requests.push({ method: 'GET', path: `/2015-03-31/functions/${name}/configuration?Qualifier=%ZZ` });
    requests.push({ method: 'DELETE', path: `/2015-03-31/functions/${name}?Qualifier=` });
    requests.push({ method: 'POST', path: `/2015-03-31/functions/${name}/invocations?Qualifier=nope`, body: '{}' });
    requests.push({ method: 'GET', path: `/2019-09-30/functions/${name}/provisioned-concurrency?List=BOGUS` });
    requests.push({ method: 'POST', path: `/2018-10-31/layers/${name}/versions`, body: '{"Content":{}}' });
    requests.push({ method: 'GET', path: `/2018-10-31/layers/${name}/versions/not-a-number` });
  }
  for (const body of BODIES) {
    requests.push({ method: 'POST', path: '/2015-03-31/functions', body, headers: { 'content-type': 'application/json' } });
    requests.push({ method: 'PUT', path: '/2015-03-31/functions/echo/configuration', body });
    requests.push({ method: 'PUT', path: '/2015-03-31/functions/echo/code', body });
    requests.push({ method: 'PUT', path: '/2017-10-31/functions/echo/concurrency', body });
    requests.push({ method: 'PUT', path: '/2019-09-30/functions/echo/provisioned-concurrency?Qualifier=$LATEST', body });
    requests.push({ method: 'POST', path: '/2015-03-31/functions/echo/invocations', body });
  }
  const invokeHeaders: Record<string, string>[] = [
    { 'x-amz-invocation-type': 'Bogus' },
    { 'x-amz-invocation-type': 'DryRun' },
    { 'x-amz-log-type': 'Everything' },
    { 'x-amz-client-context': 'not base64 at all' },
    { 'x-amz-client-context': Buffer.from('x'.repeat(4000)).toString('base64') },
    { 'x-amz-client-context': Buffer.from('{not json').toString('base64') },
    { 'content-type': 'application/x-www-form-urlencoded' },
  ];
  for (const headers of invokeHeaders) requests.push({ method: 'POST', path: '/2015-03-31/functions/echo/invocations', body: '{"ok":1}', headers });
  for (const method of ['PATCH', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) {
    requests.push({ method, path: '/2015-03-31/functions' });
    requests.push({ method, path: '/2015-03-31/functions/echo/invocations' });
  }
  for (const path of [
    '/',
    '/2015-03-31',
    '/2015-03-31/functions/echo/invocations/extra',
    '/2016-08-19/account-settings/x',
    '/..%2f..%2f',
    '/2015-03-31/functions?Marker=%ZZ&MaxItems=-1',
    '/2015-03-31/functions?MaxItems=abc',
  ]) {
    requests.push({ method: 'GET', path });
  }
  return requests;
}

let dataDir: string;
let service: LocalService;
let lambda: LambdaClient;
let invoker: ProcessInvoker;

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-malformed-');
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker });
  lambda = service.lambda;
  // `echo` takes the corpus (some of it validly changes it); `survivor` is left alone, to invoke afterwards.
  for (const FunctionName of ['echo', 'survivor']) {
    await createActiveFunction(lambda, {
      FunctionName,
      Role: ROLE,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Code: { ZipFile: makeZip([{ name: 'index.mjs', content: HANDLER }]) },
    });
  }
});

afterAll(async () => {
  await service?.stop();
  await invoker?.close();
  await removeDataDir(dataDir);
});

describe('a corpus of malformed requests', () => {
  it('gets Lambda-shaped answers, none an internal error or a hang, and the service keeps serving', async () => {
    const requests = corpus();
    expect(requests.length).toBeGreaterThan(150);
    const client = new Client(service.endpoint, { pipelining: 1, headersTimeout: 15_000, bodyTimeout: 15_000 });
    const seen: string[] = [];
    try {
      for (const request of requests) {
        const started = performance.now();
        const response = await client.request({
          method: request.method as 'GET',
          path: request.path,
          body: request.body ?? null,
          headers: request.headers ?? {},
        });
        const text = await response.body.text();
        const what = `${request.method} ${request.path.slice(0, 80)} → ${response.statusCode} ${text.slice(0, 120)}`;
        seen.push(what);
        expect(performance.now() - started, what).toBeLessThan(10_000);
        expect(response.statusCode, what).not.toBe(500);
        if (response.statusCode >= 400) {
          // Lambda's error shape: the type in x-amzn-ErrorType, a JSON body with a message (`Message` for the errors
          // the model spells so, ResourceNotFoundException among them).
          expect(response.headers['x-amzn-errortype'], what).toBeTruthy();
          const body = JSON.parse(text);
          expect(body.message ?? body.Message, what).toEqual(expect.any(String));
        }
      }
    } finally {
      await client.close();
    }
    // Still serving, and the function still answers through the real runtime.
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'survivor', Payload: Buffer.from('{"after":"corpus"}') }));
    expect(payloadJson(answer)).toEqual({ echoed: { after: 'corpus' } });
  }, 120_000);
});
