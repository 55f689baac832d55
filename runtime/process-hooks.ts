// Process-wide events the runtime must turn into invoke outcomes (reference/node-runtime.md, "Invocation
// semantics"): an uncaught exception or unhandled rejection fails the invoke in flight (or the init phase)
// and then ends the process, so that the environment is replaced rather than reused in an unknown state;
// 'beforeExit' tells an invoke waiting for the event loop to empty that it has.
//
// In a worker thread of a multi-concurrent runtime (multi-concurrency.ts) "the process" is the worker: a crash
// fails every invoke the worker has in flight (in-flight.ts) and ends that worker only (process.exit in a worker
// ends the thread), as an uncaught exception ends a worker on AWS; the other workers keep serving. A failed init is
// reported once for all workers (worker-protocol.ts), and the worker that reports it exits with the code that
// tells the main thread to end the process.
import { RuntimeError, toErrorBody } from './errors.ts';
import { inFlight, markCrash } from './in-flight.ts';
import { logError } from './logging.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

// How long delivering the crash may take before the process leaves anyway.
const FATAL_DELIVERY_TIMEOUT_MS = 2_000;

export interface ProcessHookOptions {
  /** Set in a worker thread of a multi-concurrent runtime. */
  worker?: {
    /** Whether this worker reports a failed init (false: another one already does; worker-protocol.ts). */
    claimInitErrorReport(): boolean;
    /** The exit code of the worker that reported it. */
    initFailedExitCode: number;
  };
}

let api: RuntimeApiClient;
let options: ProcessHookOptions = {};
let initialising = true;
let exiting = false;

/**
 * Ends the init phase unless a crash already ended the process's useful life: returns false then (the crash
 * report is on its way and the process exits after it). Before deciding, it lets Node.js report rejections
 * left behind by the handler module: those are only seen after the current turn of the event loop, and belong
 * to init.
 */
export async function finishInit(): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  if (exiting) return false;
  initialising = false;
  return true;
}

function frames(stack: unknown): string {
  if (typeof stack !== 'string') return '';
  const lines = stack.split('\n');
  const first = lines.findIndex((line) => line.startsWith('    at '));
  return first === -1 ? '' : `\n${lines.slice(first).join('\n')}`;
}

/** AWS's shape: type Runtime.UnhandledPromiseRejection, message String(reason); here with the reason's frames. */
export function unhandledRejectionError(reason: unknown): RuntimeError {
  let message: string;
  try {
    message = String(reason);
  } catch {
    message = typeof reason;
  }
  const error = new RuntimeError('Runtime.UnhandledPromiseRejection', message, { cause: reason });
  error.stack = `Runtime.UnhandledPromiseRejection: ${message}${frames((reason as { stack?: unknown } | null)?.stack)}`;
  return error;
}

/**
 * Reports a failure the process cannot continue from (to /init/error during init, else as the error of the
 * invoke in flight), logs it under `title` as AWS does, then exits once it is delivered. Only the first counts.
 */
export function reportFatal(error: unknown, title: string): void {
  if (exiting) return;
  exiting = true;
  const worker = options.worker;
  let exitCode = 1;
  if (initialising && worker !== undefined) {
    // Another worker reports the init failure (and ends the process once it is delivered): this one just leaves.
    if (!worker.claimInitErrorReport()) process.exit(1);
    exitCode = worker.initFailedExitCode;
  }
  logError(title, error);
  markCrash();
  // A crashed worker takes no more events; the other workers' /next stay parked for them.
  if (!initialising && worker !== undefined) api.stopPolling();
  const delivered = initialising ? api.postInitError(toErrorBody(error)) : abortAll(error);
  setTimeout(() => process.exit(exitCode), FATAL_DELIVERY_TIMEOUT_MS);
  delivered.then(() => process.exit(exitCode));
}

function abortAll(error: unknown): Promise<unknown> {
  const invokes = inFlight();
  if (invokes.length === 0) return Promise.resolve();
  if (invokes.length === 1) return invokes[0]!.abort(error);
  return Promise.all(invokes.map((invoke) => invoke.abort(error)));
}

export function installProcessHooks(client: RuntimeApiClient, hookOptions: ProcessHookOptions = {}): void {
  api = client;
  options = hookOptions;
  process.on('beforeExit', () => {
    for (const invoke of inFlight()) invoke.onEventLoopEmpty();
  });
  process.on('uncaughtException', (error) => reportFatal(error, 'Uncaught Exception'));
  process.on('unhandledRejection', (reason) => reportFatal(unhandledRejectionError(reason), 'Unhandled Promise Rejection'));
}
