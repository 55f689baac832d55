// The telemetry log fd (reference/node-runtime.md, "Logging"): given a pipe named in _LAMBDA_TELEMETRY_LOG_FD, as
// AWS's sandbox (and lambkin's environments) give one, the runtime writes each console record to it as one frame
// (type | length | µs time | payload) instead of a line on stdout, and removes the variable. Checked on our runtime
// and on AWS's aws-lambda-ric 4.x, which must write the same records; and what ours does with an fd that is not
// one (stdout, and the invoke still answered).
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TelemetryRecord } from '../src/runtime-api/telemetry-frames.ts';
import { awsLambdaRicCommand, type AwsLambdaRicInstall, installAwsLambdaRic } from '../tools/aws-lambda-ric.ts';
import { handlerFixtures, startRuntime, stopAllRuntimes, successJson } from './support/runtime-process.ts';
import { startThirdPartyRuntime, stopAllThirdPartyRuntimes, type ThirdPartyRuntime } from './support/third-party-runtime.ts';

const TELEMETRY_FIXTURE = join(handlerFixtures, 'telemetry');
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

let ric: AwsLambdaRicInstall;

// The first run on a machine builds AWS's client's native part: a minute or two.
beforeAll(async () => {
  ric = await installAwsLambdaRic();
}, 600_000);

afterEach(async () => {
  await Promise.all([stopAllRuntimes(), stopAllThirdPartyRuntimes()]);
});

/** What the tests need of either runtime's harness. */
type Runtime = Pick<ThirdPartyRuntime, 'stdout' | 'telemetryRecords' | 'waitUntil' | 'waitForInit' | 'invoke' | 'output'>;
type Which = 'ours' | 'aws-lambda-ric';

async function start(which: Which, options: { env?: Record<string, string>; telemetry?: boolean; maxConcurrency?: number } = {}): Promise<Runtime> {
  const { env = {}, telemetry = true, maxConcurrency } = options;
  const serverOptions = maxConcurrency ? { serverOptions: { maxConcurrency } } : {};
  const runtime: Runtime =
    which === 'ours'
      ? await startRuntime({ handler: 'index.handler', taskRoot: TELEMETRY_FIXTURE, env, telemetry, ...serverOptions })
      : await startThirdPartyRuntime(awsLambdaRicCommand(ric, 'index.handler'), {
          handler: 'index.handler',
          taskRoot: TELEMETRY_FIXTURE,
          env,
          telemetry,
          ...serverOptions,
        });
  const init = await runtime.waitForInit();
  if (init.kind !== 'ready') throw new Error(`${which} did not get ready: ${JSON.stringify(init)}\n${runtime.output()}`);
  return runtime;
}

// What the fixture logs per invoke, in order: [level, the message as the text format prints it].
const DECLINED_STACK = 'TypeError: card declined\n    at charge (/var/task/index.js:7:17)';
const INVOKE_RECORDS = [
  ['TRACE', 'at trace'],
  ['DEBUG', 'at debug'],
  ['INFO', 'at info'],
  ['INFO', 'at log'],
  ['WARN', 'at warn'],
  ['ERROR', 'at error'],
  ['FATAL', 'at fatal'],
  ['INFO', 'line one\nline two\nline three'],
  ['INFO', "cart has 3 items { coupon: 'SAVE' }"],
  ['INFO', "{ orderId: 42, status: 'paid' }"],
  ['ERROR', `payment failed: ${DECLINED_STACK}`],
  ['WARN', `${DECLINED_STACK} while charging`],
  ['INFO', 'undefined'],
] as const;

interface Invoked {
  requestId: string;
  /** Epoch ms just before the invoke was sent and just after its outcome arrived. */
  window: { from: number; to: number };
  result: unknown;
  /** The frames of this invoke's records (those naming its request id), once all have arrived. */
  records: TelemetryRecord[];
}

async function invokeAndCollect(runtime: Runtime, count: number = INVOKE_RECORDS.length): Promise<Invoked> {
  const requestId = crypto.randomUUID();
  const from = Date.now();
  const result = successJson(await runtime.invoke({}, { requestId }));
  const to = Date.now();
  const ofInvoke = () => runtime.telemetryRecords().filter((record) => record.message.includes(requestId));
  await runtime.waitUntil(() => ofInvoke().length >= count);
  return { requestId, window: { from, to }, result, records: ofInvoke() };
}

/** The record's time as its frame gives it, epoch ms (the frame has µs; the runtimes fill them from ms). */
const frameMs = (record: TelemetryRecord) => Number(record.timestampUs / 1000n);

