// The context object handlers receive has exactly AWS's keys (aws-lambda-ric 4.x builds it as a plain object),
// keeps the callback-era members for callback handlers without listing them, and counts the remaining time
// below zero once the deadline has passed, as AWS's does.
import { afterAll, describe, expect, it } from 'vitest';
import type { RuntimeConfig } from '../runtime/config.ts';
import { InvokeContext, type CompletionSink } from '../runtime/context.ts';
import type { NextInvocation } from '../runtime/runtime-api-client.ts';
import { startRuntime, stopAllRuntimes, successJson } from './support/runtime-process.ts';

afterAll(stopAllRuntimes);

// AWS 4.x: Object.assign(headerData, environmentData), in this order, undefined values included.
const AWS_KEYS = [
  'clientContext',
  'identity',
  'invokedFunctionArn',
  'awsRequestId',
  'tenantId',
  'xRayTraceId',
  'getRemainingTimeInMillis',
  'functionName',
  'functionVersion',
  'memoryLimitInMB',
  'logGroupName',
  'logStreamName',
];

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:test-function';

const config = {
  functionName: 'fn',
  functionVersion: '$LATEST',
  memoryLimitInMB: '128',
  logGroupName: '/aws/lambda/fn',
  logStreamName: 'stream',
} as RuntimeConfig;

function contextWith(deadlineMs: number, sink: CompletionSink = { completeNow() {} }): InvokeContext {
  const next = { requestId: 'req-1', deadlineMs, invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn' } as NextInvocation;
  return new InvokeContext(next, config, undefined, undefined, sink);
}

describe('the context object (unit)', () => {
  it('counts below zero after the deadline, as AWS does (deadline - now)', () => {
    const context = contextWith(Date.now() - 5_000);
    const remaining = context.getRemainingTimeInMillis();
    expect(remaining).toBeLessThanOrEqual(-5_000);
    expect(remaining).toBeGreaterThan(-6_000);
  });

  it('counts down to the deadline before it', () => {
    const remaining = contextWith(Date.now() + 3_000).getRemainingTimeInMillis();
    expect(remaining).toBeGreaterThan(2_000);
    expect(remaining).toBeLessThanOrEqual(3_000);
  });

  it('has exactly AWS’s own enumerable keys, in its order', () => {
    expect(Object.keys(contextWith(Date.now()))).toEqual(AWS_KEYS);
  });

  it('keeps done, succeed, fail detachable and replaceable, and callbackWaitsForEmptyEventLoop settable', () => {
    const calls: unknown[][] = [];
    const context = contextWith(Date.now(), { completeNow: (...args: unknown[]) => calls.push(args) });
    const { done, succeed, fail } = context;
    done(null, 1);
    succeed(2);
    fail(new Error('x'));
    expect(calls.map((args) => args.slice(0, 2).map((v) => (v instanceof Error ? v.message : v)))).toEqual([[null, 1], [null, 2], ['x']]);
    expect(context.done).toBe(done);
    const replacement = () => {};
    context.succeed = replacement;
    expect(context.succeed).toBe(replacement);
    expect(context.callbackWaitsForEmptyEventLoop).toBe(true);
    context.callbackWaitsForEmptyEventLoop = false;
    expect(context.callbackWaitsForEmptyEventLoop).toBe(false);
    expect(Object.keys(context)).toEqual(AWS_KEYS);
  });
});

describe('the context object a handler receives', () => {
  it('shows AWS’s keys only; the callback-era members are prototype accessors, not own keys', async () => {
    const runtime = await startRuntime({ handler: 'index.handler', taskRoot: 'context' });
    const requestId = crypto.randomUUID();
    const shape = successJson(await runtime.invoke({}, { requestId, timeoutMs: 30_000, invokedFunctionArn: ARN })) as Record<string, unknown>;
    expect(shape.keys).toEqual(AWS_KEYS);
    expect(shape.ownNames).toEqual(AWS_KEYS);
    expect(shape.remainingIsOwnFunction).toBe(true);
    expect(shape.json).toEqual({
      invokedFunctionArn: ARN,
      awsRequestId: requestId,
      functionName: 'test-function',
      functionVersion: '$LATEST',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-function',
      logStreamName: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    });
    expect(shape.legacy).toEqual(
      ['callbackWaitsForEmptyEventLoop', 'done', 'succeed', 'fail'].map((name) => ({
        name,
        inContext: true,
        own: false,
        onPrototypeAsAccessor: true,
        enumerableOnPrototype: false,
      })),
    );
    expect(shape.waits).toBe(true);
    expect(shape.remaining).toBeGreaterThan(25_000);
  });
});
