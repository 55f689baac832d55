// `lambkin serve`: the local Lambda service. The Lambda API (LambdaApiServer) over a function registry in the data
// dir (SqliteFunctionStore), invoking through Docker execution environments (DockerInvoker over an
// EnvironmentPool), with every function's output filed under <dataDir>/logs for `lambkin logs`.
//
// Docker is asked first (DockerBackend.prepare()): without an engine the service could only answer every invoke
// with a ServiceException, so it refuses to start instead (exit 1), saying why. prepare() also reaps the
// containers a dead lambkin left on this machine (killed with -9), before anything new starts.
import { resolve } from 'node:path';
import { DockerBackend } from '../environments/docker-backend.ts';
import { FileLogSink } from '../environments/file-log-sink.ts';
import { EnvironmentPool, DEFAULT_KEEP_ALIVE_MS } from '../environments/pool.ts';
import { DockerInvoker } from '../service/docker-invoker.ts';
import { LambdaApiServer } from '../service/server.ts';
import { SqliteFunctionStore } from '../service/function-store.ts';
import { EXAMPLE_FUNCTIONS, registerImageFunction, RIE_FUNCTION_NAME } from './default-function.ts';
import { DEFAULT_DATA_DIR, integerFlag, parseFlags, runCommand } from './flags.ts';
import { hostLogger, type HostLogger } from './host-logger.ts';

export const SERVE_USAGE = `usage: lambkin serve [--port N] [--host H] [--data-dir DIR] [--image IMG] [--examples] [--keep-alive SECONDS]

  --port N               the Lambda API's port (default 9000; 0 picks a free one, printed when listening)
  --host H               the address to listen on (default 127.0.0.1)
  --data-dir DIR         functions, code and logs (default ./.lambkin)
  --image IMG            register IMG as the function 'function', invoked on the RIE's path
                         POST /2015-03-31/functions/function/invocations
  --examples             register the example images (npm run images) as hello-nodejs and hello-shell
  --keep-alive SECONDS   how long an idle environment stays warm (default ${DEFAULT_KEEP_ALIVE_MS / 1000})`;

export const DEFAULT_PORT = 9000;

interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  image: string | undefined;
  examples: boolean;
  keepAliveMs: number;
}

export function main(args: string[]): void {
  runCommand('serve', SERVE_USAGE, args, (argv) => serve(readOptions(argv)));
}

function readOptions(args: string[]): ServeOptions {
  const { values } = parseFlags(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      image: { type: 'string' },
      examples: { type: 'boolean' },
      'keep-alive': { type: 'string' },
    },
    { min: 0, max: 0 },
  );
  return {
    port: integerFlag('port', values.port, DEFAULT_PORT, 0, 65_535),
    host: (values.host as string | undefined) ?? '127.0.0.1',
    dataDir: resolve((values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR),
    image: values.image as string | undefined,
    examples: values.examples === true,
    // Lambda keeps an idle environment for minutes; a day is more than anyone needs locally.
    keepAliveMs: integerFlag('keep-alive', values['keep-alive'], DEFAULT_KEEP_ALIVE_MS / 1000, 1, 86_400) * 1000,
  };
}

async function serve(options: ServeOptions): Promise<void> {
  const log = hostLogger();
  const backend = new DockerBackend();
  try {
    await backend.prepare();
  } catch (error) {
    log.error({ err: error }, 'cannot start: no Docker engine');
    throw new Error(`cannot start without a Docker engine (${(error as Error).message}); start Docker, or set DOCKER_HOST`);
  }

  const store = new SqliteFunctionStore(options.dataDir);
  const logSink = new FileLogSink(options.dataDir, { onError: onceOnly((error) => log.error({ err: error }, 'cannot write a function log file')) });
  const invoker = new DockerInvoker({ pool: new EnvironmentPool(backend, { keepAliveMs: options.keepAliveMs }), logSink });
  const server = new LambdaApiServer({
    store,
    invoker,
    host: options.host,
    port: options.port,
    onInternalError: (error) => log.error({ err: error }, 'internal error (answered as ServiceException)'),
  });
  const shutdown = shutdownOnSignals(log, async () => {
    await server.close(); // no new requests; in-flight invokes end with their environments below
    await invoker.close(); // each runtime: SIGTERM, SIGKILL after 2 s, container removed
    await backend.close(); // anything else this host owns
    logSink.close();
    store.close();
  });

  try {
    if (options.image) {
      const change = await registerImageFunction(store, options.image);
      log.info({ function: RIE_FUNCTION_NAME, image: options.image, change }, 'image function registered');
    }
    if (options.examples) {
      for (const example of EXAMPLE_FUNCTIONS) {
        const change = await registerImageFunction(store, example.imageUri, example.name);
        log.info({ function: example.name, image: example.imageUri, change }, 'example function registered');
      }
    }
    const url = await server.listen();
    log.info({ url, dataDir: options.dataDir, owner: backend.owner.id }, 'started');
    process.stdout.write(`lambkin serve: listening on ${url} (data in ${options.dataDir})\n`);
  } catch (error) {
    await shutdown('start failure');
    throw new Error(`cannot start: ${(error as Error).message}`);
  }
}

/**
 * SIGINT (Ctrl-C) and SIGTERM stop the service cleanly and exit 0. A second Ctrl-C while stopping exits at once
 * (1): the containers left then are reaped by the next `lambkin serve` on this machine.
 */
function shutdownOnSignals(log: HostLogger, stop: () => Promise<void>): (reason: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      try {
        await stop();
        log.info('stopped');
      } catch (error) {
        log.error({ err: error }, 'stopped with an error');
        process.exitCode = 1;
      }
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A repeated SIGTERM is common (a supervisor and `timeout` both forwarding it) and changes nothing; a second
      // Ctrl-C is a person who will not wait.
      if (signal !== 'SIGINT') return;
      log.warn({ signal }, 'second Ctrl-C while stopping: exiting now');
      process.exit(1);
    }
    void shutdown(signal).then(() => process.exit());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return shutdown;
}

/** A callback that only the first call reaches: a full disk must not log one error per line. */
function onceOnly<T>(callback: (value: T) => void): (value: T) => void {
  let called = false;
  return (value) => {
    if (called) return;
    called = true;
    callback(value);
  };
}
