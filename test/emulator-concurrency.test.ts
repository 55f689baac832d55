// The emulator as an environment of Lambda Managed Instances: with AWS_LAMBDA_MAX_CONCURRENCY set (as Lambda sets it),
// the in-image emulator hands its one runtime that many invokes at once, and the runtime (ours, and AWS's
// aws-lambda-ric 4.x) runs them at once. Without the variable the emulator stays one-at-a-time, as classic Lambda.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsLambdaRicCommand, installAwsLambdaRic, type AwsLambdaRicInstall } from '../tools/aws-lambda-ric.ts';
import { nodeRuntimeBootstrap, repoRoot, startEmulator, stopAllEmulators, type RunningEmulator } from './support/emulator-process.ts';
import { invokeRie } from './support/rie-invoke.ts';

const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');
const SLEEP_MS = 400;
const INVOKES = 8;

afterEach(stopAllEmulators);

let ric: AwsLambdaRicInstall;
// The first run on a machine builds the client's native part: a minute or two.
beforeAll(async () => {
  ric = await installAwsLambdaRic();
}, 600_000);

/** Our runtime or AWS's, on the `sleepy` handler, under the emulator with `env` added. */
function emulatorWith(runtime: 'ours' | 'aws-lambda-ric', env: Record<string, string>) {
  const handler = 'index.sleepy';
  const command = runtime === 'ours' ? { command: nodeRuntimeBootstrap, args: [handler], env: {} } : awsLambdaRicCommand(ric, handler);
  return startEmulator({
    args: [command.command, ...command.args],
    env: { LAMBDA_TASK_ROOT: fixtures, _HANDLER: handler, ...command.env, ...env },
    cwd: fixtures,
  });
}

/**
 * Sends INVOKES invokes at once, after one that waits for the runtime's init; resolves with their answers and the
 * wall time of the whole batch.
 */
async function batch(emulator: RunningEmulator) {
  expect((await invokeRie(emulator.invokeUrl, JSON.stringify({ ms: 0 }))).status).toBe(200);
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: INVOKES }, () => invokeRie(emulator.invokeUrl, JSON.stringify({ ms: SLEEP_MS }))));
  return { answers, ms: performance.now() - started };
}

describe.each(['ours', 'aws-lambda-ric'] as const)('the emulator with AWS_LAMBDA_MAX_CONCURRENCY=4, %s runtime', (runtime) => {
  it('runs four invokes at once in one runtime process, each answered with its own result', async () => {
    const emulator = await emulatorWith(runtime, { AWS_LAMBDA_MAX_CONCURRENCY: '4', AWS_LAMBDA_NODEJS_WORKER_COUNT: '2' });
    const { answers, ms } = await batch(emulator);
    expect(answers.map((a) => a.status)).toEqual(Array(INVOKES).fill(200));
    expect(answers.map((a) => a.json().slept)).toEqual(Array(INVOKES).fill(SLEEP_MS));
    // One environment: every answer came from the same runtime process.
    expect(new Set(answers.map((a) => a.json().pid)).size).toBe(1);
    // Eight 400 ms invokes, four at a time: two rounds (~800 ms), far from eight in a row (3,200 ms) even on a
    // loaded machine; and never more than four at once, or it would be one round.
    expect(ms).toBeGreaterThan(2 * SLEEP_MS - 50);
    expect(ms).toBeLessThan(INVOKES * SLEEP_MS * 0.75);
  });
});

describe('the emulator without AWS_LAMBDA_MAX_CONCURRENCY', () => {
  it('runs one invoke at a time, as classic Lambda', async () => {
    const emulator = await emulatorWith('ours', {});
    const { answers, ms } = await batch(emulator);
    expect(answers.map((a) => a.status)).toEqual(Array(INVOKES).fill(200));
    expect(ms).toBeGreaterThan(INVOKES * SLEEP_MS - 50);
  });

  it('refuses a maximum that is not a positive whole number, in one clear line', async () => {
    await expect(emulatorWith('ours', { AWS_LAMBDA_MAX_CONCURRENCY: '2.5' })).rejects.toThrow("AWS_LAMBDA_MAX_CONCURRENCY must be a whole number, got '2.5'");
  });
});
