// ServiceMetrics: counters and histograms fed by invokes and by the asynchronous delivery worker, gauges read from the pool's and the scheduler's snapshots
// when scraped; the output parsed as Prometheus' text format.
import { describe, expect, it } from 'vitest';
import type { EventEnd } from '../src/delivery/async-delivery.ts';
import { newEvent } from '../src/delivery/event-queue.ts';
import type { EnvironmentSnapshot, PoolSnapshot } from '../src/environments/pool-snapshot.ts';
import type { SchedulerSnapshot } from '../src/scheduling/snapshot.ts';
import type { MappingStatus } from '../src/delivery/mappings/mapping-runner.ts';
import { ServiceMetrics } from '../src/service/metrics.ts';

/** Samples by `name{labels}` as written (labels in the order prom-client writes them), or by bare name. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

function env(partial: Partial<EnvironmentSnapshot> & Pick<EnvironmentSnapshot, 'id' | 'functionName' | 'state'>): EnvironmentSnapshot {
  return { provisioned: false, memoryMb: 128, invokes: 0, startedAt: 0, ...partial };
}

function fixture() {
  const pool: PoolSnapshot = {
    memoryBudgetMb: 4096,
    memoryInUseMb: 640,
    environments: [
      env({ id: 'a1', functionName: 'alpha', state: 'busy' }),
      env({ id: 'a2', functionName: 'alpha', state: 'idle' }),
      env({ id: 'a3', functionName: 'alpha', state: 'idle' }),
      env({ id: 'b1', functionName: 'beta', state: 'busy', provisioned: true, memoryMb: 256 }),
      env({ id: 'b2', functionName: 'beta', state: 'starting', provisioned: true }),
    ],
    provisioned: [{ functionName: 'beta', requested: 4, allocated: 2, busy: 1 }],
  };
  const scheduler: SchedulerSnapshot = {
    accountLimit: 1000,
    unreservedLimit: 950,
    concurrentExecutions: 2,
    functions: { alpha: { inFlight: 1 }, beta: { inFlight: 1, reserved: 50 } },
  };
  const state = { pool, scheduler };
  const metrics = new ServiceMetrics({ pool: () => state.pool, scheduler: () => state.scheduler });
  return { state, metrics };
}

describe('ServiceMetrics', () => {
  it('counts invokes, errors, cold starts and throttles per function', async () => {
    const { metrics } = fixture();
    metrics.invoked('alpha', { error: false, durationMs: 3, coldStart: true, initDurationMs: 250, provisioned: false });
    metrics.invoked('alpha', { error: true, durationMs: 40, coldStart: false, provisioned: false });
    metrics.invoked('alpha', { error: false, durationMs: 2_000, coldStart: false, provisioned: false });
    metrics.invoked('beta', { error: false, durationMs: 1, coldStart: false, provisioned: true });
    metrics.throttled('alpha', 'ReservedFunctionConcurrentInvocationLimitExceeded');
    metrics.throttled('alpha', 'ReservedFunctionConcurrentInvocationLimitExceeded');
    metrics.throttled('beta', 'CallerRateLimitExceeded');

    const s = parse(await metrics.render());
    expect(s.get('lambkin_invocations_total{function_name="alpha"}')).toBe(3);
    expect(s.get('lambkin_invocations_total{function_name="beta"}')).toBe(1);
    expect(s.get('lambkin_errors_total{function_name="alpha"}')).toBe(1);
    expect(s.has('lambkin_errors_total{function_name="beta"}')).toBe(false);
    expect(s.get('lambkin_cold_starts_total{function_name="alpha"}')).toBe(1);
    expect(s.get('lambkin_provisioned_concurrency_invocations_total{function_name="beta"}')).toBe(1);
    expect(s.get('lambkin_throttles_total{function_name="alpha",reason="ReservedFunctionConcurrentInvocationLimitExceeded"}')).toBe(2);
    expect(s.get('lambkin_throttles_total{function_name="beta",reason="CallerRateLimitExceeded"}')).toBe(1);
  });

  it('puts durations in seconds into histogram buckets from 1 ms to 900 s', async () => {
    const { metrics } = fixture();
    for (const durationMs of [0.5, 3, 40, 2_000, 899_000]) {
      metrics.invoked('alpha', { error: false, durationMs, coldStart: false, provisioned: false });
    }
    metrics.invoked('alpha', { error: false, durationMs: 1, coldStart: true, initDurationMs: 750, provisioned: false });

    const s = parse(await metrics.render());
    const bucket = (le: string) => s.get(`lambkin_duration_seconds_bucket{le="${le}",function_name="alpha"}`);
    expect(bucket('0.001')).toBe(2); // 0.5 ms and 1 ms
    expect(bucket('0.005')).toBe(3);
    expect(bucket('0.05')).toBe(4);
    expect(bucket('2.5')).toBe(5);
    expect(bucket('600')).toBe(5);
    expect(bucket('900')).toBe(6);
    expect(bucket('+Inf')).toBe(6);
    expect(s.get('lambkin_duration_seconds_count{function_name="alpha"}')).toBe(6);
    expect(s.get('lambkin_duration_seconds_sum{function_name="alpha"}')).toBeCloseTo(901.0445, 6);

    expect(s.get('lambkin_init_duration_seconds_count{function_name="alpha"}')).toBe(1);
    expect(s.get('lambkin_init_duration_seconds_sum{function_name="alpha"}')).toBeCloseTo(0.75, 6);
    expect(s.get('lambkin_init_duration_seconds_bucket{le="0.5",function_name="alpha"}')).toBe(0);
    expect(s.get('lambkin_init_duration_seconds_bucket{le="1",function_name="alpha"}')).toBe(1);
  });

  it('reads the gauges from the snapshots when scraped', async () => {
    const { metrics } = fixture();
    const s = parse(await metrics.render());

    expect(s.get('lambkin_concurrent_executions')).toBe(2);
    expect(s.get('lambkin_concurrent_executions{function_name="alpha"}')).toBe(1);
    expect(s.get('lambkin_concurrent_executions{function_name="beta"}')).toBe(1);

    const envs = (fn: string, state: string, provisioned: boolean) =>
      s.get(`lambkin_environments{function_name="${fn}",state="${state}",provisioned="${provisioned}"}`);
    expect(envs('alpha', 'busy', false)).toBe(1);
    expect(envs('alpha', 'idle', false)).toBe(2);
    expect(envs('alpha', 'starting', false)).toBe(0);
    expect(envs('alpha', 'busy', true)).toBeUndefined(); // alpha has no provisioned concurrency
    expect(envs('beta', 'busy', true)).toBe(1);
    expect(envs('beta', 'starting', true)).toBe(1);
    expect(envs('beta', 'idle', true)).toBe(0);
    expect(envs('beta', 'busy', false)).toBe(0);

    expect(s.get('lambkin_provisioned_concurrency_requested{function_name="beta"}')).toBe(4);
    expect(s.get('lambkin_provisioned_concurrency_allocated{function_name="beta"}')).toBe(2);
    expect(s.get('lambkin_provisioned_concurrent_executions{function_name="beta"}')).toBe(1);
    expect(s.get('lambkin_provisioned_concurrency_utilization{function_name="beta"}')).toBe(0.5);
    expect(s.has('lambkin_provisioned_concurrency_requested{function_name="alpha"}')).toBe(false);

    expect(s.get('lambkin_reserved_concurrency{function_name="beta"}')).toBe(50);
    expect(s.has('lambkin_reserved_concurrency{function_name="alpha"}')).toBe(false);
    expect(s.get('lambkin_memory_budget_bytes')).toBe(4096 * 1024 * 1024);
    expect(s.get('lambkin_memory_in_use_bytes')).toBe(640 * 1024 * 1024);
    expect(s.get('lambkin_account_concurrency_limit')).toBe(1000);
    expect(s.get('lambkin_unreserved_concurrency_limit')).toBe(950);
  });

  it('drops the gauges of a function that vanished since the last scrape, and follows changed values', async () => {
    const { state, metrics } = fixture();
    const before = parse(await metrics.render());
    expect(before.get('lambkin_environments{function_name="beta",state="busy",provisioned="true"}')).toBe(1);

    // beta deleted: its environments and provisioned config gone; alpha's busy environment went idle.
    state.pool = {
      ...state.pool,
      memoryInUseMb: 384,
      environments: [
        env({ id: 'a1', functionName: 'alpha', state: 'idle' }),
        env({ id: 'a2', functionName: 'alpha', state: 'idle' }),
        env({ id: 'a3', functionName: 'alpha', state: 'idle' }),
      ],
      provisioned: [],
    };
    state.scheduler = { ...state.scheduler, concurrentExecutions: 0, functions: { alpha: { inFlight: 0 } } };

    const text = await metrics.render();
    // No counter was fed for beta: nothing of it may remain.
    expect(text.split('\n').filter((line) => !line.startsWith('#') && line.includes('function_name="beta"'))).toEqual([]);
    const after = parse(text);
    expect(after.get('lambkin_environments{function_name="alpha",state="busy",provisioned="false"}')).toBe(0);
    expect(after.get('lambkin_environments{function_name="alpha",state="idle",provisioned="false"}')).toBe(3);
    expect(after.get('lambkin_concurrent_executions')).toBe(0);
    expect(after.get('lambkin_concurrent_executions{function_name="alpha"}')).toBe(0);
    expect(after.get('lambkin_memory_in_use_bytes')).toBe(384 * 1024 * 1024);
  });

  it("forget drops a deleted function's counters and histograms", async () => {
    const { metrics } = fixture();
    metrics.invoked('beta', { error: true, durationMs: 5, coldStart: true, initDurationMs: 100, provisioned: true });
    metrics.throttled('beta', 'ReservedFunctionConcurrentInvocationLimitExceeded');
    metrics.invoked('alpha', { error: false, durationMs: 5, coldStart: false, provisioned: false });
    expect(await metrics.render()).toContain('lambkin_throttles_total{function_name="beta"');

    metrics.forget('beta');
    const text = await metrics.render();
    const betaSeries = text.split('\n').filter((line) => /_(total|bucket|sum|count)\{.*function_name="beta"/.test(line));
    expect(betaSeries).toEqual([]);
    expect(parse(text).get('lambkin_invocations_total{function_name="alpha"}')).toBe(1);
  });

  it('keeps its own registry, and reads each source once per scrape', async () => {
    let poolReads = 0;
    let schedulerReads = 0;
    const { state } = fixture();
    const sources = {
      pool: () => (poolReads++, state.pool),
      scheduler: () => (schedulerReads++, state.scheduler),
    };
    const one = new ServiceMetrics(sources);
    const two = new ServiceMetrics(sources); // a second one in the same process must not clash over names
    one.invoked('alpha', { error: false, durationMs: 1, coldStart: false, provisioned: false });
    poolReads = schedulerReads = 0;
    const text = await one.render();
    expect(poolReads).toBe(1);
    expect(schedulerReads).toBe(1);
    expect(parse(await two.render()).has('lambkin_invocations_total{function_name="alpha"}')).toBe(false);
    expect(one.contentType).toMatch(/^text\/plain/);
    expect(text).toMatch(/# HELP lambkin_invocations_total .*Invocations/);
    expect(text).toMatch(/# TYPE lambkin_duration_seconds histogram/);
  });

  describe('event source mappings', () => {
    const mapping = (partial: Partial<MappingStatus> & Pick<MappingStatus, 'uuid'>): MappingStatus => ({
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:alpha',
      eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders',
      state: 'Enabled',
      lastProcessingResult: 'OK',
      polling: true,
      lag: 0,
      polled: 0,
      delivered: 0,
      failed: 0,
      ...partial,
    });
    const labels = (uuid: string, fn: string, source: string) => `{uuid="${uuid}",function_name="${fn}",source="${source}"}`;

    it('gives each mapping its polled, delivered and failed counters and its lag, by uuid, function and source name', async () => {
      const { state } = fixture();
      const mappings = [
        mapping({ uuid: 'u-1', lag: 120, polled: 30, delivered: 25, failed: 5 }),
        mapping({
          uuid: 'u-2',
          functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:beta:live',
          eventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks',
          lag: 7,
          polled: 100,
          delivered: 100,
        }),
      ];
      let reads = 0;
      const metrics = new ServiceMetrics({ pool: () => state.pool, scheduler: () => state.scheduler, mappings: () => (reads++, mappings) });
      const text = await metrics.render();
      expect(reads).toBe(1); // one read per scrape, whatever the number of series
      const s = parse(text);
      const one = labels('u-1', 'alpha', 'orders');
      expect(s.get(`lambkin_event_source_mapping_polled_total${one}`)).toBe(30);
      expect(s.get(`lambkin_event_source_mapping_delivered_total${one}`)).toBe(25);
      expect(s.get(`lambkin_event_source_mapping_failed_total${one}`)).toBe(5);
      expect(s.get(`lambkin_event_source_mapping_lag${one}`)).toBe(120);
      const two = labels('u-2', 'beta:live', 'clicks');
      expect(s.get(`lambkin_event_source_mapping_polled_total${two}`)).toBe(100);
      expect(s.get(`lambkin_event_source_mapping_failed_total${two}`)).toBe(0);
      expect(s.get(`lambkin_event_source_mapping_lag${two}`)).toBe(7);
      expect(text).toMatch(/# TYPE lambkin_event_source_mapping_delivered_total counter/);
      expect(text).toMatch(/# TYPE lambkin_event_source_mapping_lag gauge/);
    });

    it('follows the counts between scrapes, and drops a deleted mapping', async () => {
      const { state } = fixture();
      let mappings = [
        mapping({ uuid: 'u-1', polled: 10, delivered: 10, lag: 50 }),
        mapping({ uuid: 'u-2', eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:other' }),
      ];
      const metrics = new ServiceMetrics({ pool: () => state.pool, scheduler: () => state.scheduler, mappings: () => mappings });
      await metrics.render();
      mappings = [mapping({ uuid: 'u-1', polled: 40, delivered: 35, failed: 5, lag: 0 })];
      const text = await metrics.render();
      const s = parse(text);
      const one = labels('u-1', 'alpha', 'orders');
      expect(s.get(`lambkin_event_source_mapping_polled_total${one}`)).toBe(40);
      expect(s.get(`lambkin_event_source_mapping_delivered_total${one}`)).toBe(35);
      expect(s.get(`lambkin_event_source_mapping_lag${one}`)).toBe(0);
      expect(text).not.toContain('u-2');
    });

    it('has no mapping series without a mappings source', async () => {
      const { metrics } = fixture();
      expect(await metrics.render()).not.toMatch(/^lambkin_event_source_mapping.*\{/m);
    });
  });

  describe('asynchronous events (deliveryObserver)', () => {
    const event = (functionName: string, requestId = 'r1') => newEvent({ requestId, functionName, payload: Buffer.from('{}') }, 0);
    const end = (functionName: string, condition: EventEnd['condition']): EventEnd => ({
      event: event(functionName),
      functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}:$LATEST`,
      condition,
    });

    it("counts events received, each attempt's event age in seconds, and failures to reach destinations and dead-letter queues", async () => {
      const { metrics } = fixture();
      const observer = metrics.deliveryObserver();
      observer.received!(event('alpha', 'a'));
      observer.received!(event('alpha', 'b'));
      observer.received!(event('beta', 'c'));
      // alpha's first event: straight off the queue, then a retry a minute later; beta's after a 3 s backoff.
      observer.attempting!(event('alpha', 'a'), 4);
      observer.attempting!(event('alpha', 'a'), 60_500);
      observer.attempting!(event('beta', 'c'), 3_000);
      observer.destinationFailed!('arn:aws:sqs:us-east-1:123456789012:gone', end('alpha', 'Success'), new Error('unreachable'));
      observer.deadLetterFailed!('arn:aws:sns:us-east-1:123456789012:gone', end('beta', 'RetriesExhausted'), new Error('unreachable'));

      const text = await metrics.render();
      const s = parse(text);
      expect(s.get('lambkin_async_events_received_total{function_name="alpha"}')).toBe(2);
      expect(s.get('lambkin_async_events_received_total{function_name="beta"}')).toBe(1);
      const age = (le: string, fn = 'alpha') => s.get(`lambkin_async_event_age_seconds_bucket{le="${le}",function_name="${fn}"}`);
      expect(age('0.01')).toBe(1);
      expect(age('60')).toBe(1);
      expect(age('120')).toBe(2);
      expect(age('21600')).toBe(2);
      expect(s.get('lambkin_async_event_age_seconds_count{function_name="alpha"}')).toBe(2);
      expect(s.get('lambkin_async_event_age_seconds_sum{function_name="alpha"}')).toBeCloseTo(60.504, 6);
      expect(age('1', 'beta')).toBe(0);
      expect(age('5', 'beta')).toBe(1);
      expect(s.get('lambkin_destination_delivery_failures_total{function_name="alpha"}')).toBe(1);
      expect(s.has('lambkin_destination_delivery_failures_total{function_name="beta"}')).toBe(false);
      expect(s.get('lambkin_dead_letter_errors_total{function_name="beta"}')).toBe(1);
      expect(text).toMatch(/# HELP lambkin_async_events_received_total .*CloudWatch: AsyncEventsReceived/);
      expect(text).toMatch(/# TYPE lambkin_async_event_age_seconds histogram/);
      expect(text).toMatch(/# HELP lambkin_destination_delivery_failures_total .*CloudWatch: DestinationDeliveryFailures/);
      expect(text).toMatch(/# HELP lambkin_dead_letter_errors_total .*CloudWatch: DeadLetterErrors/);
    });

    it('counts as dropped every event that ends without a successful run, by reason, as CloudWatch does', async () => {
      const { metrics } = fixture();
      const observer = metrics.deliveryObserver();
      observer.delivered!(end('alpha', 'Success'));
      observer.delivered!(end('alpha', 'RetriesExhausted'));
      observer.delivered!(end('alpha', 'RetriesExhausted'));
      observer.delivered!(end('alpha', 'EventAgeExceeded'));
      observer.delivered!(end('beta', 'ZeroReservedConcurrency'));
      observer.dropped!(event('gamma'), 'ResourceNotFoundException: Function not found');

      const text = await metrics.render();
      const s = parse(text);
      const dropped = (fn: string, reason: string) => s.get(`lambkin_async_events_dropped_total{function_name="${fn}",reason="${reason}"}`);
      expect(dropped('alpha', 'RetriesExhausted')).toBe(2);
      expect(dropped('alpha', 'EventAgeExceeded')).toBe(1);
      expect(dropped('beta', 'ZeroReservedConcurrency')).toBe(1);
      expect(dropped('gamma', 'FunctionDeleted')).toBe(1);
      expect(text).not.toContain('reason="Success"');
      expect(text).toMatch(/# HELP lambkin_async_events_dropped_total .*CloudWatch: AsyncEventsDropped/);
    });

    it("forget drops a deleted function's asynchronous series too", async () => {
      const { metrics } = fixture();
      const observer = metrics.deliveryObserver();
      for (const fn of ['alpha', 'beta']) {
        observer.received!(event(fn));
        observer.attempting!(event(fn), 10);
        observer.delivered!(end(fn, 'RetriesExhausted'));
        observer.destinationFailed!('arn:aws:sqs:us-east-1:123456789012:q', end(fn, 'RetriesExhausted'), new Error('x'));
        observer.deadLetterFailed!('arn:aws:sqs:us-east-1:123456789012:q', end(fn, 'RetriesExhausted'), new Error('x'));
      }
      metrics.forget('beta');
      const text = await metrics.render();
      expect(text.split('\n').filter((line) => /^lambkin_(async|destination|dead_letter).*function_name="beta"/.test(line))).toEqual([]);
      expect(parse(text).get('lambkin_async_events_dropped_total{function_name="alpha",reason="RetriesExhausted"}')).toBe(1);
    });
  });
});
