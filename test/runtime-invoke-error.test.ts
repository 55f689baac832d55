// The "Invoke Error" line AWS's client logs for a failed invoke, for streamed responses too (its
// failResponseStream logs it before the trailers), and not for a crash, which is logged under its own title.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, stopAllRuntimes, type RuntimeProcess } from './support/runtime-process.ts';

afterAll(stopAllRuntimes);

/** Invokes a streaming case, drains the response, and returns the stdout lines of that invoke once `count` are there. */
async function linesOf(runtime: RuntimeProcess, event: unknown, count: number): Promise<string[]> {
  const requestId = crypto.randomUUID();
  const outcome = await runtime.invoke(event, { requestId });
  if (outcome.kind === 'streaming') {
    for await (const _chunk of outcome.body);
    await outcome.end;
  }
  const lines = () => runtime.stdoutLines().filter((line) => line.includes(requestId));
  await runtime.waitUntil(() => lines().length >= count);
  return lines();
}

describe('a failed streamed invoke', () => {
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'streaming' });
    expect((await runtime.waitForInit()).kind).toBe('ready');
  });

  it('logs "Invoke Error" for an error thrown mid-stream', async () => {
    const [line] = await linesOf(runtime, { case: 'midError' }, 1);
    const [, , level, title, json] = line!.split('\t');
    expect([level, title]).toEqual(['ERROR', 'Invoke Error ']);
    const logged = JSON.parse(json!) as Record<string, unknown>;
    expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'stack']);
    expect(logged).toMatchObject({ errorType: 'RangeError', errorMessage: 'broke mid-stream' });
    expect((logged.stack as string[])[0]).toBe('RangeError: broke mid-stream');
  });

  it('logs "Invoke Error" once for a stream destroyed with an error', async () => {
    const lines = await linesOf(runtime, { case: 'destroyed' }, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const all = runtime.stdoutLines().filter((line) => line.includes(lines[0]!.split('\t')[1]!));
    expect(all).toHaveLength(1);
    expect(all[0]).toContain(
      '\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":"destroyed by the handler","stack":["Error: destroyed by the handler"',
    );
  });
});

describe('a crash during an invoke', () => {
  it('is logged as "Uncaught Exception" in AWS’s format, without an "Invoke Error" line', async () => {
    const runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'streaming' });
    const outcome = await runtime.invoke({ case: 'crash' });
    if (outcome.kind === 'streaming') {
      for await (const _chunk of outcome.body);
      await outcome.end;
    }
    await runtime.exited;
    const errors = runtime.stdoutLines().filter((line) => line.includes('\tERROR\t'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      '\tERROR\tUncaught Exception \t{"errorType":"EvalError","errorMessage":"crashed mid-stream","stack":["EvalError: crashed mid-stream"',
    );
  });
});
