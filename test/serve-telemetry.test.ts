// lambkin serve gives each environment a telemetry log pipe as AWS's sandbox does (a FIFO the host holds, opened by
// lambkin's entrypoint as fd 3, named in _LAMBDA_TELEMETRY_LOG_FD): each record a runtime writes there is ONE event
// of its log stream, with its level and the runtime's timestamp, a multi-line one included, in the service's log,
// in the Tail of its invoke and in `lambkin logs`. Runtimes that do not use the fd keep logging through stdout.
// Run with a bootstrap that writes AWS's frames itself, AWS's aws-lambda-ric 4.x behind lambkin's entrypoint, our
// runtime, and a shell runtime on lambkin/provided. Real Docker, the real SDK, real `lambkin serve` for `lambkin logs`.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAwsLambdaRic } from '../tools/aws-lambda-ric.ts';
import { lambkinBin, startServe, withNode24, type ServeProcess } from '../tools/serve-process.ts';
import { makeZip } from '../tools/zip.ts';
import type { LogEvent } from '../src/environments/index.ts';
import { buildImage, removeBuiltImages } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { repoRoot } from './support/emulator-process.ts';
import { DockerLambdaServices, type LambdaService } from './support/lambda-service.ts';
import { createActiveFunction, createNodeFunction, invokeJson, ROLE } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const FRAMES_IMAGE = 'lambkin-test/telemetry-frames';
const RIC_IMAGE = 'lambkin-test/telemetry-ric';
const framesBootstrap = readFileSync(join(repoRoot, 'test', 'fixtures', 'telemetry', 'bootstrap'), 'utf8');
const shellFixture = join(repoRoot, 'test', 'fixtures', 'shell-runtime');

// lambkin's Node.js image with its bootstrap replaced, as a custom image would: the entrypoint stays lambkin's.
const FRAMES_DOCKERFILE = `FROM lambkin/nodejs:24
COPY bootstrap /var/runtime/bootstrap
CMD ["index.handler"]
`;

const MULTILINE_HANDLER = `
export const handler = async (event) => {
  console.log('line one\\nline two\\nline three');
  console.error('failed', new TypeError('card declined'));
  return 'logged';
};
`;

// AWS's client as the image's /var/runtime/bootstrap, as AWS's own images run it behind their entrypoint.
const RIC_DOCKERFILE = `FROM lambkin/nodejs:24
COPY ric-node-modules /opt/ric/node_modules
COPY index.mjs /var/task/
COPY bootstrap /var/runtime/bootstrap
CMD ["index.handler"]
`;
const RIC_BOOTSTRAP = '#!/bin/sh\nexec node /opt/ric/node_modules/aws-lambda-ric/index.mjs "$_HANDLER"\n';

/** The lines of a Tail between START and END (both excluded), split at line breaks. */
function tailBody(log: string): string {
  const start = log.indexOf('\n', log.indexOf('START RequestId: ')) + 1;
  return log.slice(start, log.indexOf('END RequestId: '));
}

