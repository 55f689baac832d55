// Process-wide events the runtime must turn into invoke outcomes (reference/node-runtime.md, "Invocation
// semantics"): an uncaught exception or unhandled rejection fails the invoke in flight (or the init phase)
// and then ends the process, so that the environment is replaced rather than reused in an unknown state;
// 'beforeExit' tells an invoke waiting for the event loop to empty that it has.
import { RuntimeError, toErrorBody } from './errors.ts';
import { inFlight, markCrash } from './in-flight.ts';
import { logError } from './logging.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

// How long delivering the crash may take before the process leaves anyway.
const FATAL_DELIVERY_TIMEOUT_MS = 2_000;

let api: RuntimeApiClient;
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
  logError(title, error);
  markCrash();
  const delivered = initialising ? api.postInitError(toErrorBody(error)) : (inFlight()?.abort(error) ?? Promise.resolve());
  setTimeout(() => process.exit(1), FATAL_DELIVERY_TIMEOUT_MS);
  delivered.then(() => process.exit(1));
}

export function installProcessHooks(client: RuntimeApiClient): void {
  api = client;
  process.on('beforeExit', () => inFlight()?.onEventLoopEmpty());
  process.on('uncaughtException', (error) => reportFatal(error, 'Uncaught Exception'));
  process.on('unhandledRejection', (reason) => reportFatal(unhandledRejectionError(reason), 'Unhandled Promise Rejection'));
}
