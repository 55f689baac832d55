// Asynchronous invokes survive a crash of `lambkin serve`: every Event invoke answered 202 is delivered at least once
// even when the serve is killed with SIGKILL in the middle of delivering them, once it is started again on the same
// data dir; and a serve whose event queue cannot be written refuses to start, naming the file. bin/lambkin serve as
// a child process, the real @aws-sdk/client-lambda, real Docker; "delivered" is what `lambkin logs` shows: the
// START RequestId line the serve writes as it hands an event to the function. Every serve is killed and every
// container it owned (found by its owner pid label) is removed in afterAll, also when a test fails.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionLogFiles } from '../src/environments/file-log-sink.ts';
import { OWNER_HOST_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import { lambkinBin as lambkin, startServe, withNode24, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import { requireDocker } from './support/docker.ts';
import { createActiveFunction, ROLE } from './support/lambda-fixtures.ts';

const EVENTS = 200;
/** Slow enough that the worker (16 at once) is still busy with the events when the serve is killed. */
const HANDLER = `
exports.handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return 'ok';
};
`;

const docker = new Dockerode();
const dataDirs: string[] = [];
const servePids = new Set<number>();
const running = new Set<ServeProcess>();

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-serve-async-'));
  dataDirs.push(dir);
  return dir;
}

async function startTrackedServe(dataDir: string): Promise<ServeProcess> {
  const serve = await startServe(dataDir, { onSpawn: (pid) => servePids.add(pid) });
  running.add(serve);
  return serve;
}

function sdkFor(serve: ServeProcess): LambdaClient {
  return new LambdaClient({ endpoint: serve.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
}

async function containersOf(pid: number): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${OWNER_PID_LABEL}=${pid}`, `${OWNER_HOST_LABEL}=${hostname()}`] } });
  return containers.map((container) => container.Id);
}

async function removeContainersOf(pid: number): Promise<void> {
  for (const id of await containersOf(pid).catch(() => []))
    await docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => {});
}

/** The request ids of the START lines in the function's log files, as many times as each was started. */
async function startedIds(dataDir: string, functionName: string): Promise<string[]> {
  const ids: string[] = [];
  for (const path of functionLogFiles(dataDir, functionName)) {
    for (const match of (await readFile(path, 'utf8')).matchAll(/^START RequestId: (\S+) Version: /gm)) ids.push(match[1]!);
  }
  return ids;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await Promise.all([...running].map((serve) => serve.stop('SIGKILL')));
  for (const pid of servePids) await removeContainersOf(pid);
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const docked = await requireDocker();

describe.skipIf(!docked)('lambkin serve: asynchronous invokes are durable', () => {
  it('delivers every accepted event at least once after a kill -9 in the middle of delivering them', { timeout: 180_000 }, async () => {
    const dataDir = await newDataDir();
    const first = await startTrackedServe(dataDir);
    const lambda = sdkFor(first);
    const accepted: string[] = [];
    try {
      await createActiveFunction(lambda, {
        FunctionName: 'slow',
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        MemorySize: 512,
        Code: { ZipFile: makeZip([{ name: 'index.js', content: HANDLER }]) },
      });
      for (let sent = 0; sent < EVENTS; sent += 20) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            lambda.send(new InvokeCommand({ FunctionName: 'slow', InvocationType: 'Event', Payload: JSON.stringify({ n: sent + i }) })),
          ),
        );
        for (const answer of answers) {
          expect(answer.StatusCode).toBe(202);
          accepted.push(answer.$metadata.requestId!);
        }
      }
    } finally {
      lambda.destroy();
    }
    expect(new Set(accepted).size).toBe(EVENTS);

    // Kill it once the worker has started on them, well before it could have delivered all.
    const until = Date.now() + 60_000;
    while ((await startedIds(dataDir, 'slow')).length < EVENTS / 5) {
      if (Date.now() > until) throw new Error(`fewer than ${EVENTS / 5} events were delivered in 60 s:\n${first.output()}`);
      await sleep(5);
    }
    await first.stop('SIGKILL');
    const beforeKill = new Set(await startedIds(dataDir, 'slow'));
    expect(beforeKill.size).toBeLessThan(EVENTS);
    await removeContainersOf(first.pid);

    const second = await startTrackedServe(dataDir);
    // What a user checks: `lambkin logs` shows a START line for every request id the 202s carried.
    const missing = async () => {
      const logs = await execa(lambkin, ['logs', 'slow', '--data-dir', dataDir], { env: withNode24, reject: false });
      const started = new Set([...logs.stdout.matchAll(/^START RequestId: (\S+) Version: \$LATEST$/gm)].map((match) => match[1]));
      return accepted.filter((id) => !started.has(id));
    };
    const recoverUntil = Date.now() + 90_000;
    let notDelivered = await missing();
    while (notDelivered.length > 0 && Date.now() < recoverUntil) {
      await sleep(250);
      notDelivered = await missing();
    }
    expect(notDelivered).toEqual([]);
    await second.stop();
  });

  it('refuses to start, naming the file, when async-events.db cannot be written', { timeout: 60_000 }, async () => {
    const dataDir = await newDataDir();
    // A directory where the database file should be (permissions would not stop root).
    await mkdir(join(dataDir, 'async-events.db'));
    const child = execa(lambkin, ['serve', '--port', '0', '--data-dir', dataDir], { env: withNode24, reject: false, timeout: 30_000 });
    if (child.pid) servePids.add(child.pid);
    const result = await child;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot open the asynchronous event queue ${join(dataDir, 'async-events.db')}`);
    expect(result.stdout).not.toContain('listening');
  });
});
