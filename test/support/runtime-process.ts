// Runs our Node.js runtime client (runtime/bootstrap → dist/runtime/index.mjs) as a child process against a
// RuntimeApiServer, the way an execution environment runs it, and always stops it again. Tests talk to the
// server's in-process API (invoke, waitForInit) and read what the runtime printed. launchRuntime is the harness
// itself, for any runtime command; third-party-runtime.ts builds on it too.
import { execa, type ResultPromise } from 'execa';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitStatusReason, signalReason } from '../../src/runtime-api/exit-words.ts';
import { RuntimeApiServer, type InitOutcome, type InvokeOutcome, type InvokeRequest, type RuntimeApiServerOptions } from '../../src/runtime-api/index.ts';
import { TelemetryFrameDecoder, type TelemetryRecord } from '../../src/runtime-api/telemetry-frames.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bootstrap = join(repoRoot, 'runtime', 'bootstrap');
export const handlerFixtures = join(repoRoot, 'test', 'fixtures', 'handlers');

export interface RuntimeProcessOptions {
  /** `_HANDLER`, e.g. `index.handler`. */
  handler: string;
  /** LAMBDA_TASK_ROOT: a folder under test/fixtures/handlers, or an absolute path. */
  taskRoot: string;
  /** The Runtime API address; a fresh RuntimeApiServer is started when omitted. */
  runtimeApi?: string;
  /** Extra variables (the function's own, or AWS_LAMBDA_LOG_FORMAT and friends). */
  env?: Record<string, string>;
  /** Options of the RuntimeApiServer started for it (e.g. maxConcurrency). */
  serverOptions?: RuntimeApiServerOptions;
  /** Give the runtime a telemetry log pipe as fd 3, named in _LAMBDA_TELEMETRY_LOG_FD (as AWS's sandbox does). */
  telemetry?: boolean;
}

export interface Exit {
  code: number | undefined;
  signal: string | undefined;
}

export interface RuntimeProcess {
  /** The server the runtime talks to (undefined when `runtimeApi` was given). */
  server: RuntimeApiServer | undefined;
  child: ResultPromise;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** stdout split into lines, without the trailing empty one. */
  stdoutLines(): string[];
  /** The records read from the telemetry pipe so far (empty unless started with `telemetry`). */
  telemetryRecords(): TelemetryRecord[];
  /** Resolves once `pattern` appears on stdout or stderr (bounded by `timeoutMs`). */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once `condition` holds, checked whenever output arrives (bounded by `timeoutMs`). Output travels
   * through a pipe, the outcome through HTTP: an invoke's logs may arrive after its outcome.
   */
  waitUntil(condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** Whether the process is still running. */
  isRunning(): boolean;
  /** Resolves with the init phase's outcome. */
  waitForInit(): Promise<InitOutcome>;
  /** Invokes through the server; `payload` objects are sent as JSON. */
  invoke(payload: unknown, request?: Partial<InvokeRequest>): Promise<InvokeOutcome>;
  /** Kills the process (or its process group) if still running and closes its server. */
  stop(): Promise<void>;
}

/** The runtimes of one kind still running (launchRuntime adds each, stop() removes it), and a stop-all for them. */
export interface RuntimeRegistry {
  running: Set<{ stop(): Promise<void> }>;
  stopAll(): Promise<void>;
}

export function runtimeRegistry(): RuntimeRegistry {
  const running = new Set<{ stop(): Promise<void> }>();
  const stopAll = async () => {
    await Promise.all([...running].map((runtime) => runtime.stop()));
  };
  return { running, stopAll };
}

const ours = runtimeRegistry();

/** Stops every runtime still running and closes their servers: call from afterEach/afterAll. */
export function stopAllRuntimes(): Promise<void> {
  return ours.stopAll();
}

export const DEFAULT_FUNCTION_ENV = {
  AWS_LAMBDA_FUNCTION_NAME: 'test-function',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test-function',
  AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
  AWS_REGION: 'us-east-1',
  TZ: ':UTC',
};

export async function startRuntime(options: RuntimeProcessOptions): Promise<RuntimeProcess> {
  const taskRoot = options.taskRoot.startsWith('/') ? options.taskRoot : join(handlerFixtures, options.taskRoot);
  return launchRuntime({
    command: bootstrap,
    args: [],
    // Node 24 first on PATH, so `node` in runtime/bootstrap is the project's Node.
    path: `${dirname(process.execPath)}:${process.env.PATH}`,
    handler: options.handler,
    taskRoot,
    runtimeApi: options.runtimeApi,
    env: options.env,
    ...(options.serverOptions ? { serverOptions: options.serverOptions } : {}),
    ...(options.telemetry ? { telemetry: true } : {}),
    running: ours.running,
  });
}

/** How launchRuntime starts a runtime process: the harness that startRuntime and third-party-runtime.ts share. */
export interface RuntimeLaunch {
  command: string;
  args: string[];
  /** PATH of the process (nothing else is inherited). */
  path: string;
  /** Variables of the runtime command itself, laid over the defaults and under the Runtime API ones. */
  commandEnv?: Record<string, string>;
  /** `_HANDLER` */
  handler: string;
  /** LAMBDA_TASK_ROOT, absolute; also the working directory. */
  taskRoot: string;
  /** The Runtime API address; a fresh RuntimeApiServer is started when omitted. */
  runtimeApi?: string;
  /** Extra variables, laid over everything else. */
  env?: Record<string, string>;
  /**
   * Runs the process in its own process group, and stop() SIGKILLs the whole group (for runtimes that leave
   * children behind); otherwise stop() sends SIGTERM, then SIGKILL after 2 s.
   */
  processGroup?: boolean;
  /** Options of the RuntimeApiServer started when no `runtimeApi` is given. */
  serverOptions?: RuntimeApiServerOptions;
  /**
   * Give the process a pipe as fd 3 and set _LAMBDA_TELEMETRY_LOG_FD=3, as AWS's sandbox does; the frames it
   * writes there are decoded into telemetryRecords() (and wake waitUntil like output does).
   */
  telemetry?: boolean;
  /** Holds the runtime until it is stopped, for a stop-all. */
  running: Set<{ stop(): Promise<void> }>;
}

export async function launchRuntime(launch: RuntimeLaunch): Promise<RuntimeProcess> {
  let server: RuntimeApiServer | undefined;
  let runtimeApi = launch.runtimeApi;
  if (runtimeApi === undefined) {
    server = new RuntimeApiServer(launch.serverOptions);
    runtimeApi = await server.listen();
  }
  const child = execa(launch.command, launch.args, {
    env: {
      PATH: launch.path,
      ...DEFAULT_FUNCTION_ENV,
      ...launch.commandEnv,
      AWS_LAMBDA_RUNTIME_API: runtimeApi,
      _HANDLER: launch.handler,
      LAMBDA_TASK_ROOT: launch.taskRoot,
      ...(launch.telemetry ? { _LAMBDA_TELEMETRY_LOG_FD: '3' } : {}),
      ...launch.env,
    },
    extendEnv: false,
    cwd: launch.taskRoot,
    // Its own process group, so stop() reaches the grandchildren too.
    detached: launch.processGroup ?? false,
    reject: false,
    buffer: false,
    // With a telemetry pipe, fd 3 is one more stdio entry (execa takes stdio or stdin, not both).
    ...(launch.telemetry ? { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] as const } : { stdin: 'ignore' as const }),
  });