describe.each<Which>(['ours', 'aws-lambda-ric'])('%s on a telemetry log fd', (which) => {
  it('writes each text record as one frame: type word with the level, µs time within the invoke, `time\\tid\\tLEVEL\\tmessage\\n` with real newlines', async () => {
    const runtime = await start(which);
    const { requestId, window, result, records } = await invokeAndCollect(runtime);
    expect(result).toEqual({ telemetryFdInEnv: false });

    expect(records.map((r) => [r.format, r.level])).toEqual(INVOKE_RECORDS.map(([level]) => ['text', level]));
    for (const [index, record] of records.entries()) {
      expect(record.timestampUs % 1000n).toBe(0n);
      expect(frameMs(record)).toBeGreaterThanOrEqual(window.from);
      expect(frameMs(record)).toBeLessThanOrEqual(window.to);
      // The payload's time is the frame's, to the millisecond.
      const time = new Date(frameMs(record)).toISOString();
      const [level, message] = INVOKE_RECORDS[index]!;
      expect(record.message).toBe(`${time}\t${requestId}\t${level}\t${message}\n`);
    }
    // The module's own line, before any invoke, names no request: "-".
    const loading = runtime.telemetryRecords().find((r) => r.message.endsWith('\tmodule loading\n'));
    expect(loading?.message).toMatch(new RegExp(`${ISO_TIME.source}\\t-\\tINFO\\tmodule loading\\n$`));
    expect(loading?.level).toBe('INFO');
    expect(runtime.stdout()).toBe('');
  });

  it('writes each JSON record as one frame whose payload is the record alone, without a newline', async () => {
    const runtime = await start(which, { env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } });
    const { requestId, window, result, records } = await invokeAndCollect(runtime);
    expect(result).toEqual({ telemetryFdInEnv: false });

    expect(records.map((r) => [r.format, r.level])).toEqual(INVOKE_RECORDS.map(([level]) => ['json', level]));
    const at = (record: TelemetryRecord) => {
      expect(frameMs(record)).toBeGreaterThanOrEqual(window.from);
      expect(frameMs(record)).toBeLessThanOrEqual(window.to);
      return { timestamp: new Date(frameMs(record)).toISOString(), level: record.level, requestId };
    };
    const stackTrace = DECLINED_STACK.split('\n');
    expect(records.map((record) => record.message)).toEqual([
      ...records.slice(0, 7).map((record, index) => JSON.stringify({ ...at(record), message: INVOKE_RECORDS[index]![1] })),
      JSON.stringify({ ...at(records[7]!), message: 'line one\nline two\nline three' }),
      JSON.stringify({ ...at(records[8]!), message: "cart has 3 items { coupon: 'SAVE' }" }),
      JSON.stringify({ ...at(records[9]!), message: { orderId: 42, status: 'paid' } }),
      // The first error after the message gives the error fields...
      JSON.stringify({
        ...at(records[10]!),
        message: `payment failed: ${DECLINED_STACK}`,
        errorType: 'TypeError',
        errorMessage: 'card declined',
        stackTrace,
      }),
      // ...an error as the message does not.
      JSON.stringify({ ...at(records[11]!), message: `${DECLINED_STACK} while charging` }),
      // console.log(): no message at all.
      JSON.stringify(at(records[12]!)),
    ]);
    expect(runtime.stdout()).toBe('');
  });
});

describe('ours on a telemetry log fd', () => {
  it('frames a record far larger than a pipe buffer whole, its length counted in UTF-8 bytes', async () => {
    const runtime = await start('ours');
    for (const repeat of [30_000, 10]) {
      const requestId = crypto.randomUUID();
      expect(successJson(await runtime.invoke({ repeat }, { requestId }))).toEqual({ telemetryFdInEnv: false });
      const ofInvoke = () => runtime.telemetryRecords().filter((record) => record.message.includes(requestId));
      await runtime.waitUntil(() => ofInvoke().length >= 1);
      const [record] = ofInvoke();
      expect(record!.message).toBe(`${new Date(frameMs(record!)).toISOString()}\t${requestId}\tINFO\t${'é€😀'.repeat(repeat)}\n`);
    }
    expect(runtime.stdout()).toBe('');
  });
});

