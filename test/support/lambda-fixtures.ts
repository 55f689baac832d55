// What the tests that drive the Lambda API with @aws-sdk/client-lambda share: the execution role every function is
// created with (lambkin does not assume it; CreateFunction only checks its shape), and Invoke as a test calls it:
// a JSON event in, the answer parsed, the log tail decoded.
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  type LambdaClient,
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

/** Creates a nodejs24.x zip function (handler index.handler, the tests' ROLE) from `zip`; `extra` overrides any of it. */
export async function createNodeFunction(lambda: LambdaClient, name: string, zip: Uint8Array, extra: Partial<CreateFunctionCommandInput> = {}): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({ FunctionName: name, Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile: zip }, ...extra }),
  );
}