  let out = '';
  let err = '';
  let all = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    out += text;
    all += text;
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    err += text;
    all += text;
    notify();
  });
  const records: TelemetryRecord[] = [];
  if (launch.telemetry) {
    const decoder = new TelemetryFrameDecoder();
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.on('data', (chunk: Buffer) => {
      // A malformed frame is a test failure to see, not a crash of the runner: it shows up as stderr text.
      try {
        records.push(...decoder.push(chunk));
      } catch (error) {
        err += `[telemetry pipe] ${(error as Error).message}\n`;
      }
      notify();
    });
  }

  let stillRunning = true;
  const exited: Promise<Exit> = child.then((result) => {
    stillRunning = false;
    const exit = { code: result.exitCode, signal: result.signal };
    // The server learns of the exit as an environment owner would tell it.
    server?.runtimeExited(exit.signal ? signalReason(exit.signal) : exitStatusReason(exit.code ?? 0));
    return exit;
  });

  const waitUntil = (matches: () => boolean, timeoutMs = 10_000, what = 'a condition') =>
    new Promise<void>((resolve, reject) => {
      if (matches()) return resolve();
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`Timed out waiting for ${what} in runtime output:\nstdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      listeners.add(check);
    });
  const waitForOutput = (pattern: string | RegExp, timeoutMs = 10_000) =>
    waitUntil(() => (typeof pattern === 'string' ? `${out}${err}`.includes(pattern) : pattern.test(`${out}${err}`)), timeoutMs, String(pattern));

  let stopped: Promise<void> | undefined;
  const runtime: RuntimeProcess = {
    server,
    child,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    stdoutLines: () => out.split('\n').filter((line, index, lines) => line !== '' || index < lines.length - 1),
    telemetryRecords: () => [...records],
    waitForOutput,
    waitUntil: (condition, timeoutMs) => waitUntil(condition, timeoutMs),
    exited,
    isRunning: () => stillRunning,
    waitForInit: () => {
      if (!server) throw new Error('This runtime was started against an external Runtime API');
      return server.waitForInit();
    },
    invoke: (payload, request = {}) => {
      if (!server) throw new Error('This runtime was started against an external Runtime API');
      return server.invoke({
        timeoutMs: 10_000,
        ...request,
        payload: request.payload ?? (typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)),
      });
    },
    stop: () => {
      stopped ??= (async () => {
        launch.running.delete(runtime);
        if (launch.processGroup) {
          killGroup(child.pid);
          await exited;
        } else if (stillRunning) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(timer);
        }
        await server?.close();
      })();
      return stopped;
    },
  };
  launch.running.add(runtime);
  return runtime;
}

/**
 * SIGKILL to the whole group, also when its leader has already exited: a group id stays reserved while the group
 * has members, and is reused only after the pid counter wraps once it has none. (execa's subprocess has no
 * exitCode to check first.)
 */
function killGroup(leaderPid: number | undefined): void {
  if (!leaderPid) return;
  try {
    process.kill(-leaderPid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group is gone already.
  }
}

/** The body of a buffered success as parsed JSON; throws with the whole outcome otherwise. */
export function successJson(outcome: InvokeOutcome): unknown {
  if (outcome.kind !== 'success') throw new Error(`Expected a success, got ${describeOutcome(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
}

/** The error of a function error; throws with the whole outcome otherwise. */
export function functionError(outcome: InvokeOutcome): Extract<InvokeOutcome, { kind: 'function-error' }>['error'] {
  if (outcome.kind !== 'function-error') throw new Error(`Expected a function error, got ${describeOutcome(outcome)}`);
  return outcome.error;
}

export function describeOutcome(outcome: InvokeOutcome): string {
  const { kind } = outcome;
  if ('body' in outcome && Buffer.isBuffer(outcome.body)) return `${kind}: ${outcome.body.toString('utf8', 0, 2000)}`;
  if ('error' in outcome) return `${kind}: ${JSON.stringify(outcome.error)}`;
  return kind;
}
