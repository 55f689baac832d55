// Function URLs under `lambkin serve --auth sigv4`, authorised as AWS does (issue 18, deliverable 3): an AuthType NONE
// URL answers only once the function's resource policy has the public statement AWS requires (Principal `*`,
// lambda:InvokeFunctionUrl, FunctionUrlAuthType NONE), and an AWS_IAM URL only a signer whose identity policy (same
// account) or the function's resource policy (another account) allows lambda:InvokeFunctionUrl. Refusals are AWS's
// 403 {"Message":"Forbidden"}. Permissions are added and removed with the real SDK, URLs called over real HTTP by
// Host, AWS_IAM requests signed with @smithy/signature-v4.
import { AddPermissionCommand, CreateFunctionUrlConfigCommand, type FunctionUrlAuthType, LambdaClient, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthKeys } from '../src/iam/auth-keys.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { Sha256 } from './support/node-sha256.ts';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const REGION = 'us-east-1';
const FORBIDDEN = '{"Message":"Forbidden"}';

const allowUrls = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunctionUrl', Resource: '*' }] };
const KEYS = {
  root: { accessKeyId: 'AKIAROOT', secretAccessKey: 'root-secret', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:root` },
  alice: {
    accessKeyId: 'AKIAALICE',
    secretAccessKey: 'alice-secret',
    accountId: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    policy: allowUrls,
  },
  dave: { accessKeyId: 'AKIADAVE', secretAccessKey: 'dave-secret', accountId: ACCOUNT, principalArn: `arn:aws:iam::${ACCOUNT}:user/dave` },
  bob: {
    accessKeyId: 'AKIABOB',
    secretAccessKey: 'bob-secret',
    accountId: OTHER_ACCOUNT,
    principalArn: `arn:aws:iam::${OTHER_ACCOUNT}:user/bob`,
    policy: allowUrls,
  },
} as const;
type KeyName = keyof typeof KEYS;

const HANDLER = "export const handler = async (event) => ({ statusCode: 200, body: 'reached ' + event.rawPath });";

let dataDir: string;
let service: LocalService | undefined;
let invoker: ProcessInvoker;
let root: LambdaClient;
const hosts: Partial<Record<FunctionUrlAuthType, string>> = {};

/** A GET of `path` on the URL whose host is `host`, signed by `signer` when given: its status and body. */
async function call(host: string, path: string, signer?: KeyName): Promise<{ status: number; text: string }> {
  let headers: Record<string, string> = { host };
  if (signer) {
    const key = KEYS[signer];
    const signed = await new SignatureV4({ service: 'lambda', region: REGION, sha256: Sha256, credentials: key }).sign({
      method: 'GET',
      protocol: 'http:',
      hostname: host,
      path,
      headers: { host },
    });
    headers = signed.headers;
  }
  const port = Number(new URL(service!.endpoint).port);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const addPermission = (input: { StatementId: string; Principal: string; FunctionUrlAuthType: FunctionUrlAuthType }) =>
  root.send(new AddPermissionCommand({ FunctionName: 'public', Action: 'lambda:InvokeFunctionUrl', ...input }));
const removePermission = (statementId: string) => root.send(new RemovePermissionCommand({ FunctionName: 'public', StatementId: statementId }));

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-url-auth-');
  const keysFile = join(dataDir, 'keys.json');
  await writeFile(keysFile, JSON.stringify(Object.values(KEYS)));
  invoker = new ProcessInvoker();
  service = await startLocalService({ dataDir, invoker, auth: await AuthKeys.fromFile(keysFile) });
  root = new LambdaClient({ endpoint: service.endpoint, region: REGION, credentials: KEYS.root, maxAttempts: 1 });
  const zip = makeZip([{ name: 'index.mjs', content: HANDLER }]);
  await createNodeFunction(root, 'public', zip);
  await createNodeFunction(root, 'private', zip);
  for (const [name, authType] of [
    ['public', 'NONE'],
    ['private', 'AWS_IAM'],
  ] as const) {
    const created = await root.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: authType }));
    hosts[authType] = new URL(created.FunctionUrl!).hostname;
  }
});

afterAll(async () => {
  root?.destroy();
  await service?.stop();
  await invoker?.close();
  if (dataDir) await removeDataDir(dataDir);
});

describe('function URLs under --auth sigv4', () => {
  it('AuthType NONE: Forbidden until the public statement is added, and again once it is removed', async () => {
    expect(await call(hosts.NONE!, '/hello')).toEqual({ status: 403, text: FORBIDDEN });
    // A statement for the wrong auth type does not open it.
    await addPermission({ StatementId: 'iam-only', Principal: '*', FunctionUrlAuthType: 'AWS_IAM' });
    expect((await call(hosts.NONE!, '/hello')).status).toBe(403);
    await addPermission({ StatementId: 'public-url', Principal: '*', FunctionUrlAuthType: 'NONE' });
    expect(await call(hosts.NONE!, '/hello')).toEqual({ status: 200, text: 'reached /hello' });
    await removePermission('public-url');
    expect(await call(hosts.NONE!, '/hello')).toEqual({ status: 403, text: FORBIDDEN });
  });

  it('AuthType AWS_IAM: the account root and a user whose policy allows it; not a user without one', async () => {
    expect(await call(hosts.AWS_IAM!, '/root', 'root')).toEqual({ status: 200, text: 'reached /root' });
    expect(await call(hosts.AWS_IAM!, '/alice', 'alice')).toEqual({ status: 200, text: 'reached /alice' });
    expect(await call(hosts.AWS_IAM!, '/dave', 'dave')).toEqual({ status: 403, text: FORBIDDEN });
    expect(await call(hosts.AWS_IAM!, '/unsigned')).toEqual({ status: 403, text: FORBIDDEN });
  });

  it("AuthType AWS_IAM: another account's signer only once the function's policy names that account", async () => {
    expect((await call(hosts.AWS_IAM!, '/bob', 'bob')).status).toBe(403);
    await root.send(
      new AddPermissionCommand({
        FunctionName: 'private',
        StatementId: 'other-account',
        Action: 'lambda:InvokeFunctionUrl',
        Principal: OTHER_ACCOUNT,
        FunctionUrlAuthType: 'AWS_IAM',
      }),
    );
    expect(await call(hosts.AWS_IAM!, '/bob', 'bob')).toEqual({ status: 200, text: 'reached /bob' });
    await root.send(new RemovePermissionCommand({ FunctionName: 'private', StatementId: 'other-account' }));
    expect((await call(hosts.AWS_IAM!, '/bob', 'bob')).status).toBe(403);
  });
});
