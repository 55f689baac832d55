// Runs a runtime that is not ours (AWS's aws-lambda-ric, a sh + curl bootstrap) as a child process against a fresh
// RuntimeApiServer, with the environment Lambda gives a runtime, and always stops it again. runtime-process.ts does
// the same for our own runtime/bootstrap, and both run on its launchRuntime; this one takes any command, and runs it
// in its own process group because these runtimes leave children behind (a shell's curl and sleep) that must die
// with it.
import type { RuntimeApiServer, RuntimeApiServerOptions } from '../../src/runtime-api/index.ts';
import type { RuntimeCommand } from '../../tools/runtime-command.ts';
import { launchRuntime, runtimeRegistry, type RuntimeProcess } from './runtime-process.ts';

export type { RuntimeCommand } from '../../tools/runtime-command.ts';

export interface ThirdPartyRuntimeOptions {
  /** `_HANDLER` */
  handler: string;
  /** LAMBDA_TASK_ROOT, absolute. */
  taskRoot: string;
  /** Extra variables, laid over the defaults. */
  env?: Record<string, string>;
  /** Options of its RuntimeApiServer (e.g. maxConcurrency). */
  serverOptions?: RuntimeApiServerOptions;
  /** Give it a telemetry log pipe as fd 3 (see RuntimeLaunch.telemetry). */
  telemetry?: boolean;
}

/** A runtime harness (see RuntimeProcess) whose server is always its own. */
export type ThirdPartyRuntime = Pick<RuntimeProcess, 'output' | 'stdout' | 'telemetryRecords' | 'waitUntil' | 'exited' | 'waitForInit' | 'invoke' | 'stop'> & {
  server: RuntimeApiServer;
};

const theirs = runtimeRegistry();

/** Stops every runtime still running: call from afterEach, so a failing test leaks no process. */
export function stopAllThirdPartyRuntimes(): Promise<void> {
  return theirs.stopAll();
}

export async function startThirdPartyRuntime(command: RuntimeCommand, options: ThirdPartyRuntimeOptions): Promise<ThirdPartyRuntime> {
  const runtime = await launchRuntime({
    command: command.command,
    args: command.args,
    path: process.env.PATH ?? '',
    commandEnv: command.env,
    handler: options.handler,
    taskRoot: options.taskRoot,
    env: options.env,
    ...(options.serverOptions ? { serverOptions: options.serverOptions } : {}),
    ...(options.telemetry ? { telemetry: true } : {}),
    processGroup: true,
    running: theirs.running,
  });
  const server = runtime.server;
  // launchRuntime starts a server whenever no Runtime API address is given, as here.
  if (!server) throw new Error('launchRuntime started no RuntimeApiServer');
  return { ...runtime, server };
}
