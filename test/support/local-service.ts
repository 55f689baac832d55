// A lambkin service without Docker for a test file: LambdaApiServer over a SqliteFunctionStore in a data dir, with
// an injected FunctionInvoker (a ProcessInvoker, or one that must never be reached), and the real
// @aws-sdk/client-lambda pointed at it (maxAttempts 1: the SDK would otherwise retry). lambda-service.ts does the
// Docker-backed version. stop() leaves the data dir, so a service can be started again over it (a restart).
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryObserver } from '../../src/delivery/async-delivery.ts';
import { DestinationResults } from '../../src/delivery/destination-results.ts';
import { Destinations } from '../../src/delivery/destinations.ts';
import { SqliteEventQueue } from '../../src/delivery/event-queue.ts';
import { LambdaApiServer, SqliteFunctionStore, type FunctionInvoker } from '../../src/service/index.ts';
import type { ServiceMetricsSource } from '../../src/service/server.ts';

/** An invoker for tests whose requests never reach a function: a call to it fails the test, naming `what`. */
export function noInvoker(what: string): FunctionInvoker {
  return {
    invoke: async () => {
      throw new Error(`no invoker in ${what}`);
    },
  };
}

export interface LocalServiceOptions {
  dataDir: string;
  invoker: FunctionInvoker;
  /** Options for the store (a lowered unzipped-size limit). */
  store?: ConstructorParameters<typeof SqliteFunctionStore>[1];
  /**
   * Asynchronous invokes, as serve wires them: the durable queue in the data dir, destinations and dead-letter
   * queues through the SDK's standard endpoint settings, and the worker's clock scaled by `delayScale`.
   */
  async?: { delayScale?: number; observer?: DeliveryObserver };
  /** Counts invokes and serves GET /metrics (a ServiceMetrics). */
  metrics?: ServiceMetricsSource;
}

export interface LocalService {
  store: SqliteFunctionStore;
  server: LambdaApiServer;
  lambda: LambdaClient;
  endpoint: string;
  /** Destroys the client, closes the server and the store; the data dir and the invoker stay. */
  stop(): Promise<void>;
}

/** A fresh temp data dir; remove it with removeDataDir. */
export function makeDataDir(prefix = 'lambkin-service-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeDataDir(dataDir: string): Promise<void> {
  return rm(dataDir, { recursive: true, force: true });
}

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const store = new SqliteFunctionStore(options.dataDir, options.store);
  const queue = options.async ? new SqliteEventQueue(options.dataDir) : undefined;
  const destinations = options.async ? new Destinations({ invokeAsync: (arn, payload) => server.invokeAsync(arn, payload) }) : undefined;
  const server = new LambdaApiServer({
    store,
    invoker: options.invoker,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(queue && destinations
      ? {
          asyncEvents: {
            queue,
            results: new DestinationResults(destinations),
            ...(options.async?.observer ? { observer: options.async.observer } : {}),
            ...(options.async?.delayScale !== undefined ? { delayScale: options.async.delayScale } : {}),
          },
        }
      : {}),
  });
  const endpoint = await server.listen();
  const lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      lambda.destroy();
      await server.close();
      destinations?.close();
      queue?.close();
      store.close();
    })());
  return { store, server, lambda, endpoint, stop };
}

/** The SDK's error for a call that must fail. */
export async function failure(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('Expected the call to fail');
}
