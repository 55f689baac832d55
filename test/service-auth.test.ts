// `lambkin serve --auth sigv4`: the Lambda API accepts only requests signed (SigV4, service `lambda`) by a key of
// the keys file, and only what the signer's identity policy or the function's resource-based policy allows. Driven
// with the real @aws-sdk/client-lambda (its own signer), @smithy/signature-v4 for the hand-made requests, plain fetch
// for the unsigned ones, and the AWS CLI. AWS's statuses, error types and messages come from
// ../shared/reference/permissions-and-extensions.md.
import {
  AddPermissionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKeys } from '../src/iam/auth-keys.ts';
import { lambkinBin, withNode24 } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, payloadJson } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { Sha256 } from './support/node-sha256.ts';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const FN = 'guarded';
const FN_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FN}`;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const allow = (action: string, extra: object = {}) => ({ Effect: 'Allow', Action: action, Resource: '*', ...extra });
const policy = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements });

/** The keys file: the account's root (no policy: everything), users with and without policies, another account's user. */
const KEYS = {
  root: { accessKeyId: 'AKIAROOT', secretAccessKey: 'root-secret', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` },
  // Another key of the same root, given a policy in the keys file: held to it, like any other key with one.
  fenced: {
    accessKeyId: 'AKIAFENCEDROOT',
    secretAccessKey: 'fenced-secret',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    policy: policy(allow('lambda:*'), { Effect: 'Deny', Action: 'lambda:DeleteFunction', Resource: '*' }),
  },
  alice: {
    accessKeyId: 'AKIAALICE',
    secretAccessKey: 'alice-secret',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    policy: policy(allow('lambda:InvokeFunction'), allow('lambda:ListFunctions')),
  },
  dave: { accessKeyId: 'AKIADAVE', secretAccessKey: 'dave-secret', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/dave` },
  carol: {
    accessKeyId: 'AKIACAROL',
    secretAccessKey: 'carol-secret',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:user/carol`,
    policy: policy(allow('lambda:*'), { Effect: 'Deny', Action: 'lambda:InvokeFunction', Resource: FN_ARN }),
  },
  erin: {
    accessKeyId: 'AKIAERIN',
    secretAccessKey: 'erin-secret',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:user/erin`,
    // Invoke only functions whose ARN matches, and only as a principal of this account.
    policy: policy(
      allow('lambda:InvokeFunction', {
        Resource: `arn:aws:lambda:*:${ACCOUNT}:function:guard*`,
        Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
      }),
      allow('lambda:GetFunction', { Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER_ACCOUNT}:user/*` } } }),
    ),
  },
  bob: {
    accessKeyId: 'AKIABOB',
    secretAccessKey: 'bob-secret',
    accountId: OTHER_ACCOUNT,
    principalArn: `arn:aws:iam::${OTHER_ACCOUNT}:user/bob`,
    policy: policy(allow('lambda:InvokeFunction')),
  },
} as const;
type KeyName = keyof typeof KEYS;

const HANDLER = 'export const handler = async (event) => ({ echoed: event });';

/** The AWS CLI: .ci/run installs it; under CI a missing one fails its test instead of skipping it. */
const awsCli = await execa('aws', ['--version'], { reject: false }).then(
  (result) => result.exitCode === 0,
  () => false,
);

let dataDir: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;
const clients: LambdaClient[] = [];

/** A LambdaClient signing with `key`'s credentials (and perhaps a clock off by `systemClockOffset` ms). */
function clientOf(key: { accessKeyId: string; secretAccessKey: string }, systemClockOffset = 0): LambdaClient {
  const client = new LambdaClient({
    endpoint: service!.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
    systemClockOffset,
  });
  clients.push(client);
  return client;
}
const as = (name: KeyName) => clientOf(KEYS[name]);

const invoke = (name: KeyName, functionName = FN) =>
  as(name).send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ from: name })) }));

/** What a refusal shows a user: its status, its name and its message. */
async function refusal(promise: Promise<unknown>) {
  const error = await failure(promise);
  return { status: error.$metadata.httpStatusCode, name: error.name, message: error.message };
}