describe('ours and aws-lambda-ric on a telemetry log fd', () => {
  /** Everything the runtime framed, for one invoke with a fixed request id, its times blanked. */
  async function framesOf(which: Which, env: Record<string, string>, requestId: string) {
    const runtime = await start(which, { env });
    expect(successJson(await runtime.invoke({}, { requestId }))).toEqual({ telemetryFdInEnv: false });
    await runtime.waitUntil(() => runtime.telemetryRecords().filter((r) => r.message.includes(requestId)).length >= INVOKE_RECORDS.length);
    return runtime.telemetryRecords().map((record) => ({
      ...record,
      timestampUs: 'µs',
      message: record.message.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, '<time>'),
    }));
  }

  it.each(['TEXT', 'JSON'])('frame the same records, byte for byte but the times (%s)', async (format) => {
    const requestId = crypto.randomUUID();
    const env = { AWS_LAMBDA_LOG_FORMAT: format };
    const [ours, theirs] = await Promise.all([framesOf('ours', env, requestId), framesOf('aws-lambda-ric', env, requestId)]);
    expect(ours).toHaveLength(INVOKE_RECORDS.length + 1);
    expect(ours).toEqual(theirs);
  });

  it('write JSON lines to stdout with AWS_LAMBDA_MAX_CONCURRENCY, whatever the format, and leave the variable alone', async () => {
    const requestId = crypto.randomUUID();
    const linesOf = async (which: Which) => {
      const runtime = await start(which, { maxConcurrency: 2, env: { AWS_LAMBDA_MAX_CONCURRENCY: '2', AWS_LAMBDA_NODEJS_WORKER_COUNT: '1' } });
      expect(successJson(await runtime.invoke({}, { requestId }))).toEqual({ telemetryFdInEnv: true });
      const lines = () =>
        runtime
          .stdout()
          .split('\n')
          .filter((line) => line.includes(requestId));
      await runtime.waitUntil(() => lines().length >= INVOKE_RECORDS.length);
      expect(runtime.telemetryRecords()).toEqual([]);
      return lines().map((line): Record<string, unknown> => ({ ...(JSON.parse(line) as Record<string, unknown>), timestamp: '<time>' }));
    };
    const [ours, theirs] = await Promise.all([linesOf('ours'), linesOf('aws-lambda-ric')]);
    expect(ours.map((record) => record.level)).toEqual(INVOKE_RECORDS.map(([level]) => level));
    expect(ours[7]).toEqual({ timestamp: '<time>', level: 'INFO', requestId, message: 'line one\nline two\nline three' });
    expect(ours).toEqual(theirs);
  });
});

describe('ours with a _LAMBDA_TELEMETRY_LOG_FD that is not a telemetry fd', () => {
  /** Starts ours with the variable (and no pipe), invokes, and returns the invoke's stdout lines and stderr. */
  async function stdoutWith(value: string) {
    const runtime = await startRuntime({ handler: 'index.handler', taskRoot: TELEMETRY_FIXTURE, env: { _LAMBDA_TELEMETRY_LOG_FD: value } });
    expect((await runtime.waitForInit()).kind).toBe('ready');
    const { requestId, result } = await invokeAndCollect(runtime, 0);
    const lines = () =>
      runtime
        .stdout()
        .split('\n')
        .filter((line) => line.includes(requestId));
    await runtime.waitUntil(() => lines().length >= INVOKE_RECORDS.length);
    return { result, lines: lines(), stdout: runtime.stdout(), stderr: runtime.stderr() };
  }

  it.each(['abc', '0', '-3', '2.5'])('logs to stdout as without one when it is %j (and removes it)', async (value) => {
    const { result, lines, stdout, stderr } = await stdoutWith(value);
    expect(result).toEqual({ telemetryFdInEnv: false });
    expect(lines.map((line) => line.split('\t').slice(2).join('\t'))).toEqual(
      INVOKE_RECORDS.map(([level, message]) => `${level}\t${message.replaceAll('\n', '\r')}`),
    );
    expect(stdout).toMatch(/\t-\tINFO\tmodule loading\n/);
    expect(stderr).toBe('');
  });

  // Node.js itself holds these in every process (libuv's epoll 3, pipes 5 to 8 whose both ends it holds, an eventfd
  // 9, /dev/null 10): the runtime must not write its frames there.
  it.each(['3', '5', '8', '9', '10'])('logs to stdout and says so once on stderr when fd %s is not one it was given', async (value) => {
    const { result, lines, stdout, stderr } = await stdoutWith(value);
    expect(result).toEqual({ telemetryFdInEnv: false });
    expect(lines).toHaveLength(INVOKE_RECORDS.length);
    expect(stdout).toMatch(/\t-\tINFO\tmodule loading\n/);
    expect(stderr.match(new RegExp(`_LAMBDA_TELEMETRY_LOG_FD=${value} is not usable`, 'g'))).toHaveLength(1);
  });

  it('logs to stdout and says so once on stderr when nobody reads the telemetry pipe any more', async () => {
    const runtime = await startRuntime({ handler: 'index.handler', taskRoot: TELEMETRY_FIXTURE, telemetry: true });
    expect((await runtime.waitForInit()).kind).toBe('ready');
    expect(runtime.telemetryRecords()).toHaveLength(1);
    // The reader's end closes: the next write to the fd fails (EPIPE).
    const pipe = runtime.child.stdio[3] as Socket;
    pipe.destroy();
    await new Promise((resolve) => pipe.once('close', resolve));
    const { requestId, result } = await invokeAndCollect(runtime, 0);
    expect(result).toEqual({ telemetryFdInEnv: false });
    const lines = () =>
      runtime
        .stdout()
        .split('\n')
        .filter((line) => line.includes(requestId));
    await runtime.waitUntil(() => lines().length >= INVOKE_RECORDS.length);
    expect(lines()[0]).toMatch(new RegExp(`${ISO_TIME.source}\\t${requestId}\\tTRACE\\tat trace$`));
    expect(runtime.stderr().match(/cannot write logs to the telemetry log fd 3 \(EPIPE\); logging to stdout from now on/g)).toHaveLength(1);
    // And the next invoke is answered too.
    expect(successJson(await runtime.invoke({}))).toEqual({ telemetryFdInEnv: false });
  });
});