describe.skipIf(!docked)('lambkin serve: each environment has a telemetry log pipe', () => {
  const services = new DockerLambdaServices();
  let service: LambdaService;
  let lambda: LambdaClient;

  beforeAll(async () => {
    const install = await installAwsLambdaRic();
    await Promise.all([
      buildImage(FRAMES_IMAGE, { Dockerfile: FRAMES_DOCKERFILE, bootstrap: framesBootstrap }),
      buildImage(RIC_IMAGE, {
        Dockerfile: RIC_DOCKERFILE,
        'index.mjs': MULTILINE_HANDLER,
        bootstrap: RIC_BOOTSTRAP,
        'ric-node-modules': { copyFrom: dirname(install.packageDir) },
      }),
      services.backend.prepare(),
    ]);
    service = await services.start();
    lambda = service.lambda;
  }, 600_000);

  afterAll(async () => {
    await services.close();
    await removeBuiltImages();
  });

  /** The function's events in its one log stream, as the service filed them. */
  function events(name: string): LogEvent[] {
    const streams = service.logSink.streams(name);
    expect(streams).toHaveLength(1);
    return service.logSink.events(name, streams[0]);
  }

  it('files a record the runtime framed as one event, at its own time and level, and the Tail shows it whole', async () => {
    await createActiveFunction(lambda, { FunctionName: 'frames', Role: ROLE, PackageType: 'Image', Code: { ImageUri: FRAMES_IMAGE } });
    const text = '2026-11-29T04:00:00.000Z\tabc\tERROR\tfirst line\nsecond line\n\tat third (index.mjs:3:7)\n';
    const json = '{"timestamp":"2026-11-29T04:00:01.000Z","level":"WARN","requestId":"abc","message":"careful"}';
    const answer = await invokeJson(
      lambda,
      'frames',
      {
        stdout: 'a plain stdout line',
        records: [
          { level: 'ERROR', message: text, timestampUs: 1_795_000_000_123_456 },
          { format: 'json', level: 'WARN', message: json, timestampUs: 1_795_000_001_000_000 },
          { message: 'no level\n', timestampUs: 1_795_000_002_000_000 },
        ],
      },
      { tail: true },
    );
    expect(answer.body).toMatchObject({ fd: 3 });

    const filed = events('frames');
    expect(filed).toContainEqual({ timestamp: 1_795_000_000_123, level: 'ERROR', message: text.slice(0, -1) });
    expect(filed).toContainEqual({ timestamp: 1_795_000_001_000, level: 'WARN', message: json });
    expect(filed).toContainEqual({ timestamp: 1_795_000_002_000, message: 'no level' });
    expect(filed.map((event) => event.message)).toContain('a plain stdout line');
    expect(filed.filter((event) => event.message.includes('second line'))).toHaveLength(1);

    const body = tailBody(answer.log);
    expect(body).toContain(`${text}`);
    expect(body).toContain(`${json}\n`);
    expect(body).toContain('a plain stdout line\n');
  });

  it("AWS's aws-lambda-ric behind lambkin's entrypoint logs through the pipe: a multi-line message and an error are one event each", async () => {
    await createActiveFunction(lambda, { FunctionName: 'ric', Role: ROLE, PackageType: 'Image', Code: { ImageUri: RIC_IMAGE } });
    const before = Date.now();
    const answer = await invokeJson(lambda, 'ric', {}, { tail: true });
    expect(answer.FunctionError).toBeUndefined();
    const requestId = /START RequestId: (\S+)/.exec(answer.log)?.[1];

    const multiline = events('ric').filter((event) => event.message.includes('line one'));
    expect(multiline).toEqual([{ timestamp: expect.any(Number), level: 'INFO', message: expect.stringMatching(/\tINFO\tline one\nline two\nline three$/) }]);
    expect(multiline[0]!.timestamp).toBeGreaterThanOrEqual(before - 1_000);
    const error = events('ric').filter((event) => event.message.includes('card declined'));
    expect(error).toEqual([
      { timestamp: expect.any(Number), level: 'ERROR', message: expect.stringMatching(/\tERROR\tfailed TypeError: card declined\n +at /) },
    ]);

    expect(tailBody(answer.log)).toMatch(new RegExp(`\\t${requestId}\\tINFO\\tline one\\nline two\\nline three\\n`));
  });

  it('our runtime logs a multi-line message as one event', async () => {
    await createNodeFunction(lambda, 'ours', makeZip([{ name: 'index.mjs', content: MULTILINE_HANDLER }]));
    const answer = await invokeJson(lambda, 'ours', {}, { tail: true });
    expect(answer.FunctionError).toBeUndefined();
    const multiline = events('ours').filter((event) => event.message.includes('line one'));
    expect(multiline).toEqual([{ timestamp: expect.any(Number), level: 'INFO', message: expect.stringMatching(/\tINFO\tline one\nline two\nline three$/) }]);
    expect(tailBody(answer.log)).toMatch(/\tINFO\tline one\nline two\nline three\n/);
  });

  it('a shell runtime on lambkin/provided, which ignores the fd, still logs through stdout and stderr', async () => {
    const zip = makeZip([
      { name: 'bootstrap', content: await readFile(join(shellFixture, 'bootstrap')), mode: 0o755 },
      { name: 'function.sh', content: await readFile(join(shellFixture, 'function.sh')) },
    ]);
    await createActiveFunction(lambda, { FunctionName: 'shell', Role: ROLE, Runtime: 'provided.al2023', Handler: 'function.handler', Code: { ZipFile: zip } });
    const answer = await invokeJson(lambda, 'shell', { marker: 'shell-1' }, { tail: true });
    expect(answer.body).toMatchObject({ event: { marker: 'shell-1' } });
    // The handler echoes the event on stderr.
    expect(events('shell').map((event) => event.message)).toContain('{"marker":"shell-1"}');
    expect(tailBody(answer.log)).toContain('{"marker":"shell-1"}\n');
  });

  it("removes each environment's pipe folder with the environment", async () => {
    const root = `/var/tmp/lambkin-telemetry-${process.getuid?.() ?? 0}`;
    const ownFolder = (await readdir(root)).find((name) => name.startsWith(`${process.pid}-`));
    expect(ownFolder).toBeDefined();
    // One folder per live environment, and the spares made ahead.
    const before = await readdir(join(root, ownFolder!));
    expect(before.length).toBeGreaterThanOrEqual(4);
    await service.invoker.close();
    await expect.poll(async () => (await readdir(join(root, ownFolder!))).length, { timeout: 15_000 }).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!docked)('lambkin logs', () => {
  let dataDir: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lambkin-serve-telemetry-'));
    await buildImage(FRAMES_IMAGE, { Dockerfile: FRAMES_DOCKERFILE, bootstrap: framesBootstrap });
  }, 600_000);

  afterAll(async () => {
    await serve?.stop();
    await removeBuiltImages();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a multi-line record whole, from a file that holds it as one line', { timeout: 60_000 }, async () => {
    serve = await startServe(dataDir);
    const sdk = new LambdaClient({ endpoint: serve.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      await createActiveFunction(sdk, { FunctionName: 'frames', Role: ROLE, PackageType: 'Image', Code: { ImageUri: FRAMES_IMAGE } });
      // The Tail waits for the output to go quiet, so the record is filed by the time the answer comes.
      await invokeJson(sdk, 'frames', { records: [{ level: 'INFO', message: 'first of two\n  second of two\n' }] }, { tail: true });
    } finally {
      sdk.destroy();
    }
    const logs = await execa(lambkinBin, ['logs', 'frames', '--data-dir', dataDir], { env: withNode24, reject: false });
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^START RequestId: .*\nfirst of two\n {2}second of two\nEND RequestId: /m);
    const [file] = await readdir(join(dataDir, 'logs', 'frames'));
    const lines = (await readFile(join(dataDir, 'logs', 'frames', file!), 'utf8')).split('\n');
    expect(lines).toContain('first of two\r  second of two');
  });
});