/** A request signed by @smithy/signature-v4 as the SDK signs, to be sent with fetch (and perhaps changed after). */
async function signedRequest(key: { accessKeyId: string; secretAccessKey: string }, path: string, body: string, unsignable: string[] = []) {
  const url = new URL(service!.endpoint);
  const request = {
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  };
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: key, sha256: Sha256 });
  const signed = await signer.sign(request, { unsignableHeaders: new Set(unsignable) });
  // fetch sets the host itself.
  delete signed.headers.host;
  return { url: `${service!.endpoint}${path}`, headers: signed.headers };
}

/** A fetch's answer as a user sees it: status, error type and message. */
async function answerOf(response: Response) {
  const body = (await response.json()) as { message?: string; Message?: string };
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), message: body.message ?? body.Message };
}

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-auth-');
  const keysFile = join(dataDir, 'keys.json');
  await writeFile(keysFile, JSON.stringify(Object.values(KEYS)));
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker, auth: await AuthKeys.fromFile(keysFile) });
  await createNodeFunction(as('root'), FN, makeZip([{ name: 'index.mjs', content: HANDLER }]));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
});

describe('authentication: SigV4 by an accepted key', () => {
  it('accepts a request the SDK signed with a key of the keys file', async () => {
    const answer = await invoke('alice');
    expect(answer.StatusCode).toBe(200);
    expect(payloadJson(answer)).toEqual({ echoed: { from: 'alice' } });
  });

  it('refuses an unsigned request: 403 MissingAuthenticationTokenException', async () => {
    const response = await fetch(`${service!.endpoint}/2015-03-31/functions/`);
    expect(await answerOf(response)).toEqual({ status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    // An unrouted path is no different for a caller without a signature.
    const unrouted = await fetch(`${service!.endpoint}/no-such-operation`);
    expect((await answerOf(unrouted)).type).toBe('MissingAuthenticationTokenException');
  });

  it('refuses a key it does not know: 403 UnrecognizedClientException', async () => {
    const stranger = clientOf({ accessKeyId: 'AKIASTRANGER', secretAccessKey: 'whatever' });
    expect(await refusal(stranger.send(new ListFunctionsCommand({})))).toEqual({
      status: 403,
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a known key with the wrong secret, and a body changed after signing: InvalidSignatureException', async () => {
    const wrongSecret = clientOf({ accessKeyId: KEYS.alice.accessKeyId, secretAccessKey: 'not-alice-secret' });
    expect(await refusal(wrongSecret.send(new ListFunctionsCommand({})))).toEqual({ status: 403, name: 'InvalidSignatureException', message: MISMATCH });

    const path = `/2015-03-31/functions/${FN}/invocations`;
    const { url, headers } = await signedRequest(KEYS.alice, path, '{"amount":1}');
    const signedAsIs = await fetch(url, { method: 'POST', headers, body: '{"amount":1}' });
    expect(signedAsIs.status).toBe(200);
    const tampered = await fetch(url, { method: 'POST', headers, body: '{"amount":1000}' });
    expect(await answerOf(tampered)).toEqual({ status: 403, type: 'InvalidSignatureException', message: MISMATCH });
  });

  it('refuses a request signed 20 minutes ago, and one dated 20 minutes ahead, naming the window', async () => {
    const stale = await refusal(clientOf(KEYS.alice, -20 * 60_000).send(new ListFunctionsCommand({})));
    expect(stale).toMatchObject({ status: 403, name: 'InvalidSignatureException' });
    expect(stale.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);

    const future = await refusal(clientOf(KEYS.alice, 20 * 60_000).send(new ListFunctionsCommand({})));
    expect(future).toMatchObject({ status: 403, name: 'InvalidSignatureException' });
    expect(future.message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);
  });

  it('refuses a malformed Authorization header, and a signature that leaves out the host: IncompleteSignatureException', async () => {
    const malformed = await fetch(`${service!.endpoint}/2015-03-31/functions/`, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAALICE' } });
    expect(await answerOf(malformed)).toEqual({
      status: 403,
      type: 'IncompleteSignatureException',
      message: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIAALICE",
    });

    const { url, headers } = await signedRequest(KEYS.alice, `/2015-03-31/functions/${FN}/invocations`, '{}', ['host']);
    expect(headers.authorization).not.toMatch(/SignedHeaders=[^,]*host/);
    expect(await answerOf(await fetch(url, { method: 'POST', headers, body: '{}' }))).toEqual({
      status: 403,
      type: 'IncompleteSignatureException',
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
  });

  it('leaves lambkin status open: it is lambkin’s own endpoint, not the Lambda API', async () => {
    expect((await fetch(`${service!.endpoint}/lambkin/status`)).status).toBe(200);
  });
});

describe('authorisation: identity and resource-based policies', () => {
  it('lets the account root do anything in its account without a policy', async () => {
    const answer = await as('root').send(new GetFunctionCommand({ FunctionName: FN }));
    expect(answer.Configuration?.FunctionArn).toBe(FN_ARN);
  });

  it('holds a root key that the keys file gives a policy to that policy: its explicit Deny wins', async () => {
    expect((await invoke('fenced')).StatusCode).toBe(200);
    expect(await refusal(as('fenced').send(new DeleteFunctionCommand({ FunctionName: FN })))).toEqual({
      status: 403,
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: lambda:DeleteFunction on resource: ${FN_ARN} with an explicit deny in an identity-based policy`,
    });
    expect((await as('root').send(new GetFunctionCommand({ FunctionName: FN }))).Configuration?.FunctionArn).toBe(FN_ARN);
  });

  it('lets a same-account user invoke when its identity policy allows it, and refuses one without a policy', async () => {
    expect((await invoke('alice')).StatusCode).toBe(200);
    expect(await refusal(invoke('dave'))).toEqual({
      status: 403,
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:user/dave is not authorized to perform: lambda:InvokeFunction on resource: ${FN_ARN} because no identity-based policy allows the lambda:InvokeFunction action`,
    });
    // Alice's policy allows invoking and listing, nothing else: GetFunction is refused, naming its own action.
    expect(await refusal(as('alice').send(new GetFunctionCommand({ FunctionName: FN })))).toEqual({
      status: 403,
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: lambda:GetFunction on resource: ${FN_ARN} because no identity-based policy allows the lambda:GetFunction action`,
    });
    expect((await as('alice').send(new ListFunctionsCommand({}))).Functions?.map((fn) => fn.FunctionName)).toContain(FN);
  });

  it('refuses another account until AddPermission names it, and again right after RemovePermission', async () => {
    const refused = {
      status: 403,
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${OTHER_ACCOUNT}:user/bob is not authorized to perform: lambda:InvokeFunction on resource: ${FN_ARN} because no resource-based policy allows the lambda:InvokeFunction action`,
    };
    expect(await refusal(invoke('bob', FN_ARN))).toEqual(refused);

    await as('root').send(
      new AddPermissionCommand({ FunctionName: FN, StatementId: 'bob-account', Action: 'lambda:InvokeFunction', Principal: OTHER_ACCOUNT }),
    );
    const allowed = await invoke('bob', FN_ARN);
    expect(payloadJson(allowed)).toEqual({ echoed: { from: 'bob' } });
    // The permission is for invoking only.
    expect((await refusal(as('bob').send(new GetFunctionCommand({ FunctionName: FN_ARN })))).name).toBe('AccessDeniedException');

    await as('root').send(new RemovePermissionCommand({ FunctionName: FN, StatementId: 'bob-account' }));
    expect(await refusal(invoke('bob', FN_ARN))).toEqual(refused);
  });

  it('lets a same-account user without an identity policy invoke once the resource policy names it', async () => {
    await as('root').send(
      new AddPermissionCommand({ FunctionName: FN, StatementId: 'dave', Action: 'lambda:InvokeFunction', Principal: KEYS.dave.principalArn }),
    );
    expect(payloadJson(await invoke('dave'))).toEqual({ echoed: { from: 'dave' } });
    await as('root').send(new RemovePermissionCommand({ FunctionName: FN, StatementId: 'dave' }));
    expect((await refusal(invoke('dave'))).name).toBe('AccessDeniedException');
  });

  it('refuses with an explicit deny even when another statement allows', async () => {
    expect(await refusal(invoke('carol'))).toEqual({
      status: 403,
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:user/carol is not authorized to perform: lambda:InvokeFunction on resource: ${FN_ARN} with an explicit deny in an identity-based policy`,
    });
    // The rest of lambda:* is still allowed.
    expect((await as('carol').send(new GetFunctionCommand({ FunctionName: FN }))).Configuration?.FunctionName).toBe(FN);
  });

  it('applies Resource patterns and conditions (StringEquals, ArnLike)', async () => {
    expect((await invoke('erin')).StatusCode).toBe(200);
    // Her GetFunction statement is for principals of another account only: the ArnLike condition does not match.
    expect((await refusal(as('erin').send(new GetFunctionCommand({ FunctionName: FN })))).name).toBe('AccessDeniedException');
  });
});

describe('the AWS CLI', () => {
  it.skipIf(!awsCli && process.env.CI !== 'true')(
    'lists functions with credentials from the environment, and is refused with an unknown key',
    { timeout: 60_000 },
    async () => {
      const cli = (key: { accessKeyId: string; secretAccessKey: string }) =>
        execa('aws', ['lambda', 'list-functions', '--endpoint-url', service!.endpoint, '--region', 'us-east-1', '--output', 'json'], {
          reject: false,
          env: {
            AWS_ACCESS_KEY_ID: key.accessKeyId,
            AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
            AWS_MAX_ATTEMPTS: '1',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
        });
      const listed = await cli(KEYS.alice);
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { Functions: { FunctionName: string }[] }).Functions.map((fn) => fn.FunctionName)).toContain(FN);

      const refused = await cli({ accessKeyId: 'AKIASTRANGER', secretAccessKey: 'whatever' });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('(UnrecognizedClientException)');
      expect(refused.stderr).toContain('The security token included in the request is invalid.');
    },
  );
});

describe('the keys file and the serve flags', () => {
  const keysFile = async (content: unknown) => {
    const path = join(dataDir, `keys-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('refuses a keys file that is not a list of complete keys, naming the entry', async () => {
    await expect(AuthKeys.fromFile(await keysFile('{not json'))).rejects.toThrow(/^cannot read the keys file .*keys-\w+\.json: /);
    await expect(AuthKeys.fromFile(await keysFile({ accessKeyId: 'A' }))).rejects.toThrow(/must hold a JSON list of keys$/);
    const { secretAccessKey: _, ...noSecret } = KEYS.dave;
    await expect(AuthKeys.fromFile(await keysFile([KEYS.root, noSecret]))).rejects.toThrow(/, entry 1: secretAccessKey must be a non-empty string$/);
    await expect(AuthKeys.fromFile(await keysFile([{ ...KEYS.dave, principalArn: 'dave' }]))).rejects.toThrow(/entry 0: principalArn must be an IAM ARN/);
    await expect(AuthKeys.fromFile(await keysFile([{ ...KEYS.dave, accountId: OTHER_ACCOUNT }]))).rejects.toThrow(
      `entry 0: principalArn arn:aws:iam::${ACCOUNT}:user/dave is not of account ${OTHER_ACCOUNT}`,
    );
    await expect(
      AuthKeys.fromFile(await keysFile([{ ...KEYS.dave, policy: { Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] } }])),
    ).rejects.toThrow(/entry 0 \(AKIADAVE\): its policy is not a valid IAM policy: /);
  });

  it('refuses --auth other than none or sigv4, and --auth-keys without sigv4, with exit code 2', async () => {
    const run = (args: string[]) => execa(lambkinBin, ['serve', ...args], { reject: false, env: withNode24 });
    const other = await run(['--auth', 'basic']);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain("--auth must be none or sigv4, not 'basic'");
    const keysAlone = await run(['--auth-keys', 'keys.json']);
    expect(keysAlone.exitCode).toBe(2);
    expect(keysAlone.stderr).toContain('--auth-keys is for --auth sigv4');
  });
});
