// What the main thread and the worker threads of a multi-concurrent runtime (multi-concurrency.ts) agree on: the
// data each worker is started with, and the worker's side of it. Values the main thread decides (the exit code of a
// failed init) travel in that data, so that each side's code lives on its side.
//
// The init phase fails once for the whole environment: every worker loads the handler, and a handler that fails
// to load fails in all of them, but /init/error is posted (and "Init Error" logged) only by the first worker to
// fail, which claims it in a flag shared by all (AWS's client lets every worker post its own). That worker exits
// with `initFailedExitCode` once the report is delivered, and the main thread then ends the process, as a
// single-concurrency runtime exits after /init/error: the environment is discarded. The others exit quietly.

/** What each worker is started with (its workerData). */
export interface WorkerData {
  /** One Int32: 0 until a worker claims the init error report. */
  readonly initErrorClaim: SharedArrayBuffer;
  /** The exit code of the worker that reported a failed init (the main thread then ends the process). */
  readonly initFailedExitCode: number;
  /** How many connections to the Runtime API the worker opens before it loads the handler. */
  readonly connections: number;
}

/** In a worker: true for the first worker (of the process) to ask, false for every later one. */
export function claimInitErrorReport(data: WorkerData): boolean {
  return Atomics.compareExchange(new Int32Array(data.initErrorClaim), 0, 0, 1) === 0;
}
