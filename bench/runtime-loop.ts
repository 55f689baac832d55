// The measurements behind `npm run bench`: a runtime process (ours or AWS's aws-lambda-ric) against our
// RuntimeApiServer on loopback, with the same trivial handler. bench/run.mjs loads this file through Node 24's type
// stripping, so it must stay erasable TypeScript (no enums, no parameter properties).
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { RuntimeApiServer } from '../src/runtime-api/index.ts';
import { TelemetryFrameDecoder } from '../src/runtime-api/telemetry-frames.ts';
import { AWS_LAMBDA_RIC_VERSION, awsLambdaRicCommand, installAwsLambdaRic } from '../tools/aws-lambda-ric.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TASK_ROOT = join(REPO_ROOT, 'bench', 'handler');
const HANDLER = 'index.handler';
const INVOKE_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 15_000;

/** A runtime to measure: how to start it. Extra `env` is laid over the Lambda environment below. */
export interface RuntimeUnderTest {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The two runtimes compared: ours (runtime/bootstrap over dist/runtime) and aws-lambda-ric, both on Node 24. */
export async function runtimesUnderTest(): Promise<{ ours: RuntimeUnderTest; ric: RuntimeUnderTest }> {
  const bundle = join(REPO_ROOT, 'dist', 'runtime', 'index.mjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build (npm run bench does it first)`);
  const nodeBinDir = dirname(realpathSync(join(REPO_ROOT, 'node_modules', '.bin', 'node')));
  const ric = awsLambdaRicCommand(await installAwsLambdaRic(), HANDLER);
  return {
    ours: {
      name: 'lambkin runtime',
      command: join(REPO_ROOT, 'runtime', 'bootstrap'),
      args: [],
      // runtime/bootstrap runs `node`: the project's Node 24 must come first on PATH, as it does for the ric.
      env: { _HANDLER: HANDLER, PATH: [nodeBinDir, process.env.PATH ?? ''].join(delimiter) },
    },
    ric: { name: `aws-lambda-ric ${AWS_LAMBDA_RIC_VERSION}`, ...ric },
  };
}

/** A runtime process serving one RuntimeApiServer; stop() kills it and closes the server. */
export interface BenchEnvironment {
  server: RuntimeApiServer;
  /** Process spawn → the runtime's first GET /next reaching the server, ms. */
  startupMs: number;
  /** Log records read from the runtime's telemetry pipe so far: the handler writes one per invoke. */
  telemetryRecords(): number;
  stop(): Promise<void>;
}

export interface EnvironmentOptions {
  /**
   * Invokes the environment takes at once (Lambda Managed Instances): sets AWS_LAMBDA_MAX_CONCURRENCY for the
   * runtime and the server's maxConcurrency. One, the classic Lambda environment, when omitted.
   */
  maxConcurrency?: number;
}

/**
 * Starts `runtime` against a fresh server and resolves once it is ready (its first /next). Like AWS's sandbox (and
 * lambkin's emulator and serve), it gives the runtime a telemetry log pipe as fd 3 and reads the frames off it, so
 * the handler's log line costs each runtime what it costs in production.
 */
export async function startEnvironment(runtime: RuntimeUnderTest, options: EnvironmentOptions = {}): Promise<BenchEnvironment> {
  const maxConcurrency = options.maxConcurrency ?? 1;
  const server = new RuntimeApiServer(maxConcurrency > 1 ? { maxConcurrency } : {});
  const address = await server.listen();
  let stderr = '';
  const started = performance.now();
  const child: ResultPromise = execa(runtime.command, runtime.args, {
    env: {
      ...lambdaEnvironment(address),
      _LAMBDA_TELEMETRY_LOG_FD: '3',
      ...(maxConcurrency > 1 ? { AWS_LAMBDA_MAX_CONCURRENCY: String(maxConcurrency) } : {}),
      ...runtime.env,
    },
    // The handler logs to the telemetry pipe; stdout is ignored (a multi-concurrent runtime logs there, as AWS's
    // does) and stderr kept for the error message if the runtime dies.
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  let records = 0;
  const decoder = new TelemetryFrameDecoder();
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
    records += decoder.push(chunk).length;
  });
  const stop = async () => {
    child.kill('SIGKILL');
    await child;
    await server.close();
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    const init = await Promise.race([
      server.waitForInit(),
      child.then((result) => ({ kind: 'exited' as const, detail: `exit code ${result.exitCode}, signal ${result.signal}` })),
      new Promise<{ kind: 'timed-out' }>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timed-out' }), START_TIMEOUT_MS))),
    ]);
    const startupMs = performance.now() - started;
    if (init.kind !== 'ready') {
      throw new Error(`${runtime.name} did not get ready (${init.kind}: ${JSON.stringify(init)}). Its stderr:\n${stderr}`);
    }
    return { server, startupMs, telemetryRecords: () => records, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** One fresh process's start-up time, ms: started, waited for, stopped. */
export async function measureStartup(runtime: RuntimeUnderTest): Promise<number> {
  const environment = await startEnvironment(runtime);
  await environment.stop();
  return environment.startupMs;
}

/** Runs `count` sequential invokes; used to warm the JIT of both processes before measuring. */
export async function warmUp(environment: BenchEnvironment, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await invokeOnce(environment.server, i);
}

/** Sequential invokes completed per second over a window of `windowMs`. */
export async function measureThroughput(environment: BenchEnvironment, windowMs: number): Promise<number> {
  const started = performance.now();
  const until = started + windowMs;
  let count = 0;
  while (performance.now() < until) await invokeOnce(environment.server, count++);
  return count / ((performance.now() - started) / 1000);
}

/**
 * Invokes completed per second over a window of `windowMs` with `concurrency` invokes outstanding at every moment
 * (each answer is followed at once by the next invoke), as a multi-concurrent environment is driven.
 */
export async function measureConcurrentThroughput(environment: BenchEnvironment, windowMs: number, concurrency: number): Promise<number> {
  const started = performance.now();
  const until = started + windowMs;
  let count = 0;
  const lane = async () => {
    while (performance.now() < until) await invokeOnce(environment.server, count++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return count / ((performance.now() - started) / 1000);
}

async function invokeOnce(server: RuntimeApiServer, n: number): Promise<void> {
  const outcome = await server.invoke({ payload: `{"n":${n}}`, timeoutMs: INVOKE_TIMEOUT_MS });
  if (outcome.kind !== 'success') {
    throw new Error(`bench invoke ${n} failed: ${outcome.kind} ${'error' in outcome ? JSON.stringify(outcome.error) : ''}`);
  }
}

/** The variables Lambda gives every runtime process (reference/runtime-api.md); aws-lambda-ric requires them. */
function lambdaEnvironment(runtimeApi: string): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    LAMBDA_TASK_ROOT: TASK_ROOT,
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/bench',
    AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    TZ: ':UTC',
  };
}
