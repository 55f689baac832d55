// Lambda's concurrency model under lambkin serve, end to end: real containers, the real SDK (maxAttempts 1, so
// every 429 is seen once). Reserved concurrency as a cap and as a stop (0), the account's limit, the scaling rate,
// provisioned concurrency (warm for its first invoke, overflow on demand, resized without replacing), and the
// machine's memory budget evicting another function's idle environment.
import {
  UpdateAliasCommand,
  CreateAliasCommand,
  PublishVersionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetProvisionedConcurrencyConfigCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  TooManyRequestsException,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../src/service/metrics.ts';
import { formatStatus } from '../src/cli/status.ts';
import { containerExists, docker } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, invokeJson, waitUntilUpdated } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const MEMORY_SIZE = 1024;
const HANDLER = `
import { readFileSync } from 'node:fs';

// The environment's own container, by the id in its cgroup path (its hostname is its network sandbox's).
const containerId = /\\/docker\\/([0-9a-f]{12})/.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
export const handler = async (event) => {
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms));
  return { containerId, initType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, colour: process.env.COLOUR };
};
`;
const ZIP = makeZip([{ name: 'index.mjs', content: HANDLER }]);

interface Answer {
  containerId: string;
  initType: string;
  colour?: string;
}

const services = new DockerLambdaServices();

/** The tests' function: ZIP's handler with MEMORY_SIZE, unless `extra` says otherwise. */
function createFunction(service: LambdaService, name: string, extra: Partial<CreateFunctionCommandInput> = {}) {
  return createNodeFunction(service.lambda, name, ZIP, { MemorySize: MEMORY_SIZE, ...extra });
}

type Outcome = { ok: true; answer: Answer; log: string } | { ok: false; reason: string | undefined; error: unknown };

async function invoke(service: LambdaService, name: string, event: object = {}): Promise<Outcome> {
  try {
    const output = await invokeJson<Answer>(service.lambda, name, event, { tail: true });
    expect(output.FunctionError).toBeUndefined();
    return { ok: true, answer: output.body, log: output.log };
  } catch (error) {
    if (error instanceof TooManyRequestsException) return { ok: false, reason: error.Reason, error };
    throw error;
  }
}

/** Invokes all at once; each sleeps `ms` so that they overlap. */
function burst(service: LambdaService, name: string, count: number, ms: number): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: count }, () => invoke(service, name, { ms })));
}

const throttled = (outcomes: Outcome[]) => outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);

