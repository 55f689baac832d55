// A lambkin service on real Docker for a test file: LambdaApiServer over a temp data dir, a DockerInvoker over
// its own EnvironmentPool, and the real @aws-sdk/client-lambda pointed at it (maxAttempts 1: the SDK would
// otherwise retry a 429 three times and tests count them). Every container carries the test labels;
// close() removes what the services and any failing test left, and the data dirs.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerBackend, EnvironmentPool, InMemoryLogSink, type DockerBackendOptions, type EnvironmentPoolOptions } from '../../src/environments/index.ts';
import { ConcurrencyScheduler, type SchedulerOptions } from '../../src/scheduling/index.ts';
import { DockerInvoker } from '../../src/service/docker-invoker.ts';
import { LambdaApiServer, SqliteFunctionStore } from '../../src/service/index.ts';
import type { ServiceMetricsSource } from '../../src/service/server.ts';
import { removeAllContainers, TEST_LABEL } from './containers.ts';

export interface LambdaServiceOptions {
  pool?: EnvironmentPoolOptions;
  scheduler?: SchedulerOptions;
  /** Builds the metrics from the service's pool and scheduler. */
  metrics?: (sources: { pool: EnvironmentPool; scheduler: ConcurrencyScheduler }) => ServiceMetricsSource;
  /** Another service's data dir, to start where it stopped (a restart); a new temp dir by default. */
  dataDir?: string;
}

export type LambdaService = Awaited<ReturnType<DockerLambdaServices['start']>>;

export class DockerLambdaServices {
  /** One backend for every service started here; its containers carry the test labels. */
  readonly backend: DockerBackend;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly dataDirs: string[] = [];

  constructor(backendOptions: Omit<DockerBackendOptions, 'labels'> = {}) {
    this.backend = new DockerBackend({ ...backendOptions, labels: { [TEST_LABEL.split('=')[0]!]: '1', 'lambkin.test.owner': String(process.pid) } });
  }

  async start(options: LambdaServiceOptions = {}) {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'lambkin-service-')));
    this.dataDirs.push(dataDir);
    const logSink = new InMemoryLogSink();
    const pool = new EnvironmentPool(this.backend, options.pool);
    const invoker = new DockerInvoker({ pool, logSink });
    const scheduler = new ConcurrencyScheduler(options.scheduler);
    const metrics = options.metrics?.({ pool, scheduler });
    const store = new SqliteFunctionStore(dataDir);
    const server = new LambdaApiServer({ store, invoker, scheduler, ...(metrics ? { metrics } : {}) });
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await server.close();
        await invoker.close();
        store.close();
      })());
    this.closers.push(close);
    const endpoint = await server.listen();
    const lambda = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    return { lambda, endpoint, pool, scheduler, server, invoker, logSink, dataDir, close };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.map((close) => close()));
    await this.backend.close();
    await removeAllContainers();
    await Promise.all(this.dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
