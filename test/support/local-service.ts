// A lambkin service without Docker for a test file: LambdaApiServer over a SqliteFunctionStore in a data dir, with
// an injected FunctionInvoker (a ProcessInvoker, or one that must never be reached), and the real
// @aws-sdk/client-lambda pointed at it (maxAttempts 1: the SDK would otherwise retry). lambda-service.ts does the
// Docker-backed version. stop() leaves the data dir, so a service can be started again over it (a restart).
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaApiServer, SqliteFunctionStore, type FunctionInvoker } from '../../src/service/index.ts';

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
  const server = new LambdaApiServer({ store, invoker: options.invoker });
  const endpoint = await server.listen();
  const lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      lambda.destroy();
      await server.close();
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
