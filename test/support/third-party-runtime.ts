// Runs a runtime that is not ours (AWS's aws-lambda-ric, a sh + curl bootstrap) as a child process against a fresh
// RuntimeApiServer, with the environment Lambda gives a runtime, and always stops it again. runtime-process.ts does
// the same for our own runtime/bootstrap; this one takes any command, and runs it in its own process group because
// these runtimes leave children behind (a shell's curl and sleep) that must die with it.
import { execa, type ResultPromise } from 'execa';
import { RuntimeApiServer, type InitOutcome, type InvokeOutcome, type InvokeRequest } from '../../src/runtime-api/index.ts';
import { DEFAULT_FUNCTION_ENV } from './runtime-process.ts';

/** How to start a runtime process: the executable, its arguments, and variables to add to its environment. */
export interface RuntimeCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface ThirdPartyRuntimeOptions {
  /** `_HANDLER` */
  handler: string;
  /** LAMBDA_TASK_ROOT, absolute. */
  taskRoot: string;
  /** Extra variables, laid over the defaults. */
  env?: Record<string, string>;
}

export interface ThirdPartyRuntime {
  server: RuntimeApiServer;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Settles with the exit code (undefined when killed by a signal) once the process has exited. */
  exited: Promise<{ code: number | undefined; signal: string | undefined }>;
  waitForInit(): Promise<InitOutcome>;
  /** Invokes through the server; `payload` objects are sent as JSON. */
  invoke(payload: unknown, request?: Partial<InvokeRequest>): Promise<InvokeOutcome>;
  /** Kills the process group (if anything in it still runs) and closes the server. */
  stop(): Promise<void>;
}

const running = new Set<ThirdPartyRuntime>();

/** Stops every runtime still running: call from afterEach, so a failing test leaks no process. */
export async function stopAllThirdPartyRuntimes(): Promise<void> {
  await Promise.all([...running].map((runtime) => runtime.stop()));
}

export async function startThirdPartyRuntime(command: RuntimeCommand, options: ThirdPartyRuntimeOptions): Promise<ThirdPartyRuntime> {
  const server = new RuntimeApiServer();
  const runtimeApi = await server.listen();
  const child: ResultPromise = execa(command.command, command.args, {
    env: {
      PATH: process.env.PATH ?? '',
      ...DEFAULT_FUNCTION_ENV,
      ...command.env,
      AWS_LAMBDA_RUNTIME_API: runtimeApi,
      _HANDLER: options.handler,
      LAMBDA_TASK_ROOT: options.taskRoot,
      ...options.env,
    },
    extendEnv: false,
    cwd: options.taskRoot,
    // Its own process group, so stop() reaches the grandchildren too.
    detached: true,
    stdin: 'ignore',
    all: true,
    buffer: false,
    reject: false,
  });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const exited = child.then((result) => {
    const exit = { code: result.exitCode, signal: result.signal };
    // The server learns of the exit as an environment's owner would tell it.
    server.runtimeExited(exit.signal ? `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal}` : `exit status ${exit.code}`);
    return exit;
  });

  let stopped: Promise<void> | undefined;
  const runtime: ThirdPartyRuntime = {
    server,
    output: () => output,
    exited,
    waitForInit: () => server.waitForInit(),
    invoke: (payload, request = {}) =>
      server.invoke({
        timeoutMs: 10_000,
        ...request,
        payload: request.payload ?? (typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)),
      }),
    stop: () => {
      stopped ??= (async () => {
        running.delete(runtime);
        killGroup(child.pid);
        await exited;
        await server.close();
      })();
      return stopped;
    },
  };
  running.add(runtime);
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
