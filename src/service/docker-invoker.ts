// The FunctionInvoker `lambkin serve` runs on: each invoke reserves an execution environment from the pool (a
// Docker container by default), delivers the event through its Runtime API and hands the environment back.
// Around the invoke it writes the platform's lines (START, END, REPORT with measured figures) and keeps the
// invoke's log for X-Amz-Log-Result; every line of an environment also goes to the log sink, under the
// environment's own log stream name (the one its runtime sees as AWS_LAMBDA_LOG_STREAM_NAME).
import { randomUUID } from 'node:crypto';
import { logStreamName } from '../environments/container-spec.ts';
import { DockerBackend } from '../environments/docker-backend.ts';
import type { Environment, EnvironmentSpec } from '../environments/backend.ts';
import { LambdaEnvironmentError } from '../environments/errors.ts';
import type { LogSink } from '../environments/log-sink.ts';
import { EnvironmentPool, type EnvironmentPoolOptions, type PooledEnvironment, type PoolFunction } from '../environments/pool.ts';
import { endLine, reportLine, startLine } from '../runtime-api/platform-log.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import { DEFAULT_IDENTITY, type FunctionRecord, type ServiceIdentity } from './function-record.ts';
import type { PoolSnapshot } from '../environments/pool-snapshot.ts';
import type { ProvisionedStatus } from '../environments/provisioned-concurrency.ts';
import type { FunctionInvoker, InvokeCall, InvokeOptions, InvokeResult } from './invoker.ts';
import { invalidParameter, LambdaError, resourceNotFound, serviceError } from './lambda-error.ts';

const VERSION = '$LATEST';
/** X-Amz-Log-Result carries the last 4 KB: no need to keep more of an invoke's log than that. */
const LOG_TAIL_CHARS = 4_096;
/**
 * The runtime's output travels through the engine's attach stream, its answer through the Runtime API: the last
 * lines can trail the answer. When the caller wants the log tail, END waits until the output has been quiet for
 * OUTPUT_QUIET_MS (at most OUTPUT_WAIT_MS); otherwise nothing waits, and a trailing line reaches the sink after END.
 * On a busy machine (the full test suite in parallel, on a slow day of this project's 2-core machine) a line was
 * seen more than 25 ms behind its answer, so a tail missed the handler's own line: 100 ms of quiet costs a caller
 * who asks for the tail (aws lambda invoke --log-type Tail) 100 ms, and every other caller nothing.
 */
const OUTPUT_QUIET_MS = 100;
const OUTPUT_WAIT_MS = 1_000;

export interface DockerInvokerOptions {
  /** The pool to reserve environments from; by default one over a DockerBackend of its own. */
  pool?: EnvironmentPool;
  /** Keep-alive and lifetime for the default pool. */
  poolOptions?: EnvironmentPoolOptions;
  /** Where every environment's lines are filed (for `lambkin logs`); none by default. */
  logSink?: LogSink;
  /** The region and account the service's ARNs carry (LambdaApiServer's): its functions run there. DEFAULT_IDENTITY by default. */
  identity?: ServiceIdentity;
}

export class DockerInvoker implements FunctionInvoker {
  readonly pool: EnvironmentPool;
  private readonly ownsBackend: DockerBackend | undefined;
  private readonly logSink: LogSink | undefined;
  private readonly identity: ServiceIdentity;

  constructor(options: DockerInvokerOptions = {}) {
    if (options.pool) {
      this.pool = options.pool;
    } else {
      this.ownsBackend = new DockerBackend();
      this.pool = new EnvironmentPool(this.ownsBackend, options.poolOptions);
    }
    this.logSink = options.logSink;
    this.identity = options.identity ?? DEFAULT_IDENTITY;
  }

