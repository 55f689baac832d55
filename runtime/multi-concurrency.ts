// The main thread of a multi-concurrent runtime (AWS_LAMBDA_MAX_CONCURRENCY set: Lambda Managed Instances), as
// AWS's client 4.x runs it: it starts worker threads and waits for them; it loads no handler and serves no invoke
// itself (nor formats the console: it logs nothing). Each worker runs runtime/index.ts again: formats its console,
// loads the handler (so the function's init runs once per worker), and serves invokes concurrently
// (invoke-loop.ts, runConcurrentInvokeLoop). The Runtime API decides how many invokes are in flight at once.
//
// How many workers, as AWS computes it: AWS_LAMBDA_NODEJS_WORKER_COUNT, else 8 per CPU the cgroup grants
// (/sys/fs/cgroup/cpu.max: quota / period rounded up; "max" means every core the machine has), and 1 CPU when
// that file cannot be read. Unlike AWS (which starts none and exits), a worker count that is not a positive number
// falls back to the CPU rule.
//
// The process ends when every worker has, as AWS's does: a worker that crashed is not replaced. A worker that
// reported a failed init (worker-protocol.ts) ends the process at once.
import type { RuntimeConfig } from './config.ts';
import type { WorkerData } from './worker-protocol.ts';

const WORKERS_PER_CPU = 8;

// A worker's exit code that says it reported a failed init: not one Node.js uses itself (1, 7, 13, >128...).
const INIT_FAILED_EXIT_CODE = 3;

// Flags a worker thread refuses (ERR_WORKER_INVALID_EXEC_ARGV) or that size a heap per process: not passed on.
const PROCESS_ONLY_FLAGS = ['--expose-gc', '--max-semi-space-size', '--max-old-space-size'];

/** The CPUs the cgroup grants (cpu.max is "<quota|max> <period>"), else the machine's cores or 1. */
export function availableCpus(readCpuMax: () => string = () => process.getBuiltinModule('node:fs').readFileSync('/sys/fs/cgroup/cpu.max', 'utf8')): number {
  let content: string;
  try {
    content = readCpuMax().trim();
  } catch {
    return 1;
  }
  const [quotaText, periodText] = content.split(/\s+/);
  if (quotaText === 'max') return Math.max(1, process.getBuiltinModule('node:os').cpus().length);
  const quota = Number.parseInt(quotaText ?? '', 10);
  const period = Number.parseInt(periodText ?? '', 10);
  return quota > 0 && period > 0 ? Math.ceil(quota / period) : 1;
}

export function workerCount(env: NodeJS.ProcessEnv = process.env, cpus: () => number = availableCpus): number {
  const configured = Number.parseInt(env.AWS_LAMBDA_NODEJS_WORKER_COUNT ?? '', 10);
  return configured > 0 ? configured : WORKERS_PER_CPU * cpus();
}

/**
 * How many Runtime API connections a worker opens before its handler loads: its share of the invokes in flight,
 * plus the /next that waits meanwhile (socket-transport.ts opens more under heavier load).
 */
function connectionsPerWorker(config: RuntimeConfig, workers: number): number {
  const share = config.maxConcurrency > 0 ? Math.ceil(config.maxConcurrency / workers) : 1;
  return share + 1;
}

/** Starts the workers from `entry` (the runtime's own module) and resolves once all have exited. */
export async function runWorkers(entry: URL, config: RuntimeConfig): Promise<void> {
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const count = workerCount();
  const workerData: WorkerData = {
    initErrorClaim: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
    initFailedExitCode: INIT_FAILED_EXIT_CODE,
    connections: connectionsPerWorker(config, count),
  };
  const execArgv = process.execArgv.filter((arg) => !PROCESS_ONLY_FLAGS.some((flag) => arg.startsWith(flag)));
  const exits: Promise<void>[] = [];
  let running = count;
  for (let id = 0; id < count; id++) {
    const worker = new Worker(entry, { workerData, execArgv });
    exits.push(
      new Promise((resolve) => {
        // Only a failure of the runtime's own code gets here: the worker reports its function's crashes itself.
        worker.on('error', (error) => {
          process.stderr.write(`lambkin runtime: worker ${id} failed: ${error.stack ?? String(error)}\n`);
          process.exitCode = 1;
        });
        worker.on('exit', (code) => {
          if (code === INIT_FAILED_EXIT_CODE) process.exit(1);
          running--;
          if (code !== 0) {
            process.exitCode = 1;
            // The worker logged why; this says what it means for the environment (AWS's client says nothing).
            process.stderr.write(`lambkin runtime: worker ${id} exited with code ${code}, ${running} of ${count} still serving\n`);
          }
          resolve();
        });
      }),
    );
  }
  await Promise.all(exits);
}
