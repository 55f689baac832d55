// What the function's log looks like when handlers use the console (reference/node-runtime.md, "Logging"):
// one record per call on stdout, in Lambda's text or JSON format, filtered by AWS_LAMBDA_LOG_LEVEL.
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionError, startRuntime, stopAllRuntimes, successJson, type RuntimeProcess } from './support/runtime-process.ts';

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

afterAll(stopAllRuntimes);

async function start(env: Record<string, string> = {}, taskRoot = 'logging'): Promise<RuntimeProcess> {
  const runtime = await startRuntime({ handler: 'index.handler', taskRoot, env });
  expect((await runtime.waitForInit()).kind).toBe('ready');
  return runtime;
}

/** Invokes `case` and returns the `count` stdout lines tagged with that invoke's request id. */
async function logsOf(runtime: RuntimeProcess, logCase: string, count = 1): Promise<string[]> {
  const requestId = crypto.randomUUID();
  const outcome = await runtime.invoke({ case: logCase }, { requestId });
  expect(outcome.kind).toBe('success');
  const lines = () => runtime.stdoutLines().filter((line) => line.includes(requestId));
  await runtime.waitUntil(() => lines().length >= count);
  return lines();
}

/** Invokes a failing `case` and returns the error posted and the stdout lines tagged with that invoke's request id. */
async function failedInvoke(runtime: RuntimeProcess, logCase: string): Promise<{ requestId: string; trace: string[]; lines: string[] }> {
  const requestId = crypto.randomUUID();
  const error = functionError(await runtime.invoke({ case: logCase }, { requestId }));
  const lines = () => runtime.stdoutLines().filter((line) => line.includes(requestId));
  await runtime.waitUntil(() => lines().length >= 1);
  return { requestId, trace: error.trace ?? [], lines: lines() };
}

describe('text format (the default)', () => {
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    runtime = await start();
  });

  it('tags logs written while the module loads with request id "-", as AWS 4.x does', () => {
    const line = runtime.stdoutLines().find((l) => l.endsWith('module loading'));
    expect(line?.split('\t')).toEqual([expect.stringMatching(ISO_TIME), '-', 'INFO', 'module loading']);
  });

  it('writes one line per call: time, request id, level, message', async () => {
    const requestId = 'aaaaaaaa-1111-4222-8333-444444444444';
    await runtime.invoke({ case: 'format' }, { requestId });
    await runtime.waitForOutput(requestId);
    const lines = runtime.stdoutLines().filter((line) => line.includes(requestId));
    expect(lines).toHaveLength(1);
    const [time, id, level, message] = lines[0]!.split('\t');
    expect(time).toMatch(ISO_TIME);
    expect(Math.abs(Date.parse(time!) - Date.now())).toBeLessThan(10_000);
    expect(id).toBe(requestId);
    expect(level).toBe('INFO');
    expect(message).toBe("cart has 3 items { coupon: 'SAVE' }");
  });

  it('maps each console method to its level, including console.fatal', async () => {
    const levels = (await logsOf(runtime, 'levels', 7)).map((line) => line.split('\t').slice(2).join('\t'));
    expect(levels).toEqual(['TRACE\tat trace', 'DEBUG\tat debug', 'INFO\tat info', 'INFO\tat log', 'WARN\tat warn', 'ERROR\tat error', 'FATAL\tat fatal']);
  });

  it('keeps a multi-line message on one line, with \\r for each \\n', async () => {
    const [line] = await logsOf(runtime, 'multiline');
    expect(line!.split('\t')[3]).toBe('line one\rline two\rline three');
  });

  it('prints an error with its stack, on one line', async () => {
    const [line] = await logsOf(runtime, 'error');
    const message = line!.split('\t')[3]!;
    expect(message).toMatch(/^payment failed: TypeError: card declined\r {4}at /);
    expect(message).not.toContain('\n');
  });

  it('logs "Invoke Error" and the error as AWS\'s client formats it when an invoke fails', async () => {
    const { requestId, trace, lines } = await failedInvoke(runtime, 'throw');
    expect(lines).toHaveLength(1);
    const [time, ...fields] = lines[0]!.split('\t');
    expect(time).toMatch(ISO_TIME);
    // errorType, errorMessage, code, the error's own enumerable fields, then the stack as an array of lines.
    const json = JSON.stringify({ errorType: 'Error', errorMessage: 'card declined', code: 'E_CARD', custom: 42, stack: trace });
    expect(fields.join('\t')).toBe(`${requestId}\tERROR\tInvoke Error \t${json}`);
    expect(trace[0]).toBe('Error: card declined');
  });

  it('logs a thrown non-error as an Error of its text', async () => {
    const { lines } = await failedInvoke(runtime, 'throw-string');
    const [, , level, title, json] = lines[0]!.split('\t');
    expect([level, title]).toEqual(['ERROR', 'Invoke Error ']);
    const logged = JSON.parse(json!) as Record<string, unknown>;
    expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'stack']);
    expect(logged).toMatchObject({ errorType: 'Error', errorMessage: 'plain failure' });
    expect((logged.stack as string[])[0]).toBe('Error: plain failure');
  });
});

