// Asynchronous invokes as a user watches them: GET /metrics counts the event received and the age it had when it
// ran (CloudWatch's AsyncEventsReceived and AsyncEventAge), and GET /lambkin/status (and `lambkin status`'s table)
// shows an event waiting in the queue while its function, held to reserved concurrency 1, is busy with a slow
// synchronous invoke. Real SDK, real HTTP; the functions run as local processes (ProcessInvoker); the worker's clock
// is scaled by 0.01, as `lambkin serve --retry-delay-scale 0.01` would run it.
import { InvokeCommand, type LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus } from '../src/cli/status.ts';
import type { PoolSnapshot } from '../src/environments/pool-snapshot.ts';
import { ServiceMetrics } from '../src/service/metrics.ts';
import { type FunctionStatus, type ServiceStatus, STATUS_PATH } from '../src/service/status.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction, payloadJson } from './support/lambda-fixtures.ts';
import { makeDataDir, removeDataDir, startLocalService, type LocalService } from './support/local-service.ts';
import { ProcessInvoker } from './support/process-invoker.ts';
import { eventually } from './support/eventually.ts';
import { recordedLines } from './support/recorded-lines.ts';

// Each run is appended to $RECORD (its request id and event); `sleepMs` makes it wait first.
const HANDLER = `
import { appendFileSync } from 'node:fs';
export const handler = async (event, context) => {
  appendFileSync(process.env.RECORD, JSON.stringify({ id: context.awsRequestId, event }) + '\\n');
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return { ok: event };
};
`;

/** ProcessInvoker holds no environments: the gauges read an empty pool. */
const NO_POOL: PoolSnapshot = { memoryBudgetMb: 0, memoryInUseMb: 0, environments: [], provisioned: [] };

let dataDir: string;
let recordDir: string;
let service: LocalService;
let lambda: LambdaClient;
const invoker = new ProcessInvoker();

beforeAll(async () => {
  dataDir = await makeDataDir('lambkin-async-observe-');
  recordDir = await mkdtemp(join(tmpdir(), 'lambkin-async-observe-records-'));
  const metrics = new ServiceMetrics({ pool: () => NO_POOL, scheduler: () => service.server.scheduler.snapshot() });
  service = await startLocalService({ dataDir, invoker, metrics, async: { delayScale: 0.01, observer: metrics.deliveryObserver() } });
  lambda = service.lambda;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await invoker.close();
  await removeDataDir(dataDir);
  await rm(recordDir, { recursive: true, force: true });
});

async function createRecording(name: string): Promise<void> {
  await createNodeFunction(lambda, name, makeZip([{ name: 'index.mjs', content: HANDLER }]), {
    Environment: { Variables: { RECORD: join(recordDir, `${name}.jsonl`) } },
  });
}

async function runsOf(name: string): Promise<{ id: string; event: Record<string, unknown> }[]> {
  return recordedLines(join(recordDir, `${name}.jsonl`));
}

const invokeEvent = (FunctionName: string, event: unknown) =>
  lambda.send(new InvokeCommand({ FunctionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));

/** GET /metrics, as Prometheus scrapes it: samples by `name{labels}` as written. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(new URL('/metrics', service.endpoint));
  expect(res.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const match = /^([^#\s]\S*?(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function status(): Promise<ServiceStatus> {
  const res = await fetch(new URL(STATUS_PATH, service.endpoint));
  expect(res.status).toBe(200);
  return (await res.json()) as ServiceStatus;
}

const rowOf = (s: ServiceStatus, name: string): FunctionStatus => s.functions.find((fn) => fn.name === name)!;

describe('asynchronous invokes, observed', () => {
  it('GET /metrics counts the event received and its age when it ran', async () => {
    await createRecording('counted');
    const answer = await invokeEvent('counted', { n: 1 });
    expect(answer.StatusCode).toBe(202);
    await eventually(
      () => runsOf('counted'),
      (runs) => expect(runs.map((run) => run.id)).toEqual([answer.$metadata.requestId]),
    );

    const s = await eventually(scrape, (samples) => expect(samples.get('lambkin_async_event_age_seconds_count{function_name="counted"}')).toBe(1));
    expect(s.get('lambkin_async_events_received_total{function_name="counted"}')).toBe(1);
    // Straight off the queue: well under a second old, and in the histogram's +Inf bucket like every observation.
    expect(s.get('lambkin_async_event_age_seconds_sum{function_name="counted"}')).toBeLessThan(1);
    expect(s.get('lambkin_async_event_age_seconds_bucket{le="+Inf",function_name="counted"}')).toBe(1);
    // It ran through the one invocation path: an invocation like any other, and nothing dropped.
    expect(s.get('lambkin_invocations_total{function_name="counted"}')).toBe(1);
    expect([...s.keys()].filter((key) => key.startsWith('lambkin_async_events_dropped_total'))).toEqual([]);
  });

  it('lambkin status shows an event queued while its function is busy, and the queue empty once it ran', async () => {
    await createRecording('held');
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'held', ReservedConcurrentExecutions: 1 }));
    // The one environment it may have is busy for 2 s with a synchronous invoke.
    const slow = lambda.send(new InvokeCommand({ FunctionName: 'held', Payload: Buffer.from(JSON.stringify({ sleepMs: 2_000 })) }));
    slow.catch(() => {}); // awaited below; a failure before then must not go unhandled
    await eventually(
      () => runsOf('held'),
      (runs) => expect(runs).toHaveLength(1),
    );

    const answer = await invokeEvent('held', { queued: true });
    expect(answer.StatusCode).toBe(202);
    const waiting = await status();
    expect(rowOf(waiting, 'held')).toMatchObject({ inFlight: 1, reservedConcurrency: 1, queuedEvents: 1 });
    expect(rowOf(waiting, 'held').oldestEventAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(rowOf(waiting, 'counted')).toMatchObject({ queuedEvents: 0, oldestEventAgeSeconds: null });
    // The table a user reads: QUEUED 1 on held's line, its OLDEST in seconds.
    const table = formatStatus(waiting);
    const header = table.split('\n')[0]!;
    const heldLine = table.split('\n').find((line) => line.startsWith('held'))!;
    expect(heldLine.slice(header.indexOf('QUEUED')).split(/ {2,}/)).toEqual(['1', expect.stringMatching(/^\d+s$/)]);
    expect(await runsOf('held')).toHaveLength(1); // only the synchronous invoke has run

    expect(payloadJson(await slow)).toEqual({ ok: { sleepMs: 2_000 } });
    await eventually(
      () => runsOf('held'),
      (runs) => expect(runs.map((run) => run.id)).toContain(answer.$metadata.requestId),
    );
    const after = await eventually(status, (s) => expect(rowOf(s, 'held').queuedEvents).toBe(0));
    expect(rowOf(after, 'held').oldestEventAgeSeconds).toBeNull();

    const s = await scrape();
    expect(s.get('lambkin_async_events_received_total{function_name="held"}')).toBe(1);
    // One age, of the attempt that ran (the throttled tries before it never reached the function, and CloudWatch's
    // AsyncEventAge counts only invokes): it had waited behind the slow invoke, more than a second.
    expect(s.get('lambkin_async_event_age_seconds_count{function_name="held"}')).toBe(1);
    expect(s.get('lambkin_async_event_age_seconds_bucket{le="1",function_name="held"}')).toBe(0);
    expect(s.get('lambkin_invocations_total{function_name="held"}')).toBe(2);
  }, 30_000);
});
