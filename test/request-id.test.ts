// One request id end to end, as a user checks it with the real SDK: the id the caller gets back ($metadata.requestId,
// from x-amzn-RequestId) is the one the function sees as context.awsRequestId and the one the START line of its log
// tail names, under `lambkin serve` (its Invoke path, with the tests' process invoker) and under the emulator.
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../tools/zip.ts';
import { nodeRuntimeBootstrap, startEmulator, stopAllEmulators } from './support/emulator-process.ts';
import { createActiveFunction, logTail, payloadJson, ROLE } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const HANDLER = `
export const handler = async (event, context) => {
  console.log('handling', context.awsRequestId);
  return { awsRequestId: context.awsRequestId };
};
`;

const invokeWithTail = (lambda: LambdaClient, FunctionName: string) =>
  lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from('{}'), LogType: 'Tail' }));

/** The three places the id shows: what the caller got, what the function saw, what START said. */
function ids(output: InvokeCommandOutput) {
  const start = /^START RequestId: (\S+) Version: \$LATEST$/m.exec(logTail(output));
  return { caller: output.$metadata.requestId, function: payloadJson(output).awsRequestId, startLine: start?.[1] };
}

function expectOneId(output: InvokeCommandOutput): string {
  const seen = ids(output);
  expect(seen.caller).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(seen).toEqual({ caller: seen.caller, function: seen.caller, startLine: seen.caller });
  return seen.caller!;
}

describe('under lambkin serve', () => {
  let dataDir: string;
  let service: LocalService | undefined;
  let invoker: ProcessInvoker;

  beforeAll(async () => {
    dataDir = await makeDataDir('lambkin-request-id-');
    invoker = new ProcessInvoker();
    service = await startLocalService({ dataDir, invoker });
    const ZipFile = makeZip([{ name: 'index.mjs', content: HANDLER }]);
    await createActiveFunction(service.lambda, { FunctionName: 'ids', Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile } });
  });

  afterAll(async () => {
    await service?.stop();
    await invoker?.close();
    if (dataDir) await removeDataDir(dataDir);
  });

  it('gives the caller the id the function and its START line have, a new one each invoke', async () => {
    const first = expectOneId(await invokeWithTail(service!.lambda, 'ids'));
    const second = expectOneId(await invokeWithTail(service!.lambda, 'ids'));
    expect(second).not.toBe(first);
    // The handler's own line is in the tail, under the same id.
    expect(logTail(await invokeWithTail(service!.lambda, 'ids'))).toMatch(/handling ([0-9a-f-]{36})[\s\S]*END RequestId: \1/);
  });
});

describe('under the emulator', () => {
  let taskRoot: string;

  beforeAll(async () => {
    taskRoot = await mkdtemp(join(tmpdir(), 'lambkin-request-id-task-'));
    await writeFile(join(taskRoot, 'index.mjs'), HANDLER);
  });

  afterAll(async () => {
    await stopAllEmulators();
    if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
  });

  it('gives the caller the id the function and its START line have, a new one each invoke', async () => {
    const emulator = await startEmulator({ args: [nodeRuntimeBootstrap, 'index.handler'], env: { LAMBDA_TASK_ROOT: taskRoot }, cwd: taskRoot });
    // The RIE's path names the function `function`: the SDK pointed at the emulator calls exactly that.
    const lambda = new LambdaClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const first = expectOneId(await invokeWithTail(lambda, 'function'));
      const second = expectOneId(await invokeWithTail(lambda, 'function'));
      expect(second).not.toBe(first);
    } finally {
      lambda.destroy();
    }
  });
});
