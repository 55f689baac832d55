// The service's Prometheus metrics (GET /metrics): Lambda's CloudWatch metrics, by their CloudWatch names in the
// help text, under the `lambkin_` prefix and labelled by `function_name`.
//
// Counters and histograms are fed by the invoke path (invoked, throttled) and by the asynchronous delivery worker
// (deliveryObserver(): events received, their age at each attempt, drops, destination and dead-letter failures). Gauges are not kept up to date as the
// pool changes: they read the pool's and the scheduler's snapshots when scraped (collect()), and are reset first,
// so that a function deleted since the last scrape (or an environment state no longer held) does not linger.
//
// Event source mappings' counters (polled, delivered, failed) and lag are read from the runner's status when scraped
// too: a poller counts from zero when it starts, so a mapping disabled and enabled again (or updated) shows a counter
// reset, which Prometheus' rate() and increase() take in their stride.
//
// The registry is this object's own, never prom-client's global one: two services in one process (tests) do not
// share or clash over metrics, and nothing registered elsewhere leaks into the service's /metrics.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryObserver, EventEnd, FailureCondition } from '../delivery/async-delivery.ts';
import type { EnvironmentState, PoolSnapshot } from '../environments/pool-snapshot.ts';
import type { SchedulerSnapshot } from '../scheduling/snapshot.ts';
import type { MappingStatus } from '../delivery/mappings/mapping-runner.ts';
import { functionNameOf, sourceName } from './status.ts';

export interface MetricsSources {
  pool: () => PoolSnapshot;
  scheduler: () => SchedulerSnapshot;
  /** The event source mappings with their pollers' counts (LambdaApiServer.mappingStatus()); none when absent. */
  mappings?: () => readonly MappingStatus[];
}

interface Scrape {
  pool: PoolSnapshot;
  scheduler: SchedulerSnapshot;
  mappings: readonly MappingStatus[];
}

type MappingLabel = 'uuid' | 'function_name' | 'source';

export interface InvokeOutcome {
  /** The invoke ended in a function error (Errors counts function errors, not throttles or service errors). */
  error: boolean;
  durationMs: number;
  /** The invoke started a new environment (it paid for an init). */
  coldStart: boolean;
  /** The init phase's duration, for a cold start. */
  initDurationMs?: number;
  /** Served by a provisioned-concurrency environment. */
  provisioned: boolean;
}

/** 1 ms to 15 minutes (Lambda's longest timeout), about 2.5x apart. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900];
/** Inits: 10 ms to 10 s is the usual range (10 s is the on-demand init limit); a provisioned init may take longer. */
export const INIT_DURATION_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

/**
 * An asynchronous event's age when an attempt reaches the function: 10 ms (straight off the queue) to 6 hours
 * (MaximumEventAgeInSeconds at its highest), through the retries' one and two minutes.
 */
export const EVENT_AGE_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 21_600];

/** Why an event was dropped: its end without success, or its function deleted before it ran. */
export type DropReason = FailureCondition | 'FunctionDeleted';
const DROP_REASONS: readonly DropReason[] = ['RetriesExhausted', 'EventAgeExceeded', 'ZeroReservedConcurrency', 'FunctionDeleted'];

const STATES: readonly EnvironmentState[] = ['starting', 'idle', 'busy'];
const MB = 1024 * 1024;

export class ServiceMetrics {
  private readonly registry = new Registry();
  private readonly sources: MetricsSources;
  /** The snapshots of the scrape in progress: every gauge of one scrape reads the same moment. */
  private scrape: Scrape | undefined;
  /** The throttle reasons seen per function, for forget(). */
  private readonly throttleReasons = new Map<string, Set<string>>();

  private readonly invocations: Counter<'function_name'>;
  private readonly errors: Counter<'function_name'>;
  private readonly throttles: Counter<'function_name' | 'reason'>;
  private readonly duration: Histogram<'function_name'>;
  private readonly coldStarts: Counter<'function_name'>;
  private readonly initDuration: Histogram<'function_name'>;
  private readonly provisionedInvocations: Counter<'function_name'>;
  private readonly asyncEventsReceived: Counter<'function_name'>;
  private readonly asyncEventAge: Histogram<'function_name'>;
  private readonly asyncEventsDropped: Counter<'function_name' | 'reason'>;
  private readonly destinationDeliveryFailures: Counter<'function_name'>;
  private readonly deadLetterErrors: Counter<'function_name'>;

