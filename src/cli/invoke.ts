// `lambkin invoke FN`: one synchronous Invoke against a running `lambkin serve` (or anything speaking the Lambda
// API), as `aws lambda invoke` does: the response body on stdout; the function error and the log tail on stderr,
// so that stdout can be piped (into jq) untouched. Exit 1 on a function error or a Lambda API error.
// A plain undici request, not @aws-sdk/client-lambda: the CLI bundle stays small and starts fast.
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { parseFlags, runCommand, UsageError } from './flags.ts';

export const INVOKE_USAGE = `usage: lambkin invoke FUNCTION [--qualifier Q] [--payload JSON|@FILE] [--endpoint URL] [--log-type Tail]

  FUNCTION          the function's name (or ARN, or name:qualifier)
  --qualifier Q     a version number or alias name to invoke (default: $LATEST, or the one in FUNCTION)
  --payload JSON    the event, as JSON text; @FILE reads it from a file (default {})
  --endpoint URL    the Lambda API (default http://127.0.0.1:9000, where lambkin serve listens)
  --log-type Tail   print the end of the invoke's log (START ... REPORT) on stderr`;

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:9000';
/** A synchronous invoke may run for the function's whole timeout: up to 15 minutes, and then some. */
const INVOKE_TIMEOUT_MS = 16 * 60_000;

export function main(args: string[]): void {
  runCommand('invoke', INVOKE_USAGE, args, invoke);
}

async function invoke(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { payload: { type: 'string' }, endpoint: { type: 'string' }, 'log-type': { type: 'string' }, qualifier: { type: 'string' } },
    { min: 1, max: 1 },
  );
  const logType = (values['log-type'] as string | undefined) ?? 'None';
  if (logType !== 'Tail' && logType !== 'None') throw new UsageError(`--log-type must be Tail or None, not '${logType}'`);
  const payload = await readPayload(values.payload as string | undefined);
  const endpoint = (values.endpoint as string | undefined) ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(`/2015-03-31/functions/${encodeURIComponent(positionals[0]!)}/invocations`, endpoint);
    const qualifier = values.qualifier as string | undefined;
    if (qualifier !== undefined) url.searchParams.set('Qualifier', qualifier);
  } catch {
    throw new UsageError(`--endpoint is not a URL: '${endpoint}'`);
  }

  let response;
  try {
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse', 'x-amz-log-type': logType },
      body: payload,
      headersTimeout: INVOKE_TIMEOUT_MS,
      bodyTimeout: INVOKE_TIMEOUT_MS,
    });
  } catch (error) {
    throw new Error(`cannot reach the Lambda API at ${endpoint} (${(error as Error).message}): is lambkin serve running?`);
  }
  const body = Buffer.from(await response.body.arrayBuffer());

  if (response.statusCode >= 300) {
    // The Lambda API's error: its type in x-amzn-ErrorType, its text in the body's `message`.
    const type = String(response.headers['x-amzn-errortype'] ?? `HTTP ${response.statusCode}`).split(':')[0];
    process.stderr.write(`lambkin invoke: ${type}: ${errorMessage(body)}\n`);
    return 1;
  }
  process.stdout.write(body);
  if (process.stdout.isTTY && body.length > 0 && body[body.length - 1] !== 0x0a) process.stdout.write('\n');

  const logResult = response.headers['x-amz-log-result'];
  if (typeof logResult === 'string' && logResult !== '') process.stderr.write(Buffer.from(logResult, 'base64'));
  // A streamed response says its failure in a trailer, after the body.
  const functionError = response.headers['x-amz-function-error'] ?? response.trailers['x-amz-function-error'];
  if (functionError) {
    process.stderr.write(`X-Amz-Function-Error: ${String(functionError)}\n`);
    return 1;
  }
  return 0;
}

/** The event: JSON text, @FILE, or {} when none is given. The service checks that it is JSON. */
async function readPayload(value: string | undefined): Promise<Buffer> {
  if (value === undefined) return Buffer.from('{}');
  if (!value.startsWith('@')) return Buffer.from(value, 'utf8');
  try {
    return await readFile(value.slice(1));
  } catch (error) {
    throw new UsageError(`cannot read the payload file: ${(error as Error).message}`);
  }
}

function errorMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    return String(parsed.message ?? parsed.Message ?? text);
  } catch {
    return text;
  }
}