/** The raw answer, for what the SDK does not surface (Retry-After). */
async function rawInvoke(service: LambdaService, name: string): Promise<Response> {
  return fetch(`${service.endpoint}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
}

beforeAll(async () => {
  if (docked) await services.backend.prepare();
});
afterAll(() => services.close(), 60_000);

describe.skipIf(!docked)('concurrency, throttling and provisioned concurrency under lambkin serve', () => {
  it('a burst over reserved concurrency gets exactly the surplus as 429 ReservedFunctionConcurrentInvocationLimitExceeded, and the metrics say so', async () => {
    const service = await services.start({
      metrics: ({ pool, scheduler }) => new ServiceMetrics({ pool: () => pool.snapshot(), scheduler: () => scheduler.snapshot() }),
    });
    await createFunction(service, 'reserved');
    await service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'reserved', ReservedConcurrentExecutions: 3 }));
    const concurrency = await service.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'reserved' }));
    expect(concurrency.ReservedConcurrentExecutions).toBe(3);
    expect((await service.lambda.send(new GetFunctionCommand({ FunctionName: 'reserved' }))).Concurrency?.ReservedConcurrentExecutions).toBe(3);

    const outcomes = await burst(service, 'reserved', 10, 2_000);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(3);
    expect(throttled(outcomes).map((o) => o.reason)).toEqual(Array(7).fill('ReservedFunctionConcurrentInvocationLimitExceeded'));
    // The invokes are over: the whole reservation is free again.
    expect((await invoke(service, 'reserved')).ok).toBe(true);

    const metrics = await (await fetch(`${service.endpoint}/metrics`)).text();
    const sample = (name: string, labels: string) => Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sample('lambkin_invocations_total', 'function_name="reserved"')).toBe(4);
    expect(sample('lambkin_cold_starts_total', 'function_name="reserved"')).toBe(3);
    expect(sample('lambkin_throttles_total', 'function_name="reserved",reason="ReservedFunctionConcurrentInvocationLimitExceeded"')).toBe(7);
    expect(sample('lambkin_init_duration_seconds_count', 'function_name="reserved"')).toBe(3);
    expect(sample('lambkin_duration_seconds_count', 'function_name="reserved"')).toBe(4);
    expect(sample('lambkin_concurrent_executions', 'function_name="reserved"')).toBe(0);
    expect(sample('lambkin_environments', 'function_name="reserved",state="idle",provisioned="false"')).toBe(3);
    expect(sample('lambkin_memory_in_use_bytes', '')).toBe(3 * MEMORY_SIZE * 1_048_576);

    // `lambkin status`'s table, from the service's own status answer.
    const status = await (await fetch(`${service.endpoint}/lambkin/status`)).json();
    expect(status).toMatchObject({ functions: [{ name: 'reserved', reservedConcurrency: 3, environmentCounts: { idle: 3, busy: 0 } }] });
    expect(formatStatus(status as Parameters<typeof formatStatus>[0])).toMatch(/^reserved\s+1024 MB\s+3\s/m);
  }, 90_000);

  it('reserved concurrency 0 throttles every invoke with a bare "Rate Exceeded." and no Retry-After; deleting it lets invokes through', async () => {
    const service = await services.start();
    await createFunction(service, 'stopped');
    await service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'stopped', ReservedConcurrentExecutions: 0 }));
    const refused = await rawInvoke(service, 'stopped');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    // test_lambda.snapshot.json, test_lambda_concurrency_block (invoke_latest_first_exc): Lambda's words exactly; waiting would not help.
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.json()).toMatchObject({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.' });
    expect(await invoke(service, 'stopped')).toMatchObject({ ok: false, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });

    await service.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'stopped' }));
    expect((await invoke(service, 'stopped')).ok).toBe(true);
  }, 60_000);

  it("the account's limit throttles the unreserved pool with ConcurrentInvocationLimitExceeded, and GetAccountSettings reports it", async () => {
    const service = await services.start({ scheduler: { accountLimit: 4, unreservedMinimum: 2 } });
    await createFunction(service, 'shared');
    await createFunction(service, 'guaranteed');
    // At most accountLimit − unreservedMinimum may be reserved.
    await expect(service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'guaranteed', ReservedConcurrentExecutions: 3 }))).rejects.toMatchObject(
      {
        name: 'InvalidParameterValueException',
        message: expect.stringContaining('below its minimum value of [2]'),
      },
    );
    await service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'guaranteed', ReservedConcurrentExecutions: 1 }));
    const settings = await service.lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit).toMatchObject({ ConcurrentExecutions: 4, UnreservedConcurrentExecutions: 3 });
    expect(settings.AccountUsage?.FunctionCount).toBe(2);

    // 3 unreserved slots: a burst of 5 gets 2 throttles, while the reserved function still has its own slot.
    const bursting = burst(service, 'shared', 5, 2_500);
    // The reserved function's invoke comes while the burst holds every unreserved slot.
    await expect.poll(() => service.scheduler.snapshot().functions.shared?.inFlight, { timeout: 10_000 }).toBe(3);
    const guaranteed = await invoke(service, 'guaranteed');
    const shared = await bursting;
    expect(shared.filter((o) => o.ok)).toHaveLength(3);
    expect(throttled(shared).map((o) => o.reason)).toEqual(Array(2).fill('ConcurrentInvocationLimitExceeded'));
    expect(guaranteed.ok).toBe(true);
  }, 90_000);

  it('the scaling rate refuses new environments beyond the budget with FunctionInvocationRateLimitExceeded, not warm reuse', async () => {
    const service = await services.start({ scheduler: { scalingRate: { environments: 2, intervalMs: 60_000 } } });
    await createFunction(service, 'scaling');
    const outcomes = await burst(service, 'scaling', 4, 1_500);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(2);
    expect(throttled(outcomes).map((o) => o.reason)).toEqual(Array(2).fill('FunctionInvocationRateLimitExceeded'));
    // Two environments are warm: invokes that reuse them spend no budget.
    const again = await burst(service, 'scaling', 2, 200);
    expect(again.every((o) => o.ok)).toBe(true);
    // A third environment must wait for the budget to refill (one every 30 s): Retry-After says so.
    const busy = [invoke(service, 'scaling', { ms: 1_000 }), invoke(service, 'scaling', { ms: 1_000 })];
    await expect.poll(() => service.pool.count('scaling').busy).toBe(2);
    const refused = await rawInvoke(service, 'scaling');
    await Promise.all(busy);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(20);
    expect(((await refused.json()) as { Reason: string }).Reason).toBe('FunctionInvocationRateLimitExceeded');
  }, 90_000);

  it('provisioned environments are ready before the first invoke, overflow goes on demand, and a resize keeps the survivors', async () => {
    const service = await services.start();
    await createFunction(service, 'provisioned');
    await service.lambda.send(new PublishVersionCommand({ FunctionName: 'provisioned' }));
    const put = await service.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: '1', ProvisionedConcurrentExecutions: 2 }),
    );
    expect(put.RequestedProvisionedConcurrentExecutions).toBe(2);
    expect(put.Status).toBe('IN_PROGRESS');
    const ready = await waitForStatus(service, 'provisioned', '1', 'READY');
    expect(ready).toMatchObject({ AllocatedProvisionedConcurrentExecutions: 2, AvailableProvisionedConcurrentExecutions: 2 });
    // Version 1's environments, pooled under its key.
    const provisionedIds = environmentIds(service, 'provisioned:1', true);
    expect(provisionedIds).toHaveLength(2);

    // Warm for the first invoke: no Init Duration, and the runtime was told how it was initialised.
    const first = await invoke(service, 'provisioned:1');
    expect(first).toMatchObject({ ok: true, answer: { initType: 'provisioned-concurrency' } });
    expect(first.ok && first.log).toMatch(/REPORT RequestId: .*Max Memory Used/);
    expect(first.ok && first.log).not.toContain('Init Duration');

    // Three at once: two on the provisioned environments, the third on a new on-demand one (a cold start).
    const three = await burst(service, 'provisioned:1', 3, 1_500);
    const answers = three.map((o) => (o.ok ? o : expect.unreachable('throttled')));
    expect(answers.map((o) => o.answer.initType).sort()).toEqual(['on-demand', 'provisioned-concurrency', 'provisioned-concurrency']);
    expect(answers.filter((o) => o.log.includes('Init Duration'))).toHaveLength(1);

    // 2 → 1: one provisioned environment stops, the other is the same container as before.
    await service.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: '1', ProvisionedConcurrentExecutions: 1 }));
    const kept = environmentIds(service, 'provisioned:1', true);
    expect(kept).toHaveLength(1);
    expect(provisionedIds).toContain(kept[0]);
    expect((await waitForStatus(service, 'provisioned', '1', 'READY')).AllocatedProvisionedConcurrentExecutions).toBe(1);

    await service.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: '1' }));
    expect(environmentIds(service, 'provisioned:1', true)).toHaveLength(0);
    await expect(service.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: '1' }))).rejects.toMatchObject({
      name: 'ProvisionedConcurrencyConfigNotFoundException',
    });
  }, 120_000);

  it('an alias moved to a new version takes its provisioned environments along; settings survive a restart', async () => {
    const service = await services.start();
    await createFunction(service, 'revised');
    await service.lambda.send(new PublishVersionCommand({ FunctionName: 'revised' }));
    await service.lambda.send(new CreateAliasCommand({ FunctionName: 'revised', Name: 'live', FunctionVersion: '1' }));
    await service.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'revised', ReservedConcurrentExecutions: 2 }));
    await service.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'revised', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    await waitForStatus(service, 'revised', 'live', 'READY');
    expect(environmentIds(service, 'revised:1', true)).toHaveLength(1);

    await service.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'revised', Environment: { Variables: { COLOUR: 'blue' } } }));
    await waitUntilUpdated(service.lambda, 'revised');
    await service.lambda.send(new PublishVersionCommand({ FunctionName: 'revised' }));
    await service.lambda.send(new UpdateAliasCommand({ FunctionName: 'revised', Name: 'live', FunctionVersion: '2' }));
    await waitForStatus(service, 'revised', 'live', 'READY');
    expect(environmentIds(service, 'revised:1', true)).toHaveLength(0);
    expect(environmentIds(service, 'revised:2', true)).toHaveLength(1);
    expect(await invoke(service, 'revised:live')).toMatchObject({ ok: true, answer: { colour: 'blue', initType: 'provisioned-concurrency' } });

    // A restart on the same data dir: the reservation is enforced again and the provisioned environment comes back.
    await service.close();
    const restarted = await services.start({ dataDir: service.dataDir });
    expect((await restarted.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'revised' }))).ReservedConcurrentExecutions).toBe(2);
    await waitForStatus(restarted, 'revised', 'live', 'READY');
    const outcomes = await burst(restarted, 'revised:live', 3, 1_500);
    expect(throttled(outcomes).map((o) => o.reason)).toEqual(['ReservedFunctionConcurrentInvocationLimitExceeded']);
  }, 120_000);

  it("deleting a function while its provisioned concurrency is IN_PROGRESS leaves no container of it; an update of $LATEST leaves a version's as they are", async () => {
    const service = await services.start({
      metrics: ({ pool, scheduler }) => new ServiceMetrics({ pool: () => pool.snapshot(), scheduler: () => scheduler.snapshot() }),
    });
    await createFunction(service, 'doomed', { MemorySize: 256 });
    await service.lambda.send(new PublishVersionCommand({ FunctionName: 'doomed' }));
    await service.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'doomed', Qualifier: '1', ProvisionedConcurrentExecutions: 2 }));
    const asked = await service.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'doomed', Qualifier: '1' }));
    expect(asked.Status).toBe('IN_PROGRESS');
    await service.lambda.send(new DeleteFunctionCommand({ FunctionName: 'doomed' }));
    // The engine answers the starts after the delete: what it made is stopped then, not kept until serve stops.
    expect(await waitForContainers('doomed', 0)).toBe(0);
    expect(service.pool.snapshot().environments).toEqual([]);
    expect(await (await fetch(`${service.endpoint}/metrics`)).text()).not.toMatch(/^lambkin_environments\{function_name="doomed[^}]*\} [1-9]/m);

    await createFunction(service, 'changing', { MemorySize: 256 });
    await service.lambda.send(new PublishVersionCommand({ FunctionName: 'changing' }));
    await service.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'changing', Qualifier: '1', ProvisionedConcurrentExecutions: 2 }));
    await waitForStatus(service, 'changing', '1', 'READY');
    const before = environmentIds(service, 'changing:1', true);
    await service.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'changing', Environment: { Variables: { COLOUR: 'red' } } }));
    await waitUntilUpdated(service.lambda, 'changing');
    // Version 1 is frozen: its provisioned environments stay, and still run it.
    expect(environmentIds(service, 'changing:1', true)).toEqual(before);
    const answer = await invoke(service, 'changing:1');
    expect(answer).toMatchObject({ ok: true, answer: { initType: 'provisioned-concurrency' } });
    expect(answer.ok && answer.answer.colour).toBeUndefined();
  }, 120_000);

  it("the memory budget evicts another function's idle environment, and throttles when only busy ones hold it", async () => {
    const service = await services.start({ pool: { memoryBudgetMb: 2_048 } });
    await createFunction(service, 'small', { MemorySize: 1_024 });
    await createFunction(service, 'large', { MemorySize: 2_048 });
    expect((await invoke(service, 'small')).ok).toBe(true);
    const [smallId] = environmentIds(service, 'small');
    expect(smallId).toBeDefined();

    expect((await invoke(service, 'large')).ok).toBe(true);
    expect(environmentIds(service, 'small')).toEqual([]);
    expect(await containerExists(smallId!)).toBe(false);
    expect(service.pool.memoryInUseMb).toBe(2_048);

    // The large one busy: the small one's environment does not fit, and nothing idle can make room.
    const busyLarge = invoke(service, 'large', { ms: 2_000 });
    await expect.poll(() => service.pool.count('large').busy).toBe(1);
    const small = await invoke(service, 'small');
    const large = await busyLarge;
    expect(large.ok).toBe(true);
    expect(small).toMatchObject({ ok: false, reason: 'ConcurrentInvocationLimitExceeded' });
    expect(String((small as { error: Error }).error)).toContain('memory budget');
  }, 90_000);
});

describe.skipIf(!docked)('keep-alive policy decisions acted on by the pool', () => {
  it('a pre-warm decision stops the idle environment and starts a fresh one in time: the next invoke is warm', async () => {
    // A policy that always expects the next invoke 1.5 s after the last one: unload now, pre-warm at 0.5 s.
    const policy = { invoked: () => {}, idle: () => ({ prewarmAfterMs: 500, keepAliveMs: 5_000 }) };
    const service = await services.start({ pool: { keepAlivePolicy: policy } });
    await createFunction(service, 'prewarmed');
    const first = await invoke(service, 'prewarmed');
    expect(first.ok && first.log).toContain('Init Duration');
    const [firstId] = environmentIds(service, 'prewarmed');
    // Unloaded at once: gone before the pre-warm (0.5 s later) puts a fresh one in its place.
    await expect.poll(() => environmentIds(service, 'prewarmed')).toEqual([]);
    expect(await containerExists(firstId!)).toBe(false);

    // Started 0.5 s after the invoke, and idle (initialised) once ready: a busy machine may take a while.
    await expect
      .poll(() => service.pool.snapshot().environments.filter((e) => e.functionName === 'prewarmed' && e.state === 'idle').length, {
        timeout: 15_000,
      })
      .toBe(1);
    const [prewarmedId] = environmentIds(service, 'prewarmed');
    expect(prewarmedId).toBeDefined();
    expect(prewarmedId).not.toBe(firstId);
    const second = await invoke(service, 'prewarmed');
    expect(second).toMatchObject({ ok: true, answer: { initType: 'on-demand' } });
    expect(second.ok && second.log).not.toContain('Init Duration');
    expect(second.ok && second.answer.containerId).toBe(prewarmedId!.slice(0, 12));
  }, 60_000);
});

function environmentIds(service: LambdaService, functionName: string, provisioned?: boolean): string[] {
  return service.pool
    .snapshot()
    .environments.filter((e) => e.functionName === functionName && (provisioned === undefined || e.provisioned === provisioned))
    .map((e) => e.id);
}

async function waitForStatus(service: LambdaService, functionName: string, qualifier: string, status: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const config = await service.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: qualifier }));
    if (config.Status === status) return config;
    if (config.Status === 'FAILED' || Date.now() > deadline) throw new Error(`provisioned concurrency is ${config.Status}: ${config.StatusReason}`);
    await delay(100);
  }
}

/** This test process's containers of the function, once their number is `count` (or after 30 s, whatever it is then). */
async function waitForContainers(functionName: string, count: number): Promise<number> {
  const labels = [`lambkin.function=${functionName}`, `lambkin.test.owner=${process.pid}`];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { stdout } = await docker('ps', '--all', '--quiet', ...labels.flatMap((label) => ['--filter', `label=${label}`]));
    const containers = stdout.split('\n').filter(Boolean);
    if (containers.length === count || Date.now() > deadline) return containers.length;
    await delay(200);
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