  constructor(sources: MetricsSources) {
    this.sources = sources;
    const registers = [this.registry];
    const byFunction = ['function_name'] as const;

    // Every counter and histogram: registered here only, labelled by function (throttles also by reason).
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, buckets: number[]) =>
      new Histogram<'function_name'>({ name, help, labelNames: byFunction, buckets, registers });
    this.invocations = counter('lambkin_invocations_total', 'Invokes that ran function code, whatever their outcome (CloudWatch: Invocations).', byFunction);
    this.errors = counter('lambkin_errors_total', 'Invokes that ended in a function error (CloudWatch: Errors).', byFunction);
    this.throttles = counter('lambkin_throttles_total', 'Invoke requests refused for want of concurrency or capacity, by reason (CloudWatch: Throttles).', [
      'function_name',
      'reason',
    ] as const);
    this.duration = histogram('lambkin_duration_seconds', 'Time the function code spent on an invoke (CloudWatch: Duration).', DURATION_BUCKETS_SECONDS);
    this.coldStarts = counter(
      'lambkin_cold_starts_total',
      "Invokes that had to start a new execution environment (the REPORT line's Init Duration).",
      byFunction,
    );
    this.initDuration = histogram(
      'lambkin_init_duration_seconds',
      "Init phase duration of new execution environments (CloudWatch: InitDuration, the REPORT line's Init Duration).",
      INIT_DURATION_BUCKETS_SECONDS,
    );
    this.provisionedInvocations = counter(
      'lambkin_provisioned_concurrency_invocations_total',
      'Invokes served by provisioned-concurrency environments (CloudWatch: ProvisionedConcurrencyInvocations).',
      byFunction,
    );

    this.asyncEventsReceived = counter(
      'lambkin_async_events_received_total',
      'Asynchronous invokes accepted and queued (CloudWatch: AsyncEventsReceived).',
      byFunction,
    );
    this.asyncEventAge = histogram(
      'lambkin_async_event_age_seconds',
      'Time from accepting an asynchronous event to each attempt at running it, retries included (CloudWatch: AsyncEventAge).',
      EVENT_AGE_BUCKETS_SECONDS,
    );
    this.asyncEventsDropped = counter(
      'lambkin_async_events_dropped_total',
      'Asynchronous events dropped without a successful run, by reason: RetriesExhausted, EventAgeExceeded, ' +
        'ZeroReservedConcurrency (sent to the failure destination and dead-letter queue first, if any), ' +
        'FunctionDeleted (CloudWatch: AsyncEventsDropped).',
      ['function_name', 'reason'] as const,
    );
    this.destinationDeliveryFailures = counter(
      'lambkin_destination_delivery_failures_total',
      'Records that could not be sent to an OnSuccess or OnFailure destination (CloudWatch: DestinationDeliveryFailures).',
      byFunction,
    );
    this.deadLetterErrors = counter(
      'lambkin_dead_letter_errors_total',
      "Failed events' payloads that could not be sent to the dead-letter queue (CloudWatch: DeadLetterErrors).",
      byFunction,
    );

    // The gauges below are read from the snapshots at scrape time. `collect` runs with `this` bound to the gauge.
    const metrics = this;

