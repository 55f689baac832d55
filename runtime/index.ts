// The Node.js runtime client's entry point, run by runtime/bootstrap inside the execution environment.
// Start-up does the least it can before the first /next, because that moment ends Lambda's init phase:
// format the console, provide `awslambda`, load the handler (awaiting its top-level await), then poll.
//
// With AWS_LAMBDA_MAX_CONCURRENCY set (Lambda Managed Instances) this module runs in two roles, as AWS's client
// does: on the main thread it only starts worker threads of this same module (multi-concurrency.ts); in each worker
// it does all of the above, then serves several invokes at once. (multi-concurrency.ts is small and bundled in:
// as a chunk of its own it would cost every start an extra file, esbuild's shared helpers.)
import { installAwsLambdaGlobal } from './awslambda-global.ts';
import { readConfig, type RuntimeConfig } from './config.ts';
import { loadHandler, type LoadedHandler } from './handler-loader.ts';
import { runConcurrentInvokeLoop, runInvokeLoop } from './invoke-loop.ts';
import { installConsole } from './logging.ts';
import { runWorkers } from './multi-concurrency.ts';
import { finishInit, installProcessHooks, reportFatal } from './process-hooks.ts';
import { checkRuntimeApiAddress, RuntimeApiClient } from './runtime-api-client.ts';
import { claimInitErrorReport, type WorkerData } from './worker-protocol.ts';

function exitWith(message: string): never {
  process.stderr.write(`lambkin runtime: ${message}\n`);
  process.exit(1);
}

/** Loads the handler and serves invokes: the whole runtime with one invoke at a time, a worker's part with several. */
async function serve(config: RuntimeConfig, worker: WorkerData | undefined): Promise<void> {
  installConsole();
  installAwsLambdaGlobal();

  let api: RuntimeApiClient;
  try {
    api = new RuntimeApiClient(config.runtimeApi, worker === undefined ? {} : { concurrentConnections: worker.connections });
  } catch (error) {
    exitWith((error as Error).message);
  }
  installProcessHooks(
    api,
    worker === undefined ? {} : { worker: { claimInitErrorReport: () => claimInitErrorReport(worker), initFailedExitCode: worker.initFailedExitCode } },
  );

  let handler: LoadedHandler | undefined;
  try {
    handler = await loadHandler(config.handler, config.taskRoot);
  } catch (error) {
    // Reported as AWS's client 4.x does (the log line users search for, then /init/error); the environment is
    // then discarded, so the process exits once the report is delivered.
    reportFatal(error, 'Init Error');
  }

  if (handler !== undefined && (await finishInit())) {
    try {
      await (worker === undefined ? runInvokeLoop(api, handler, config) : runConcurrentInvokeLoop(api, handler, config));
    } catch (error) {
      exitWith((error as Error).message);
    }
  }
}

const config = readConfig();
if (!config.multiConcurrent) {
  await serve(config, undefined);
} else {
  const { isMainThread, workerData } = process.getBuiltinModule('node:worker_threads');
  if (!isMainThread) {
    await serve(config, workerData as WorkerData);
  } else {
    try {
      checkRuntimeApiAddress(config.runtimeApi);
    } catch (error) {
      exitWith((error as Error).message);
    }
    await runWorkers(new URL(import.meta.url), config);
  }
}