  async invoke(fn: FunctionRecord, request: InvokeCall, options: InvokeOptions = {}): Promise<InvokeResult> {
    const reservedAt = performance.now();
    const pooled = await this.reserve(fn, options);
    const environment = pooled.environment;
    const streamName = environment.spec.logStreamName ?? '';
    const requestId = randomUUID();
    const log = new InvokeLog((line) => this.logSink?.write(fn.name, streamName, line));
    const output = new OutputCapture(environment);
    let outcome: InvokeOutcome;
    let initDurationMs: number | undefined;
    try {
      const invoking = environment.invoke({
        requestId,
        payload: request.payload,
        invokedFunctionArn: fn.arn,
        ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
        ...(request.traceId !== undefined ? { traceId: request.traceId } : {}),
      });
      // The first invoke waits for the init phase (queued in the Runtime API until the runtime's first /next):
      // START follows the init's own output, and REPORT says how long the init took.
      if (pooled.isColdStart) {
        initDurationMs = (await environment.waitForInit()).initDurationMs;
        // What this cold start cost, container start included: the eviction policy keeps costly ones longer.
        this.pool.coldStartCost(pooled, performance.now() - reservedAt);
      }
      log.platform(startLine(requestId, VERSION));
      outcome = await invoking;
    } catch (error) {
      output.stop();
      this.pool.release(pooled);
      throw error;
    }
    const ending = { pooled, fn, log, output, requestId, initDurationMs };
    const facts = { coldStart: pooled.isColdStart, provisioned: pooled.origin === 'provisioned', ...(initDurationMs !== undefined ? { initDurationMs } : {}) };
    if (outcome.kind === 'streaming') {
      // The caller reads the stream as it arrives; the environment stays busy until the runtime has finished it.
      void outcome.end.then(
        ({ durationMs }) => this.finish({ ...ending, durationMs }, false),
        () => this.finish({ ...ending, durationMs: 0 }, false),
      );
      return { outcome, logTail: log.tail(), ...facts };
    }
    await this.finish({ ...ending, durationMs: outcome.durationMs }, request.logTail);
    return { outcome, logTail: log.tail(), ...facts };
  }

  /**
   * After UpdateFunctionCode, UpdateFunctionConfiguration or DeleteFunction: the function's environments stop
   * (idle ones now, busy ones after their invoke). Without it, a changed function's stale environments are
   * retired at its next invoke, and a deleted one's at their keep-alive.
   */
  retire(functionName: string): void {
    this.pool.retire(functionName);
  }

  provision(fn: FunctionRecord, requested: number): void {
    this.pool.provision(this.poolFunction(fn), requested);
  }

  provisionedStatus(functionName: string): ProvisionedStatus | undefined {
    return this.pool.provisionedStatus(functionName);
  }

  snapshot(): PoolSnapshot {
    return this.pool.snapshot();
  }

  /** Stops every environment (and, when this invoker made its own backend, removes whatever it owns). */
  async close(): Promise<void> {
    await this.pool.close();
    await this.ownsBackend?.close();
  }

  private poolFunction(fn: FunctionRecord): PoolFunction {
    return { functionName: fn.name, revision: fn.revisionId, spec: environmentSpec(fn, this.identity, this.logSink) };
  }

  private async reserve(fn: FunctionRecord, options: InvokeOptions): Promise<PooledEnvironment> {
    try {
      return await this.pool.reserve(this.poolFunction(fn), options);
    } catch (error) {
      throw lambdaErrorOf(error);
    }
  }

  /** After the invoke: the output that trails it, END and REPORT, then the environment goes back to the pool. */
  private async finish(ending: InvokeEnding, waitForOutput: boolean): Promise<void> {
    const { pooled, fn, log, requestId } = ending;
    const lines = waitForOutput ? await ending.output.settle() : ending.output.end();
    for (const line of lines) log.runtime(line);
    const maxMemoryUsedMb = await pooled.environment.maxMemoryUsedMb();
    this.pool.release(pooled);
    log.platform(endLine(requestId));
    log.platform(reportLine({ requestId, durationMs: ending.durationMs, memorySizeMb: fn.memorySize, maxMemoryUsedMb, initDurationMs: ending.initDurationMs }));
  }
}

interface InvokeEnding {
  pooled: PooledEnvironment;
  fn: FunctionRecord;
  log: InvokeLog;
  output: OutputCapture;
  requestId: string;
  durationMs: number;
  initDurationMs: number | undefined;
}

/** The runtime's output lines during one invoke. */
class OutputCapture {
  private readonly lines: string[] = [];
  private lastLineAt = performance.now();
  readonly stop: () => void;

