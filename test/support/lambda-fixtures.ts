// What the tests that drive the Lambda API with @aws-sdk/client-lambda share: the execution role every function is
// created with (lambkin does not assume it; CreateFunction only checks its shape), and Invoke as a test calls it:
// a JSON event in, the answer parsed, the log tail decoded.
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  type CreateFunctionCommandOutput,
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  type LambdaClient,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';

export const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';

export interface InvokeJsonOptions {
  /** LogType Tail: the last 4 KB of the invoke's log, decoded into `log` ('' without it). */
  tail?: boolean;
  /** Anything else of the Invoke call (Qualifier, InvocationType, ClientContext). */
  input?: Omit<InvokeCommandInput, 'FunctionName' | 'Payload'>;
}

/** An Invoke answer with its payload parsed as JSON (a function error's payload is Lambda's error body). */
export type InvokedJson<T> = InvokeCommandOutput & { body: T; log: string };

/** Invokes `name` with `event` as its JSON payload; resolves with the answer, its JSON parsed. */
export async function invokeJson<T = Record<string, unknown>>(
  lambda: LambdaClient,
  name: string,
  event: unknown = {},
  options: InvokeJsonOptions = {},
): Promise<InvokedJson<T>> {
  const output = await lambda.send(
    new InvokeCommand({ ...options.input, FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...(options.tail ? { LogType: 'Tail' } : {}) }),
  );
  return { ...output, body: payloadJson(output) as T, log: logTail(output) };
}

/** An Invoke answer's payload, parsed as JSON (typed as loosely as JSON.parse: tests read into it at will). */
export function payloadJson(output: { Payload?: Uint8Array }) {
  return JSON.parse(Buffer.from(output.Payload ?? []).toString('utf8'));
}

/** An Invoke answer's X-Amz-Log-Result, decoded ('' when it has none). */
export function logTail(output: { LogResult?: string }): string {
  return Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
}

/**
 * The SDK's waiters as a script against a local service would set them: polled after 50 ms at first (the SDK's
 * default is 1 s, for AWS's seconds-long transitions), backing off to 1 s, for up to 2 minutes.
 */
export const LOCAL_WAITER = { minDelay: 0.05, maxDelay: 1, maxWaitTime: 120 } as const;

/** Waits as a user does before invoking a new function: the functionActiveV2 waiter. */
export async function waitUntilActive(lambda: LambdaClient, name: string): Promise<void> {
  await waitUntilFunctionActiveV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: name });
}

/** Waits as a user does after an update, before the next: the functionUpdatedV2 waiter. */
export async function waitUntilUpdated(lambda: LambdaClient, name: string): Promise<void> {
  await waitUntilFunctionUpdatedV2({ client: lambda, ...LOCAL_WAITER }, { FunctionName: name });
}

/** CreateFunction, then the functionActiveV2 waiter: the function can be invoked (and updated) when it resolves. */
export async function createActiveFunction(lambda: LambdaClient, input: CreateFunctionCommandInput): Promise<CreateFunctionCommandOutput> {
  const created = await lambda.send(new CreateFunctionCommand(input));
  await waitUntilActive(lambda, input.FunctionName!);
  return created;
}

/** Creates a nodejs24.x zip function (handler index.handler, the tests' ROLE) from `zip`, and waits until it is Active. */
export async function createNodeFunction(lambda: LambdaClient, name: string, zip: Uint8Array, extra: Partial<CreateFunctionCommandInput> = {}): Promise<void> {
  await createActiveFunction(lambda, { FunctionName: name, Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile: zip }, ...extra });
}
