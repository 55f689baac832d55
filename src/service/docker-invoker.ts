// The FunctionInvoker `lambkin serve` runs on: each invoke reserves an execution environment from the pool (a
// Docker container, in serve), delivers the event through its Runtime API and hands the environment back.
// The invoke's log is framed by src/runtime-api/invoke-log.ts (START, END, REPORT with measured figures, the tail
// for X-Amz-Log-Result); every line of an environment also goes to the log sink, under the environment's own log
// stream name (the one its runtime sees as AWS_LAMBDA_LOG_STREAM_NAME).
import Dockerode from 'dockerode';
import { engineMessage, engineStatus } from '../docker/errors.ts';
import type { EnvironmentSpec } from '../environments/backend.ts';
import { ImageFacts, resolvedImage, type ImageIdentity, type ImageInspector, type ResolvedImage } from '../environments/image-facts.ts';
import type { LogSink } from '../environments/log-sink.ts';
import { environmentKey } from '../invocation/environment-key.ts';
import { LATEST } from '../invocation/resolve-function.ts';
import { invokeTraceHeader } from '../environments/trace-header.ts';
import type { EnvironmentPool, PooledEnvironment, PoolFunction } from '../environments/pool.ts';
import { InvokeLog } from '../runtime-api/invoke-log.ts';
import type { InvokeOutcome } from '../runtime-api/types.ts';
import { DEFAULT_IDENTITY, environmentRevision, type FunctionRecord, type ServiceIdentity } from './function-record.ts';
import type { PoolSnapshot } from '../environments/pool-snapshot.ts';
import type { ProvisionedStatus } from '../environments/provisioned-concurrency.ts';
import type { FunctionInvoker, InvokeCall, InvokeOptions, InvokeResult } from './invoker.ts';
import { lambdaErrorOf } from '../invocation/invoke-errors.ts';
import { invalidParameter, serviceError } from './lambda-error.ts';

export interface DockerInvokerOptions {
  /** The pool to reserve environments from. */
  pool: EnvironmentPool;
  /** Where every environment's lines are filed (for `lambkin logs`); none by default. */
  logSink?: LogSink;
  /** The region and account the service's ARNs carry (LambdaApiServer's): its functions run there. DEFAULT_IDENTITY by default. */
  identity?: ServiceIdentity;
  /**
   * Where image functions' ImageUris are looked up: the engine the pool's environments run on. By default dockerode's
   * own defaults (DOCKER_HOST, else /var/run/docker.sock), as DockerBackend's.
   */
  images?: ImageInspector;
}

export class DockerInvoker implements FunctionInvoker {
  readonly pool: EnvironmentPool;
  private readonly logSink: LogSink | undefined;
  private readonly identity: ServiceIdentity;
  private readonly images: ImageInspector;

  constructor(options: DockerInvokerOptions) {
    this.pool = options.pool;
    this.logSink = options.logSink;
    this.identity = options.identity ?? DEFAULT_IDENTITY;
    this.images = options.images ?? new ImageFacts(new Dockerode());
  }

