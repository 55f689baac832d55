// An alias with a RoutingConfig, invoked through the real SDK: each invoke is routed afresh, the extra version getting
// its weight's share of them (over 2,000 invokes, within ±3 points, as issue 14 sets the bar), and every answer says
// in X-Amz-Executed-Version which version ran, which is the version whose code answered. Run with our runtime as
// local processes (ProcessInvoker), one per version, as the pool keeps environments per version.
import { CreateAliasCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routedVersion } from '../src/invocation/resolve-function.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, invokeJson, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';

const saying = (code: string) =>
  makeZip([{ name: 'index.mjs', content: `export const handler = async (event, context) => ({ code: '${code}', version: context.functionVersion });` }]);

let dataDir: string;
let service: LocalService;
const invoker = new ProcessInvoker();

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-routing-');
  service = await startLocalService({ dataDir, invoker });
  const { lambda } = service;
  await createActiveFunction(lambda, {
    FunctionName: 'weighted',
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Code: { ZipFile: saying('blue') },
  });
  await lambda.send(new PublishVersionCommand({ FunctionName: 'weighted' }));
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'weighted', ZipFile: saying('green') }));
  await waitUntilUpdated(lambda, 'weighted');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'weighted' }));
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await invoker.close();
  await removeDataDir(dataDir);
});

/** Invokes through the alias `count` times; how often each version ran, checked against the code that answered. */
async function routed(count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const answer = await invokeJson<{ code: string; version: string }>(service.lambda, 'weighted:canary');
    const version = answer.ExecutedVersion!;
    expect(answer.body).toEqual({ code: version === '1' ? 'blue' : 'green', version });
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
}

describe('weighted alias routing', () => {
  it('sends the extra version its weight’s share of 2,000 invokes, within ±3 points', async () => {
    await service.lambda.send(
      new CreateAliasCommand({ FunctionName: 'weighted', Name: 'canary', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }),
    );
    const counts = await routed(2_000);
    expect(Object.keys(counts).sort()).toEqual(['1', '2']);
    const share = counts['2']! / 2_000;
    // A 10% canary, as Lambda's docs suggest: ±3 points is 4.5 standard deviations of 2,000 draws, so a failure here
    // is a routing fault, not chance.
    expect(share).toBeGreaterThanOrEqual(0.07);
    expect(share).toBeLessThanOrEqual(0.13);
  }, 120_000);

  it('routes nothing to the extra version at weight 0, and everything once the alias points to it alone', async () => {
    const { lambda } = service;
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'weighted', Name: 'canary', RoutingConfig: { AdditionalVersionWeights: { '2': 0 } } }));
    expect(await routed(100)).toEqual({ '1': 100 });
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: 'weighted', Name: 'canary', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }),
    );
    expect(await routed(100)).toEqual({ '2': 100 });
  }, 60_000);

  it('chooses by the weight alone: the extra version below it, the alias’s own at and above it', () => {
    const alias = { functionName: 'f', name: 'a', functionVersion: '1', description: '', revisionId: 'r', additionalVersionWeights: { '2': 0.25 } };
    expect(routedVersion(alias, 0)).toBe('2');
    expect(routedVersion(alias, 0.2499)).toBe('2');
    expect(routedVersion(alias, 0.25)).toBe('1');
    expect(routedVersion(alias, 0.9999)).toBe('1');
    expect(routedVersion({ ...alias, additionalVersionWeights: {} }, 0)).toBe('1');
  });
});
