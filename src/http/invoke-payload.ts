// A synchronous invoke's request body, checked as the Lambda API checks it before an event reaches a runtime, for
// both servers that take one: lambkin serve's Invoke (src/service/handlers/invoke.ts) and the emulator's invoke path
// (src/emulator/invoke-endpoint.ts).

/** The Lambda API's limit on a synchronous invoke's request body (6 MiB). */
export const MAX_INVOKE_REQUEST_BYTES = 6_291_456;

/** Lambda's words for a body over MAX_INVOKE_REQUEST_BYTES (a RequestEntityTooLargeException, 413). */
export const INVOKE_TOO_LARGE_MESSAGE = `Request must be smaller than ${MAX_INVOKE_REQUEST_BYTES} bytes for the InvokeFunction operation`;