    new Gauge({
      name: 'lambkin_concurrent_executions',
      help:
        'Invokes in flight (CloudWatch: ConcurrentExecutions). Per function_name; the series without function_name ' +
        "is the account total, as CloudWatch's metric without the FunctionName dimension: sum by function_name " +
        'over {function_name!=""} to add up functions.',
      labelNames: byFunction,
      registers,
      collect() {
        const { scheduler } = metrics.snapshots();
        this.reset();
        this.set(scheduler.concurrentExecutions);
        for (const [name, fn] of Object.entries(scheduler.functions)) this.set({ function_name: name }, fn.inFlight);
      },
    });
    new Gauge({
      name: 'lambkin_environments',
      help: 'Execution environments held, by state (starting, idle, busy) and whether started for provisioned concurrency.',
      labelNames: ['function_name', 'state', 'provisioned'] as const,
      registers,
      collect() {
        const { pool } = metrics.snapshots();
        this.reset();
        // Every state at 0 first, for each function held, so that a count that falls to none reads 0, not absent.
        const provisionedFunctions = new Set(pool.provisioned.map((p) => p.functionName));
        for (const name of functionsHeld(pool)) {
          for (const state of STATES) {
            this.set({ function_name: name, state, provisioned: 'false' }, 0);
            if (provisionedFunctions.has(name)) this.set({ function_name: name, state, provisioned: 'true' }, 0);
          }
        }
        for (const env of pool.environments) {
          this.inc({ function_name: env.functionName, state: env.state, provisioned: String(env.provisioned) });
        }
      },
    });
    new Gauge({
      name: 'lambkin_provisioned_concurrency_requested',
      help: 'Provisioned concurrency configured for the function (ProvisionedConcurrentExecutions as requested).',
      labelNames: byFunction,
      registers,
      collect() {
        this.reset();
        for (const p of metrics.snapshots().pool.provisioned) this.set({ function_name: p.functionName }, p.requested);
      },
    });
    new Gauge({
      name: 'lambkin_provisioned_concurrency_allocated',
      help: 'Provisioned-concurrency environments initialised and ready, busy or idle.',
      labelNames: byFunction,
      registers,
      collect() {
        this.reset();
        for (const p of metrics.snapshots().pool.provisioned) this.set({ function_name: p.functionName }, p.allocated);
      },
    });
    new Gauge({
      name: 'lambkin_provisioned_concurrent_executions',
      help: 'Invokes in flight on provisioned-concurrency environments (CloudWatch: ProvisionedConcurrentExecutions).',
      labelNames: byFunction,
      registers,
      collect() {
        this.reset();
        for (const p of metrics.snapshots().pool.provisioned) this.set({ function_name: p.functionName }, p.busy);
      },
    });
    new Gauge({
      name: 'lambkin_provisioned_concurrency_utilization',
      help: 'Busy over allocated provisioned-concurrency environments, 0 to 1 (CloudWatch: ProvisionedConcurrencyUtilization).',
      labelNames: byFunction,
      registers,
      collect() {
        this.reset();
        for (const p of metrics.snapshots().pool.provisioned) {
          this.set({ function_name: p.functionName }, p.allocated > 0 ? Math.min(1, p.busy / p.allocated) : 0);
        }
      },
    });
    new Gauge({
      name: 'lambkin_memory_budget_bytes',
      help: 'Memory this machine lends to execution environments.',
      registers,
      collect() {
        this.set(metrics.snapshots().pool.memoryBudgetMb * MB);
      },
    });
    new Gauge({
      name: 'lambkin_memory_in_use_bytes',
      help: 'The sum of MemorySize over the execution environments held (starting, idle and busy).',
      registers,
      collect() {
        this.set(metrics.snapshots().pool.memoryInUseMb * MB);
      },
    });
    new Gauge({
      name: 'lambkin_account_concurrency_limit',
      help: "The account's concurrency limit (ConcurrentExecutions in GetAccountSettings).",
      registers,
      collect() {
        this.set(metrics.snapshots().scheduler.accountLimit);
      },
    });
    new Gauge({
      name: 'lambkin_unreserved_concurrency_limit',
      help: 'Concurrency left to functions without reserved concurrency (UnreservedConcurrentExecutions).',
      registers,
      collect() {
        this.set(metrics.snapshots().scheduler.unreservedLimit);
      },
    });
    new Gauge({
      name: 'lambkin_reserved_concurrency',
      help: 'Reserved concurrency set on the function (ReservedConcurrentExecutions).',
      labelNames: byFunction,
      registers,
      collect() {
        this.reset();
        for (const [name, fn] of Object.entries(metrics.snapshots().scheduler.functions)) {
          if (fn.reserved !== undefined) this.set({ function_name: name }, fn.reserved);
        }
      },
    });

