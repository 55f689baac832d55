// The function's static settings, read once from the environment Lambda gives the runtime process
// (reference/runtime-api.md, "Environment the runtime process gets"). Read at start-up so the per-invoke path
// never touches process.env except for _X_AMZN_TRACE_ID, which must change on every invoke.

export interface RuntimeConfig {
  /** `host:port` of the Runtime API, without a scheme. */
  readonly runtimeApi: string;
  /** `_HANDLER`, e.g. `index.handler` or `src/app.nested.fn`. */
  readonly handler: string;
  /** Where handler paths are resolved from: LAMBDA_TASK_ROOT, else the working directory. */
  readonly taskRoot: string;
  readonly functionName: string;
  readonly functionVersion: string;
  /** A string, as on AWS: the context exposes it unparsed. */
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /**
   * AWS_LAMBDA_MAX_CONCURRENCY is set (Lambda Managed Instances): worker threads, each serving several invokes at
   * once (multi-concurrency.ts). Its value is the platform's cap on invokes in flight, which the Runtime API
   * enforces; the runtime only uses it to size its connections (NaN when not a number).
   */
  readonly multiConcurrent: boolean;
  readonly maxConcurrency: number;
}

/** Whether several invokes run at once, decided as AWS's client decides it: the variable is set at all. */
export function isMultiConcurrent(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return {
    runtimeApi: env.AWS_LAMBDA_RUNTIME_API ?? '',
    handler: env._HANDLER ?? '',
    taskRoot: env.LAMBDA_TASK_ROOT || process.cwd(),
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    multiConcurrent: isMultiConcurrent(env),
    maxConcurrency: Number.parseInt(env.AWS_LAMBDA_MAX_CONCURRENCY ?? '1', 10),
  };
}
