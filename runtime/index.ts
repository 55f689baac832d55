// The Node.js runtime client's entry point, run by runtime/bootstrap inside the execution environment.
// Start-up does the least it can before the first /next, because that moment ends Lambda's init phase:
// format the console, provide `awslambda`, load the handler (awaiting its top-level await), then poll.
import { installAwsLambdaGlobal } from './awslambda-global.ts';
import { readConfig } from './config.ts';
import { loadHandler, type LoadedHandler } from './handler-loader.ts';
import { runInvokeLoop } from './invoke-loop.ts';
import { installConsole } from './logging.ts';
import { finishInit, installProcessHooks, reportFatal } from './process-hooks.ts';
import { RuntimeApiClient } from './runtime-api-client.ts';

function exitWith(message: string): never {
  process.stderr.write(`lambkin runtime: ${message}\n`);
  process.exit(1);
}

const config = readConfig();
installConsole();
installAwsLambdaGlobal();

let api: RuntimeApiClient;
try {
  api = new RuntimeApiClient(config.runtimeApi);
} catch (error) {
  exitWith((error as Error).message);
}
installProcessHooks(api);

let handler: LoadedHandler | undefined;
try {
  handler = await loadHandler(config.handler, config.taskRoot);
} catch (error) {
  // Reported as AWS does (the log line users search for, then /init/error); the environment is then
  // discarded, so the process exits once the report is delivered.
  reportFatal(error, 'Uncaught Exception');
}

if (handler !== undefined && (await finishInit())) {
  try {
    await runInvokeLoop(api, handler, config);
  } catch (error) {
    exitWith((error as Error).message);
  }
}
