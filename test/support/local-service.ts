// A lambkin service without Docker for a test file: LambdaApiServer over a SqliteFunctionStore in a data dir, with
// an injected FunctionInvoker (a ProcessInvoker, or one that must never be reached), and the real
// @aws-sdk/client-lambda pointed at it (maxAttempts 1: the SDK would otherwise retry). lambda-service.ts does the
// Docker-backed version. stop() leaves the data dir, so a service can be started again over it (a restart).
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { DeliveryObserver } from '../../src/delivery/async-delivery.ts';
import type { AuthKeys } from '../../src/iam/auth-keys.ts';
import { DestinationResults } from '../../src/delivery/destination-results.ts';
import { Destinations } from '../../src/delivery/destinations.ts';
import { SqliteEventQueue } from '../../src/delivery/event-queue.ts';
import { LambdaApiServer, SqliteFunctionStore, type FunctionInvoker } from '../../src/service/index.ts';
import type { EventSourceMappingsOptions, ServiceMetricsSource } from '../../src/service/server.ts';

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
  /** Event source mappings' pollers (a fake poller factory) and how long their transitions take. */
  mappings?: EventSourceMappingsOptions;
  /** `--auth sigv4`: the keys the Lambda API accepts (the client below signs with `x`/`x` unless given one). */
  auth?: AuthKeys;
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
    ...(options.mappings ? { eventSourceMappings: options.mappings } : {}),
    ...(options.auth ? { apiAuth: options.auth } : {}),
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
      await queue?.close();
      store.close();
    })());
  return { store, server, lambda, endpoint, stop };
}

/** A test's service from useLocalService: read its members inside a test or hook (each test has its own). */
export interface LocalServiceFixture {
  readonly service: LocalService;
  readonly lambda: LambdaClient;
  readonly dataDir: string;
  /** Stops the service and starts it again over the same data dir, with options() asked again. */
  restart(): Promise<void>;
}

/**
 * A fresh data dir and service for each test of the file, stopped and removed after it. `options` is asked at every
 * start, so a file can hand each start its own invoker (one that records what that start asked of it), or the same
 * one. An invoker that needs closing (a ProcessInvoker) is the file's to close, in an afterEach registered before
 * this call: vitest runs after-hooks in reverse, so it closes once the service has stopped.
 */
export function useLocalService(prefix: string, options: () => Omit<LocalServiceOptions, 'dataDir'>): LocalServiceFixture {
  let dataDir: string | undefined;
  let service: LocalService | undefined;
  const current = () => {
    if (!service || !dataDir) throw new Error('useLocalService: no service outside a test');
    return { service, dataDir };
  };
  beforeEach(async () => {
    dataDir = await makeDataDir(prefix);
    service = await startLocalService({ ...options(), dataDir });
  });
  afterEach(async () => {
    await service?.stop();
    if (dataDir) await removeDataDir(dataDir);
    service = undefined;
    dataDir = undefined;
  });
  return {
    get service() {
      return current().service;
    },
    get lambda() {
      return current().service.lambda;
    },
    get dataDir() {
      return current().dataDir;
    },
    async restart() {
      const stopping = current();
      await stopping.service.stop();
      service = await startLocalService({ ...options(), dataDir: stopping.dataDir });
    },
  };
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