    // Event source mappings, one series per mapping, labelled by its UUID, the function it runs and the queue or
    // stream it reads (by name).
    const mappingLabels = ['uuid', 'function_name', 'source'] as const;
    const labelsOf = (m: MappingStatus): Record<MappingLabel, string> => ({
      uuid: m.uuid,
      function_name: functionNameOf(m.functionArn),
      source: sourceName(m.eventSourceArn),
    });
    const mappingCounter = (name: string, help: string, count: (m: MappingStatus) => number) =>
      new Counter<MappingLabel>({
        name,
        help,
        labelNames: mappingLabels,
        registers,
        collect() {
          this.reset();
          for (const m of metrics.snapshots().mappings) this.inc(labelsOf(m), count(m));
        },
      });
    mappingCounter(
      'lambkin_event_source_mapping_polled_total',
      "Messages or records an event source mapping's poller read from its source, since the poller started.",
      (m) => m.polled,
    );
    mappingCounter(
      'lambkin_event_source_mapping_delivered_total',
      "Messages or records an event source mapping's poller delivered to the function, since the poller started.",
      (m) => m.delivered,
    );
    mappingCounter(
      'lambkin_event_source_mapping_failed_total',
      'Messages or records in batches that failed (function errors, reported batch item failures), since the poller started.',
      (m) => m.failed,
    );
    new Gauge<MappingLabel>({
      name: 'lambkin_event_source_mapping_lag',
      help: 'Messages (SQS: visible in the queue) or records (Kinesis: not yet processed, an estimate) an event source mapping is behind.',
      labelNames: mappingLabels,
      registers,
      collect() {
        this.reset();
        for (const m of metrics.snapshots().mappings) this.set(labelsOf(m), m.lag);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** An invoke that ran the function's code: counted, timed, and told apart as cold and provisioned. */
  invoked(functionName: string, o: InvokeOutcome): void {
    const labels = { function_name: functionName };
    this.invocations.inc(labels);
    if (o.error) this.errors.inc(labels);
    this.duration.observe(labels, o.durationMs / 1000);
    if (o.coldStart) {
      this.coldStarts.inc(labels);
      if (o.initDurationMs !== undefined) this.initDuration.observe(labels, o.initDurationMs / 1000);
    }
    if (o.provisioned) this.provisionedInvocations.inc(labels);
  }

  /** An invoke refused (TooManyRequestsException and its kin); `reason` as Lambda's Reason field says it. */
  throttled(functionName: string, reason: string): void {
    this.throttles.inc({ function_name: functionName, reason });
    let reasons = this.throttleReasons.get(functionName);
    if (!reasons) this.throttleReasons.set(functionName, (reasons = new Set()));
    reasons.add(reason);
  }

  /** What the asynchronous delivery worker reports, counted: give it to AsyncDelivery (with the log's, if any). */
  deliveryObserver(): DeliveryObserver {
    const labels = (functionName: string) => ({ function_name: functionName });
    const ofEnd = (end: EventEnd) => labels(end.event.functionName);
    return {
      received: (event) => this.asyncEventsReceived.inc(labels(event.functionName)),
      attempting: (event, ageMs) => this.asyncEventAge.observe(labels(event.functionName), Math.max(0, ageMs) / 1000),
      // The worker drops an event outright only when its function, version or alias is gone.
      dropped: (event) => this.asyncEventsDropped.inc({ function_name: event.functionName, reason: 'FunctionDeleted' }),
      // CloudWatch counts every event that ends without a successful run as dropped, destinations or not.
      delivered: (end) => {
        if (end.condition !== 'Success') this.asyncEventsDropped.inc({ ...ofEnd(end), reason: end.condition });
      },
      destinationFailed: (_arn, end) => this.destinationDeliveryFailures.inc(ofEnd(end)),
      deadLetterFailed: (_arn, end) => this.deadLetterErrors.inc(ofEnd(end)),
    };
  }

  /**
   * Drops a deleted function's counters and histograms. (Its gauges go by themselves at the next scrape.) Optional:
   * Prometheus copes with a counter that stops, and a function created again under the name starts from zero.
   */
  forget(functionName: string): void {
    const labels = { function_name: functionName };
    const counters = [
      this.invocations,
      this.errors,
      this.coldStarts,
      this.provisionedInvocations,
      this.asyncEventsReceived,
      this.destinationDeliveryFailures,
      this.deadLetterErrors,
    ];
    for (const metric of counters) metric.remove(labels);
    this.duration.remove(labels);
    this.initDuration.remove(labels);
    this.asyncEventAge.remove(labels);
    for (const reason of DROP_REASONS) this.asyncEventsDropped.remove({ function_name: functionName, reason });
    for (const reason of this.throttleReasons.get(functionName) ?? []) this.throttles.remove({ function_name: functionName, reason });
    this.throttleReasons.delete(functionName);
  }

  /** The metrics in Prometheus' text format (served with `contentType`). */
  async render(): Promise<string> {
    this.scrape = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = undefined;
    }
  }

  private snapshots(): Scrape {
    this.scrape ??= { pool: this.sources.pool(), scheduler: this.sources.scheduler(), mappings: this.sources.mappings?.() ?? [] };
    return this.scrape;
  }
}

/** Functions with an environment or a provisioned-concurrency config in the pool. */
function functionsHeld(pool: PoolSnapshot): Set<string> {
  const names = new Set<string>();
  for (const env of pool.environments) names.add(env.functionName);
  for (const p of pool.provisioned) names.add(p.functionName);
  return names;
}