  constructor(environment: Environment) {
    this.stop = environment.onOutput(({ line }) => {
      this.lines.push(line);
      this.lastLineAt = performance.now();
    });
  }

  /** Waits for the output to go quiet (the last lines may trail the answer), then ends the capture. */
  async settle(): Promise<string[]> {
    const now = performance.now();
    const giveUpAt = now + OUTPUT_WAIT_MS;
    // Quiet counts from the answer too: a line may not have arrived at all yet.
    this.lastLineAt = Math.max(this.lastLineAt, now);
    while (performance.now() - this.lastLineAt < OUTPUT_QUIET_MS && performance.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, OUTPUT_QUIET_MS));
    }
    return this.end();
  }

  /** Ends the capture now, with the lines seen so far. */
  end(): string[] {
    this.stop();
    return this.lines;
  }
}

/**
 * One invoke's log as X-Amz-Log-Result shows it: the platform's lines around the runtime's output. Only the tail
 * is kept. Platform lines also go to the sink (the runtime's lines get there through the environment's spec).
 */
class InvokeLog {
  private text = '';
  private readonly toSink: (line: string) => void;

  constructor(toSink: (line: string) => void) {
    this.toSink = toSink;
  }

  platform(line: string): void {
    this.append(line);
    this.toSink(line.replace(/\n$/, ''));
  }

  runtime(line: string): void {
    this.append(`${line}\n`);
  }

  tail(): string {
    return this.text;
  }

  private append(text: string): void {
    this.text += text;
    if (this.text.length > 2 * LOG_TAIL_CHARS) this.text = this.text.slice(-LOG_TAIL_CHARS);
  }
}

/** What an environment of this function runs: its image (or the runtime's base image and its code), its limits. */
export function environmentSpec(fn: FunctionRecord, identity: ServiceIdentity, logSink?: LogSink): EnvironmentSpec {
  const streamName = logStreamName(VERSION);
  const spec: EnvironmentSpec = {
    functionName: fn.name,
    functionVersion: VERSION,
    image: fn.code.kind === 'image' ? fn.code.imageUri : fn.image,
    memorySizeMb: fn.memorySize,
    timeoutSeconds: fn.timeout,
    environment: fn.environment,
    logStreamName: streamName,
    identity,
  };
  // Records stored before EphemeralStorage was kept have none: the backend's default (512 MB) then.
  if (fn.ephemeralStorageMb) spec.ephemeralStorageMb = fn.ephemeralStorageMb;
  if (fn.code.kind === 'zip') {
    spec.codeDirectory = fn.code.taskRoot;
    if (fn.layerDirectory) spec.layerDirectory = fn.layerDirectory;
    if (fn.handler) spec.handler = fn.handler;
    // AWS_EXECUTION_ENV names managed runtimes only; a custom runtime (provided.*) has none.
    if (fn.runtime && !fn.runtime.startsWith('provided')) spec.runtime = fn.runtime;
  } else if (fn.imageConfig) {
    spec.imageConfig = {
      ...(fn.imageConfig.Command ? { command: fn.imageConfig.Command } : {}),
      ...(fn.imageConfig.EntryPoint ? { entryPoint: fn.imageConfig.EntryPoint } : {}),
      ...(fn.imageConfig.WorkingDirectory ? { workingDirectory: fn.imageConfig.WorkingDirectory } : {}),
    };
  }
  if (logSink) spec.onOutput = ({ line }) => logSink.write(fn.name, streamName, line);
  return spec;
}

/** An environment that cannot be started, in the terms the Lambda API answers with. */
function lambdaErrorOf(error: unknown): unknown {
  if (!(error instanceof LambdaEnvironmentError)) return error;
  switch (error.errorType) {
    case 'TooManyRequestsException':
      // The memory budget: as when the account's concurrency is all in use, any invoke that ends frees room.
      return new LambdaError(429, 'TooManyRequestsException', error.message, { Reason: 'ConcurrentInvocationLimitExceeded' }, { 'Retry-After': '1' });
    case 'ResourceNotFoundException':
      return resourceNotFound(error.message);
    case 'InvalidParameterValueException':
      return invalidParameter(error.message);
    default:
      return serviceError(error.message);
  }
}