  async invoke(fn: FunctionRecord, request: InvokeCall, options: InvokeOptions = {}): Promise<InvokeResult> {
    const pooled = await this.reserve(fn, options);
    const environment = pooled.environment;
    const streamName = environment.spec.logStreamName ?? '';
    // Platform lines go to the sink here; the runtime's get there through the environment's spec.
    const log = new InvokeLog({
      requestId: request.requestId,
      version: fn.version ?? LATEST,
      memorySizeMb: fn.memorySize,
      write: (line) => this.logSink?.write(fn.name, streamName, line.replace(/\n$/, '')),
    });
    const stopOutput = environment.onOutput(({ line }) => log.runtimeLine(line));
    let outcome: InvokeOutcome;
    let initDurationMs: number | undefined;
    try {
      const invoking = environment.invoke({
        requestId: log.requestId,
        payload: request.payload,
        invokedFunctionArn: request.invokedFunctionArn ?? fn.arn,
        ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
        // Every invoke has a trace header on Lambda, sampled or not: the caller's, else one made here.
        traceId: invokeTraceHeader(request.traceId),
      });
      // The first invoke waits for the init phase (queued in the Runtime API until the runtime's first /next):
      // START follows the init's own output, and REPORT says how long the init took.
      if (pooled.isColdStart) initDurationMs = (await environment.waitForInit()).initDurationMs;
      log.start();
      outcome = await invoking;
    } catch (error) {
      stopOutput();
      this.pool.release(pooled);
      throw error;
    }
    // Known now: once the environment is back in the pool another invoke may take it.
    const facts = { coldStart: pooled.isColdStart, provisioned: pooled.origin === 'provisioned', ...(initDurationMs !== undefined ? { initDurationMs } : {}) };
    // A streamed answer's caller reads the stream as it arrives; the environment stays busy until the runtime has
    // finished it, and END and REPORT follow then.
    await log.finish(
      outcome,
      async () => {
        stopOutput();
        const maxMemoryUsedMb = await environment.maxMemoryUsedMb();
        this.pool.release(pooled);
        return { maxMemoryUsedMb, initDurationMs };
      },
      { waitForOutput: request.logTail },
    );
    return { outcome, logTail: log.tail(), ...(outcome.kind === 'streaming' ? { finalLogTail: log.finalTail() } : {}), ...facts };
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

  /**
   * The image `imageUri` names on the engine, resolved to its digest. lambkin runs the images the engine has (it does
   * not pull), so an image it lacks is refused as Lambda refuses one missing from its repository, and a name the
   * engine cannot read as Lambda refuses an invalid one.
   */
  async resolveImage(imageUri: string): Promise<ResolvedImage> {
    let identity: ImageIdentity | undefined;
    try {
      identity = await this.images.inspectImage(imageUri);
    } catch (error) {
      if (engineStatus(error) === 400) throw invalidParameter(`Source image ${imageUri} is not valid. Provide a valid source image.`);
      throw serviceError(`lambkin could not inspect image ${imageUri}: ${engineMessage(error)}`);
    }
    if (!identity) throw invalidParameter(`Source image ${imageUri} does not exist. Provide a valid source image.`);
    return resolvedImage(imageUri, identity);
  }

  /** Stops every environment (the backend, and whatever else it owns, is its creator's to close). */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Environments are pooled per version (environment-key.ts): a version's run its own frozen record. */
  private poolFunction(fn: FunctionRecord): PoolFunction {
    return { functionName: environmentKey(fn), revision: environmentRevision(fn), spec: environmentSpec(fn, this.identity, this.logSink) };
  }

  private async reserve(fn: FunctionRecord, options: InvokeOptions): Promise<PooledEnvironment> {
    try {
      return await this.pool.reserve(this.poolFunction(fn), options);
    } catch (error) {
      throw lambdaErrorOf(error, fn.name);
    }
  }
}

/** What an environment of this function runs: its image (or the runtime's base image and its code), its limits. */
export function environmentSpec(fn: FunctionRecord, identity: ServiceIdentity, logSink?: LogSink): EnvironmentSpec {
  const version = fn.version ?? LATEST;
  const spec: EnvironmentSpec = {
    functionName: fn.name,
    revision: environmentRevision(fn),
    functionVersion: version,
    image: fn.code.kind === 'image' ? fn.code.imageUri : fn.image,
    memorySizeMb: fn.memorySize,
    timeoutSeconds: fn.timeout,
    environment: fn.environment,
    identity,
    role: fn.role,
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
  if (logSink) {
    // A telemetry record is filed as the one event it is, at the runtime's time and with its level.
    spec.onOutput = ({ line, timestampMs, level }, streamName) =>
      logSink.write(fn.name, streamName, line, timestampMs === undefined ? undefined : { timestampMs, ...(level ? { level } : {}) });
  }
  return spec;
}