describe('JSON format', () => {
  let runtime: RuntimeProcess;
  beforeAll(async () => {
    runtime = await start({ AWS_LAMBDA_LOG_FORMAT: 'JSON' });
  });

  const parse = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes one JSON object per call with timestamp, level, requestId and message', async () => {
    const requestId = crypto.randomUUID();
    await runtime.invoke({ case: 'format' }, { requestId });
    await runtime.waitForOutput(requestId);
    const records = parse(runtime.stdoutLines().filter((line) => line.includes(requestId)));
    expect(records).toEqual([{ timestamp: expect.stringMatching(ISO_TIME), level: 'INFO', requestId, message: "cart has 3 items { coupon: 'SAVE' }" }]);
  });

  it('logs the module-loading line as JSON too', () => {
    const record = parse(runtime.stdoutLines()).find((r) => r.message === 'module loading');
    expect(record).toMatchObject({ level: 'INFO', timestamp: expect.stringMatching(ISO_TIME) });
  });

  it('adds errorType, errorMessage and stackTrace when an error is logged', async () => {
    const [record] = parse(await logsOf(runtime, 'error'));
    expect(record).toMatchObject({
      level: 'ERROR',
      errorType: 'TypeError',
      errorMessage: 'card declined',
      message: expect.stringMatching(/^payment failed: TypeError: card declined\n/),
    });
    expect((record!.stackTrace as string[])[0]).toBe('TypeError: card declined');
    expect((record!.stackTrace as string[])[1]).toMatch(/^ {4}at /);
  });

  it('logs a lone error as an error object: errorType, errorMessage, stackTrace, then its own fields', async () => {
    const [line] = await logsOf(runtime, 'lone-error');
    const record = JSON.parse(line!) as { message: { stackTrace: string[] } };
    expect(Object.keys(record)).toEqual(['timestamp', 'level', 'requestId', 'message']);
    expect(Object.keys(record.message)).toEqual(['errorType', 'errorMessage', 'stackTrace', 'retryable']);
    expect(record).toMatchObject({ level: 'ERROR', message: { errorType: 'TypeError', errorMessage: 'card declined', retryable: false } });
    expect(record.message.stackTrace[0]).toBe('TypeError: card declined');
    expect(record.message.stackTrace[1]).toMatch(/^ {4}at /);
  });

  it('logs a failed invoke as one ERROR record whose message is the error object', async () => {
    const { requestId, trace, lines } = await failedInvoke(runtime, 'throw');
    expect(lines).toHaveLength(1);
    const { timestamp } = JSON.parse(lines[0]!) as { timestamp: string };
    expect(timestamp).toMatch(ISO_TIME);
    const message = { errorType: 'Error', errorMessage: 'card declined', stackTrace: trace, code: 'E_CARD', custom: 42 };
    expect(lines[0]).toBe(JSON.stringify({ timestamp, level: 'ERROR', requestId, message }));
  });

  it('keeps a logged object structured', async () => {
    const [record] = parse(await logsOf(runtime, 'object'));
    expect(record!.message).toEqual({ orderId: 42, status: 'paid' });
  });

  it('maps each console method to its level', async () => {
    expect(parse(await logsOf(runtime, 'levels', 7)).map((r) => r.level)).toEqual(['TRACE', 'DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });
});

describe('AWS_LAMBDA_LOG_LEVEL', () => {
  it('silences the levels below it (text)', async () => {
    const runtime = await start({ AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    const levels = (await logsOf(runtime, 'levels', 3)).map((line) => line.split('\t')[2]);
    expect(levels).toEqual(['WARN', 'ERROR', 'FATAL']);
    expect(runtime.stdout()).not.toContain('module loading');
  });

  it('silences the levels below it (JSON), whatever its case', async () => {
    const runtime = await start({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'debug' });
    const levels = (await logsOf(runtime, 'levels', 6)).map((line) => JSON.parse(line).level);
    expect(levels).toEqual(['DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });
});

// The details of AWS 4.x's records (its formatter, formatJsonMessage): what surrounds the message.
describe('record details, as AWS 4.x writes them', () => {
  let text: RuntimeProcess;
  let json: RuntimeProcess;
  beforeAll(async () => {
    [text, json] = await Promise.all([start({}, 'log-details'), start({ AWS_LAMBDA_LOG_FORMAT: 'JSON' }, 'log-details')]);
  });

  const record = async (logCase: string) => {
    const [line] = await logsOf(json, logCase);
    return JSON.parse(line!) as Record<string, unknown>;
  };

  it('prints console.log() as "undefined" in text, and as a record without a message in JSON', async () => {
    const [line] = await logsOf(text, 'no-arguments');
    expect(line!.split('\t').slice(2)).toEqual(['INFO', 'undefined']);
    expect(Object.keys(await record('no-arguments'))).toEqual(['timestamp', 'level', 'requestId']);
  });

  it('takes the error fields from the first error after the message, not from the message itself', async () => {
    const later = await record('error-later');
    expect(later).toMatchObject({
      message: expect.stringMatching(/^charging failed: RangeError: limit reached\n {4}at .* TypeError: card declined\n/s),
      errorType: 'RangeError',
      errorMessage: 'limit reached',
    });
    expect((later.stackTrace as string[])[0]).toBe('RangeError: limit reached');

    const first = await record('error-first');
    expect(Object.keys(first)).toEqual(['timestamp', 'level', 'requestId', 'message']);
    expect(first.message).toMatch(/^TypeError: card declined\n {4}at .* while charging$/s);
  });
});

describe('the tenant id', () => {
  /**
   * A Runtime API that hands out one event with a Lambda-Runtime-Aws-Tenant-Id, then holds /next; runs our runtime
   * against it and returns the stdout line of that invoke.
   */
  async function logLineWithTenant(env: Record<string, string>): Promise<{ requestId: string; line: string }> {
    const requestId = crypto.randomUUID();
    const held: ServerResponse[] = [];
    let handedOut = false;
    const api = createServer((req, res) => {
      req.resume();
      if (req.url !== '/2018-06-01/runtime/invocation/next') return void res.writeHead(202).end();
      if (handedOut) return void held.push(res);
      handedOut = true;
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'lambda-runtime-aws-request-id': requestId,
          'lambda-runtime-deadline-ms': String(Date.now() + 10_000),
          'lambda-runtime-aws-tenant-id': 'tenant-blue',
        })
        .end(JSON.stringify({ case: 'tenant' }));
    });
    try {
      api.listen(0, '127.0.0.1');
      await once(api, 'listening');
      const runtime = await startRuntime({
        handler: 'index.handler',
        taskRoot: 'log-details',
        runtimeApi: `127.0.0.1:${(api.address() as AddressInfo).port}`,
        env,
      });
      try {
        const lines = () => runtime.stdoutLines().filter((line) => line.includes(requestId));
        await runtime.waitUntil(() => lines().length >= 1);
        return { requestId, line: lines()[0]! };
      } finally {
        await runtime.stop();
      }
    } finally {
      api.closeAllConnections();
      api.close();
    }
  }

  it('follows the request id in a JSON record when the invoke has one', async () => {
    const { requestId, line } = await logLineWithTenant({ AWS_LAMBDA_LOG_FORMAT: 'JSON' });
    const { timestamp } = JSON.parse(line) as { timestamp: string };
    expect(line).toBe(JSON.stringify({ timestamp, level: 'INFO', requestId, tenantId: 'tenant-blue', message: 'for a tenant' }));
  });

  it('is not in a text record', async () => {
    const { requestId, line } = await logLineWithTenant({});
    expect(line.split('\t').slice(1)).toEqual([requestId, 'INFO', 'for a tenant']);
  });
});

describe('AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA', () => {
  const awslambdaWith = async (env: Record<string, string>) => successJson(await (await start(env, 'log-details')).invoke({ case: 'none' }));

  it('leaves the awslambda global out when "true" or "1", as AWS 4.x does', async () => {
    expect(await awslambdaWith({ AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: 'true' })).toEqual({ awslambda: 'undefined' });
    expect(await awslambdaWith({ AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: '1' })).toEqual({ awslambda: 'undefined' });
  });

  it('installs it for any other value', async () => {
    expect(await awslambdaWith({ AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: 'yes' })).toEqual({ awslambda: 'object' });
    expect(await awslambdaWith({})).toEqual({ awslambda: 'object' });
  });
});
