// The emulator gives its runtime a telemetry log pipe as AWS's sandbox does (fd 3, _LAMBDA_TELEMETRY_LOG_FD=3) and
// writes each record the runtime frames there to the container's log as one line, between the invoke's START and
// END: a multi-line message stays one line (its newlines as carriage returns, as the runtime itself writes them on
// stdout). Run with a hand-made runtime that writes frames itself, with AWS's aws-lambda-ric 4.x and with ours.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsLambdaRicCommand, installAwsLambdaRic, type AwsLambdaRicInstall } from '../tools/aws-lambda-ric.ts';
import { nodeRuntimeBootstrap, repoRoot, startEmulator, stopAllEmulators, type RunningEmulator } from './support/emulator-process.ts';
import { invokeRie } from './support/rie-invoke.ts';

const framesFixture = join(repoRoot, 'test', 'fixtures', 'telemetry');
const loggingFixture = join(repoRoot, 'test', 'fixtures', 'handlers', 'logging');

afterEach(stopAllEmulators);

/** The lines of the container's log between this invoke's START and END (both excluded). */
function invokeLines(emulator: RunningEmulator, requestId: string): string[] {
  const lines = emulator.output().split('\n');
  const start = lines.findIndex((line) => line.startsWith(`START RequestId: ${requestId} `));
  const end = lines.indexOf(`END RequestId: ${requestId}`);
  if (start === -1 || end === -1) throw new Error(`No START and END for ${requestId} in:\n${emulator.output()}`);
  return lines.slice(start + 1, end);
}

async function invoke(emulator: RunningEmulator, event: unknown) {
  const answer = await invokeRie(emulator.invokeUrl, JSON.stringify(event));
  expect(answer.status, answer.text).toBe(200);
  const requestId = String(answer.headers['x-amzn-requestid']);
  // END follows the answer: wait for it before reading the lines.
  await emulator.waitForOutput(`END RequestId: ${requestId}`);
  return { answer, requestId };
}

describe('a runtime that writes the frames itself', () => {
  const framingRuntime = () => startEmulator({ args: [join(framesFixture, 'bootstrap')], env: { LAMBDA_TASK_ROOT: framesFixture }, cwd: framesFixture });

  it('gets fd 3, and each record is one line of the log in the invoke, a multi-line one included, beside its stdout', async () => {
    const emulator = await framingRuntime();
    const text = '2026-11-29T04:00:00.000Z\tabc\tINFO\tfirst line\nsecond line\n\tindented third\n';
    const json = '{"timestamp":"2026-11-29T04:00:00.000Z","level":"WARN","requestId":"abc","message":"careful"}';
    const { answer, requestId } = await invoke(emulator, {
      stdout: 'a plain stdout line',
      records: [
        { level: 'INFO', message: text },
        { format: 'json', level: 'WARN', message: json },
      ],
    });
    expect(answer.json()).toEqual({ fd: 3, requestId });
    const lines = invokeLines(emulator, requestId);
    expect(lines).toContain('2026-11-29T04:00:00.000Z\tabc\tINFO\tfirst line\rsecond line\r\tindented third');
    expect(lines).toContain(json);
    expect(lines).toContain('a plain stdout line');
    expect(lines).toHaveLength(3);
  });

  it('says once that a pipe is not frames, drops the rest, and keeps draining it so the runtime never blocks', async () => {
    const emulator = await framingRuntime();
    await invoke(emulator, { garbage: 'this is not a frame header at all' });
    await emulator.waitForOutput("the runtime's telemetry log pipe is not log frames");
    // 256 KB: four times a pipe's buffer. Were the pipe no longer read, the runtime's write would block forever.
    const { requestId } = await invoke(emulator, { records: [{ level: 'INFO', message: `${'x'.repeat(256 * 1024)}\n` }] });
    expect(invokeLines(emulator, requestId)).toEqual([]);
    expect(emulator.output().match(/telemetry log pipe is not log frames/g)).toHaveLength(1);
  });
});

describe('Node.js runtime clients that log through the pipe', () => {
  let ric: AwsLambdaRicInstall;

  // The first run on a machine builds aws-lambda-ric's native part: a minute or two.
  beforeAll(async () => {
    ric = await installAwsLambdaRic();
  }, 600_000);

  const runtimes = {
    "AWS's aws-lambda-ric 4.x": () => {
      const { command, args, env } = awsLambdaRicCommand(ric, 'index.handler');
      return startEmulator({ args: [command, ...args], env: { ...env, LAMBDA_TASK_ROOT: loggingFixture }, cwd: loggingFixture });
    },
    'ours (runtime/bootstrap)': () =>
      startEmulator({ args: [nodeRuntimeBootstrap, 'index.handler'], env: { LAMBDA_TASK_ROOT: loggingFixture }, cwd: loggingFixture }),
  };

  it.each(Object.keys(runtimes))('%s: a multi-line console.log is one line of the log, in its invoke', async (name) => {
    const emulator = await runtimes[name as keyof typeof runtimes]();
    const { requestId } = await invoke(emulator, { case: 'multiline' });
    // The init's own line ('module loading') may come after START: the first invoke can arrive while it runs.
    const lines = invokeLines(emulator, requestId).filter((line) => !line.endsWith('\tmodule loading'));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\tline one\\rline two\\rline three$`))]);
    // Neither the emulator nor the runtime has anything to say about the pipe: it was taken and used.
    expect(emulator.output()).not.toContain('telemetry log pipe');
    expect(emulator.output()).not.toContain('_LAMBDA_TELEMETRY_LOG_FD');
  });
});
