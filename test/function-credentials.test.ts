// `lambkin serve --function-credentials host|assume-role|none`: what a function finds in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. serve's own path (DockerInvoker over an EnvironmentPool over a
// CredentialedBackend) runs each environment as a local process (ProcessBackend), behind the real Lambda API and
// @aws-sdk/client-lambda. assume-role talks to an STS test double served here (no STS implementation runs on this
// machine): it answers AssumeRole in STS's own XML, reached through the SDK's standard AWS_ENDPOINT_URL_STS.
import { GetFunctionCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialedBackend } from '../src/environments/credentialed-backend.ts';
import { FileLogSink } from '../src/environments/file-log-sink.ts';
import { EnvironmentPool } from '../src/environments/pool.ts';
import { functionCredentialSource, ROLE_CANNOT_BE_ASSUMED, type FunctionCredentialsMode } from '../src/iam/function-credentials.ts';
import { DockerInvoker } from '../src/service/docker-invoker.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, invokeJson, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { failure, makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessBackend } from './support/process-backend.ts';

const HANDLER = `
export const handler = async () => {
  console.log('invoked, with credentials of', process.env.AWS_ACCESS_KEY_ID ? 'some key' : 'no key');
  return {
    keyId: process.env.AWS_ACCESS_KEY_ID ?? null,
    secret: process.env.AWS_SECRET_ACCESS_KEY ?? null,
    token: process.env.AWS_SESSION_TOKEN ?? null,
  };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);

interface SeenCredentials {
  keyId: string | null;
  secret: string | null;
  token: string | null;
}

/** One AssumeRole the double received. */
interface AssumeRoleCall {
  action: string | null;
  roleArn: string | null;
  roleSessionName: string | null;
  authorization: string;
}

/** What the STS test double answers: a session lasting `lifetimeMs`, STS's AccessDenied, or nothing at all. */
type StsBehaviour = { kind: 'grant'; lifetimeMs: number } | { kind: 'refuse' } | { kind: 'silent' };

/** An STS test double: AssumeRole only, answered in STS's XML (awsQuery), success and error alike. */
class StsTestDouble {
  readonly calls: AssumeRoleCall[] = [];
  /** Every secret and session token handed out, for the leak checks. */
  readonly secrets: string[] = [];
  behaviour: StsBehaviour = { kind: 'grant', lifetimeMs: 60 * 60_000 };
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const call = {
          action: form.get('Action'),
          roleArn: form.get('RoleArn'),
          roleSessionName: form.get('RoleSessionName'),
          authorization: String(request.headers.authorization ?? ''),
        };
        this.calls.push(call);
        if (this.behaviour.kind === 'silent') return;
        response.setHeader('content-type', 'text/xml');
        if (this.behaviour.kind === 'refuse') {
          response.statusCode = 403;
          response.end(
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
              `<Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole on resource: ${call.roleArn}</Message>` +
              `</Error><RequestId>4f6d1c2e-0000-4000-8000-000000000001</RequestId></ErrorResponse>`,
          );
          return;
        }
        const n = this.calls.length;
        const secret = `sts-double-secret-${n}-${randomBytes(12).toString('hex')}`;
        const token = `sts-double-token-${n}-${randomBytes(24).toString('base64url')}`;
        this.secrets.push(secret, token);
        const expiration = new Date(Date.now() + this.behaviour.lifetimeMs).toISOString().replace(/\.\d+Z$/, 'Z');
        const roleName = call.roleArn?.split('/').pop();
        response.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
            `<AssumedRoleUser><AssumedRoleId>AROATESTDOUBLE00000${n}:${call.roleSessionName}</AssumedRoleId>` +
            `<Arn>arn:aws:sts::123456789012:assumed-role/${roleName}/${call.roleSessionName}</Arn></AssumedRoleUser>` +
            `<Credentials><AccessKeyId>ASIATESTDOUBLE0000${n}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey>` +
            `<SessionToken>${token}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
            `</AssumeRoleResult><ResponseMetadata><RequestId>4f6d1c2e-0000-4000-8000-00000000000${n % 10}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The host's own keys, as serve's environment carries them. */
const HOST_KEY_ID = 'AKIAHOSTEXAMPLE00001';
const HOST_SECRET = `host-secret-${randomBytes(12).toString('hex')}`;

let dataDir: string;
let service: LocalService | undefined;
let invoker: DockerInvoker | undefined;
let backend: ProcessBackend;
let logSink: FileLogSink | undefined;
let sts: StsTestDouble;
let refusals: string[];

beforeEach(async () => {
  dataDir = await makeDataDir('lambkin-credentials-');
  backend = new ProcessBackend();
  sts = new StsTestDouble();
  refusals = [];
  vi.stubEnv('AWS_ACCESS_KEY_ID', HOST_KEY_ID);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', HOST_SECRET);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_ENDPOINT_URL_STS', await sts.listen());
});

afterEach(async () => {
  await service?.stop();
  await invoker?.close();
  await backend.close();
  logSink?.close();
  await sts.close();
  vi.unstubAllEnvs();
  await removeDataDir(dataDir);
  service = undefined;
  invoker = undefined;
  logSink = undefined;
});

/** serve's wiring with `--function-credentials mode`, and a function `name` created through the Lambda API. */
async function serveWith(mode: FunctionCredentialsMode, name = 'creds-fn'): Promise<LocalService> {
  const source = functionCredentialSource(mode, { region: 'us-east-1', onRefused: (_subject, reason) => refusals.push(reason), stsTimeoutMs: 1_000 });
  logSink = new FileLogSink(dataDir);
  invoker = new DockerInvoker({
    pool: new EnvironmentPool(new CredentialedBackend(backend, source)),
    logSink,
    images: { inspectImage: async () => undefined },
  });
  service = await startLocalService({ dataDir, invoker });
  await createNodeFunction(service.lambda, name, ZIP);
  return service;
}

async function invokeSeen(name = 'creds-fn'): Promise<SeenCredentials> {
  const answer = await invokeJson<SeenCredentials>(service!.lambda, name);
  expect(answer.FunctionError).toBeUndefined();
  return answer.body;
}

/** Every file under the data dir (the function store, code, logs) that holds `secret`, by path. */
async function filesHolding(secret: string): Promise<string[]> {
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
  const holding: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(secret)) holding.push(path);
  }
  return holding;
}

/** Nothing a user can read about the function carries `secret`: GetFunction, `lambkin status`'s pool, the data dir. */
async function expectNowhere(secret: string): Promise<void> {
  const got = await service!.lambda.send(new GetFunctionCommand({ FunctionName: 'creds-fn' }));
  expect(JSON.stringify(got)).not.toContain(secret);
  expect(JSON.stringify(invoker!.snapshot())).not.toContain(secret);
  expect(await filesHolding(secret)).toEqual([]);
}

describe('--function-credentials none (the default)', () => {
  it('gives functions the marked placeholders, not the host keys', async () => {
    await serveWith('none');
    expect(await invokeSeen()).toEqual({ keyId: 'lambkin-local', secret: 'lambkin-local', token: 'lambkin-local' });
    expect(sts.calls).toEqual([]);
  });
});

describe('--function-credentials host', () => {
  it("hands the function the host's default-chain keys, reads them again for each new environment, and writes them nowhere", async () => {
    await serveWith('host');
    expect(await invokeSeen()).toEqual({ keyId: HOST_KEY_ID, secret: HOST_SECRET, token: null });

    // The host's keys rotate: the next environment (after an update retires this one) gets the new ones.
    const rotatedSecret = `rotated-secret-${randomBytes(12).toString('hex')}`;
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAHOSTEXAMPLE00002');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', rotatedSecret);
    vi.stubEnv('AWS_SESSION_TOKEN', 'host-session-token');
    await service!.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'creds-fn', Description: 'rotated' }));
    await waitUntilUpdated(service!.lambda, 'creds-fn');
    expect(await invokeSeen()).toEqual({ keyId: 'AKIAHOSTEXAMPLE00002', secret: rotatedSecret, token: 'host-session-token' });

    const logged = await filesHolding('invoked, with credentials of some key');
    expect(logged.length).toBeGreaterThan(0); // the function's log lines were filed: the grep below had logs to read
    await expectNowhere(HOST_SECRET);
    await expectNowhere(rotatedSecret);
    await expectNowhere('host-session-token');
  });
});

describe('--function-credentials assume-role, against an STS test double', () => {
  it("assumes the function's Role in a session named after it, signed with the host's keys, and hands the function the session", async () => {
    await serveWith('assume-role');
    const seen = await invokeSeen();

    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]).toMatchObject({ action: 'AssumeRole', roleArn: ROLE, roleSessionName: 'creds-fn' });
    expect(sts.calls[0]!.authorization).toContain(`Credential=${HOST_KEY_ID}/`);
    expect(sts.calls[0]!.authorization).toMatch(/\/us-east-1\/sts\/aws4_request/);
    expect(seen).toEqual({ keyId: 'ASIATESTDOUBLE00001', secret: sts.secrets[0], token: sts.secrets[1] });

    // A warm environment keeps its session while it has time left.
    expect(await invokeSeen()).toEqual(seen);
    expect(sts.calls).toHaveLength(1);

    for (const secret of sts.secrets) await expectNowhere(secret);
  });

  it('retires an environment whose session is about to expire: the next invoke gets a new environment and a new session', async () => {
    await serveWith('assume-role');
    sts.behaviour = { kind: 'grant', lifetimeMs: 4 * 60_000 }; // less than the 5 minutes an invoke must have left
    const first = await invokeSeen();
    const second = await invokeSeen();

    expect(sts.calls.map((call) => call.roleSessionName)).toEqual(['creds-fn', 'creds-fn']);
    expect(second.keyId).not.toBe(first.keyId);
    expect(second.token).toBe(sts.secrets[3]);
    expect(backend.started).toHaveLength(2);
  });

  it("fails the invoke with Lambda's InvalidParameterValueException when STS refuses the role, at once and without secrets", async () => {
    await serveWith('assume-role');
    sts.behaviour = { kind: 'refuse' };
    const startedAt = performance.now();
    const error = await failure(invokeJson(service!.lambda, 'creds-fn'));

    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(ROLE_CANNOT_BE_ASSUMED);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(sts.calls).toHaveLength(1);
    expect(backend.started).toEqual([]); // no environment was started with nothing to give it
    // serve's log is told why (STS's own words), with no key in them.
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('AccessDenied');
    expect(refusals[0]).toContain(`sts:AssumeRole on resource: ${ROLE}`);
    expect(refusals[0]).not.toContain(HOST_SECRET);

    // Once the role can be assumed, the same function runs.
    sts.behaviour = { kind: 'grant', lifetimeMs: 60 * 60_000 };
    expect((await invokeSeen()).keyId).toMatch(/^ASIATESTDOUBLE/);
  });

  it('answers ServiceException, not a hang, when STS cannot be reached', async () => {
    await serveWith('assume-role');
    await sts.close(); // nothing listens at AWS_ENDPOINT_URL_STS any more
    const error = await failure(invokeJson(service!.lambda, 'creds-fn'));

    expect(error.name).toBe('ServiceException');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.message).toMatch(/^lambkin could not reach STS to assume the role of function creds-fn: /);
    expect(error.message).not.toContain(HOST_SECRET);
  });

  it('answers ServiceException once its timeout passes when STS accepts the request and never answers', async () => {
    await serveWith('assume-role');
    sts.behaviour = { kind: 'silent' };
    const startedAt = performance.now();
    const error = await failure(invokeJson(service!.lambda, 'creds-fn'));

    expect(error.name).toBe('ServiceException');
    expect(error.message).toMatch(/^lambkin could not reach STS to assume the role of function creds-fn: .*requestTimeout/);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(sts.calls).toHaveLength(1);
  });
});
