// A real Kinesis for a test file: npm `kinesis-local` (etspaceman/kinesis-mock's JavaScript build, the Kinesis
// LocalStack runs), started as a child process from its package folder (it reads server.json from its working
// directory) on free loopback ports, and killed by stop() — and by this process's exit, should a test file die first.
// Its streams belong to account 000000000000 in us-east-1.
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, ListStreamsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export const KINESIS_REGION = 'us-east-1';
export const KINESIS_ACCOUNT = '000000000000';

export interface LocalKinesis {
  /** http://127.0.0.1:PORT: the value for AWS_ENDPOINT_URL_KINESIS. */
  endpoint: string;
  /** A client for the test's own calls (HTTP/1.1: kinesis-mock's plain port speaks no HTTP/2). */
  kinesis: KinesisClient;
  /** Creates a stream of `shards` shards and waits until it is ACTIVE; its ARN. */
  createStream(name: string, shards: number): Promise<string>;
  /** PutRecord: the shard and sequence number the record got. */
  put(streamArn: string, partitionKey: string, data: string): Promise<{ shardId: string; sequenceNumber: string }>;
  stop(): Promise<void>;
}

export async function startLocalKinesis(): Promise<LocalKinesis> {
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const folder = dirname(createRequire(import.meta.url).resolve('kinesis-local/package.json'));
  const child = spawn(process.execPath, ['main.js'], {
    cwd: folder,
    env: { ...process.env, KINESIS_MOCK_PLAIN_PORT: String(plainPort), KINESIS_MOCK_TLS_PORT: String(tlsPort), LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${plainPort}`;
  const kinesis = new KinesisClient({
    endpoint,
    region: KINESIS_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      kinesis.destroy();
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    })());
  try {
    await waitUntilAnswering(kinesis, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    kinesis,
    createStream: async (name, shards) => {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (const until = Date.now() + 20_000; ; ) {
        const { StreamDescriptionSummary: summary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (summary?.StreamStatus === 'ACTIVE') return summary.StreamARN!;
        if (Date.now() > until) throw new Error(`stream ${name} still ${summary?.StreamStatus} after 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    put: async (streamArn, partitionKey, data) => {
      const answer = await kinesis.send(new PutRecordCommand({ StreamARN: streamArn, PartitionKey: partitionKey, Data: Buffer.from(data) }));
      return { shardId: answer.ShardId!, sequenceNumber: answer.SequenceNumber! };
    },
    stop,
  };
}

async function waitUntilAnswering(kinesis: KinesisClient, child: ChildProcess, stderr: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kinesis-local exited with ${child.exitCode}: ${stderr()}`);
    try {
      await kinesis.send(new ListStreamsCommand({}));
      return;
    } catch (error) {
      if (Date.now() > until) throw new Error(`kinesis-local did not answer within 60 s: ${(error as Error).message} ${stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A loopback port free now (the OS's pick, released at once for the child to take). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
