// The error bodies of the Runtime API, in the exact words AWS uses, so that users searching for an error type
// find what they expect. Two audiences: the runtime (answers to its HTTP calls) and the invoke's caller.
import { exitStatusReason } from './exit-words.ts';
import type { ErrorBody } from './types.ts';

/** AWS accepts buffered responses up to 6 MB plus framing slack. */
export const MAX_RESPONSE_BYTES = 6_291_556;

// --- Answers to the runtime ---------------------------------------------------------------------------------

export const invalidRequestId = (): ErrorBody => ({
  errorMessage: 'Invalid request ID',
  errorType: 'InvalidRequestID',
});

export const invalidStateTransition = (what: string): ErrorBody => ({
  errorMessage: `State transition is not allowed: ${what}`,
  errorType: 'InvalidStateTransition',
});

export const requestEntityTooLarge = (limit: number): ErrorBody => ({
  errorMessage: `Exceeded maximum allowed payload size (${limit} bytes).`,
  errorType: 'RequestEntityTooLarge',
});

export const invalidResponseMode = (mode: string): ErrorBody => ({
  errorMessage: `Invalid function response mode: ${mode}`,
  errorType: 'InvalidFunctionResponseMode',
});

export const notFound = (path: string): ErrorBody => ({
  errorMessage: `Not found: ${path}`,
  errorType: 'NotFound',
});

export const methodNotAllowed = (method: string, path: string): ErrorBody => ({
  errorMessage: `Method ${method} is not allowed on ${path}`,
  errorType: 'MethodNotAllowed',
});

// --- Outcomes for the invoke's caller -----------------------------------------------------------------------

/** Lambda's words, without the answer's size (test_lambda.snapshot.json, test_lambda_too_large_response). */
export const responseSizeTooLarge = (limit: number): ErrorBody => ({
  errorType: 'Function.ResponseSizeTooLarge',
  errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
});

export const sandboxTimedOut = (requestId: string, timeoutMs: number): ErrorBody => ({
  errorType: 'Sandbox.Timedout',
  errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
});

/** The init phase ran past its limit (lifecycle.ts): what whoever waited for the init is told. */
export const initTimedOut = (timeoutMs: number): ErrorBody => ({
  errorType: 'Sandbox.Timedout',
  errorMessage: `Error: Runtime init timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
});

/**
 * `reason` in Lambda's words: `exit status 1`, `signal: killed`. A runtime that exited with status 0 (a handler's
 * process.exit(0), a bootstrap that ends) gave no error: Lambda says "Runtime exited without providing a reason"
 * then (test_lambda.snapshot.json, test_lambda_runtime_exit and test_lambda_handler_exit).
 */
export const runtimeExitError = (requestId: string | undefined, reason: string): ErrorBody => ({
  errorType: 'Runtime.ExitError',
  errorMessage: `${requestId ? `RequestId: ${requestId} ` : ''}Error: ${
    reason === exitStatusReason(0) ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${reason}`
  }`,
});

/**
 * Reads an error body the runtime posted. AWS hands the runtime's own body to the caller; the header only fills
 * in when the body does not name a type.
 */
export function parseRuntimeErrorBody(body: Buffer, headerType: string | undefined): ErrorBody {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const fields = parsed as Record<string, unknown>;
      return {
        ...fields,
        errorType: typeof fields.errorType === 'string' ? fields.errorType : (headerType ?? 'Runtime.Unknown'),
        errorMessage: typeof fields.errorMessage === 'string' ? fields.errorMessage : '',
      };
    }
  } catch {
    // Not JSON: the raw text is the message.
  }
  return { errorType: headerType ?? 'Runtime.Unknown', errorMessage: text };
}
