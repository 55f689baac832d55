// An error in the Lambda API's wire terms (status, x-amzn-ErrorType, JSON body), and the refusals an Invoke's own
// checks make. Here rather than in src/service/ because the emulator answers Invoke with them too, and it is bundled
// into every image: nothing here may load the service model (ERROR_MESSAGE_MEMBERS is the model's table, copied).
// src/service/lambda-error.ts re-exports these for the control plane and adds the rest of Lambda's refusals.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { sendJson } from '../http/headers.ts';
import { ERROR_MESSAGE_MEMBERS } from './error-message-members.ts';

export class LambdaError extends Error {
  readonly status: number;
  readonly type: string;
  /** Extra body fields some errors carry (TooManyRequestsException's Reason, for one). */
  readonly fields: Record<string, unknown>;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string>;

  constructor(status: number, type: string, message: string, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
    this.fields = fields;
    this.headers = headers;
  }

  /**
   * The wire body, as the real service sends it: the caller's fault is `User`, ours is `Service`; the text under the
   * member the model names for this error (an error the model does not know, ValidationException for one, `message`).
   */
  toBody(): string {
    const messageMember = ERROR_MESSAGE_MEMBERS[this.type] ?? 'message';
    return JSON.stringify({ Type: this.status >= 500 ? 'Service' : 'User', [messageMember]: this.message, ...this.fields });
  }
}

export const resourceNotFound = (message: string) => new LambdaError(404, 'ResourceNotFoundException', message);
export const invalidParameter = (message: string) => new LambdaError(400, 'InvalidParameterValueException', message);
export const invalidRequestContent = (message: string) => new LambdaError(400, 'InvalidRequestContentException', message);
/** Lambda's words for a value that breaks a field's constraint. */
export const constraintMessage = (value: unknown, field: string, rule: string) =>
  `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`;
/** A field's value breaks a rule the service applies beyond the API model's (Lambda's 900 s timeout, for one). */
export const invalidValue = (value: unknown, field: string, rule: string) => invalidParameter(constraintMessage(value, field, rule));
/**
 * A request over its operation's size limit. AWS answers RequestEntityTooLargeException (not the model's
 * RequestTooLargeException): test_lambda_api.snapshot.json, test_oversized_request_create_lambda, and the same code
 * for an Invoke over 6 MB ("Request must be smaller than 6291456 bytes for the InvokeFunction operation").
 */
export const requestTooLarge = (limit: number, operation: string) =>
  new LambdaError(413, 'RequestEntityTooLargeException', `Request must be smaller than ${limit} bytes for the ${operation} operation`);
export const serviceError = (message: string) => new LambdaError(500, 'ServiceException', message);
/** A request refused before it is read (a browser's): its body is not wanted, nor the connection kept. */
export const accessDenied = (message: string) => new LambdaError(403, 'AccessDeniedException', message, {}, { Connection: 'close' });

/** Answers with the error as the SDK reads it: the type from x-amzn-ErrorType, the text from the body. */
export function sendLambdaError(res: ServerResponse, error: LambdaError, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, error.status, error.toBody(), { ...error.headers, 'x-amzn-ErrorType': error.type, ...headers });
}
