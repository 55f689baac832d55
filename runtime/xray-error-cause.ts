// The Lambda-Runtime-Function-XRay-Error-Cause header that goes with POST /runtime/invocation/{id}/error: the
// error as an X-Ray exception, built exactly as AWS's Node.js client builds it (aws-lambda-ric 4.x,
// utils/xray.js; 3.x XRayError.js and its unit tests agree on the result):
//   {"working_directory": process.cwd(),
//    "exceptions": [{"type": name, "message": message, "stack": [{"path", "line", "label"}, ...]}],
//    "paths": [each distinct stack path, in order]}
// DEL (0x7F) becomes `%7F` in name, message and stack; anything that throws while reading the error (null, a
// non-string stack, a name that is not a string) gives '' and no header is sent. Only built for errors: the
// success path never loads or runs any of it.
import { headerValue } from './errors.ts';

export interface XRayStackFrame {
  path: string;
  line: number;
  label: string;
}

// A cause bigger than this is dropped rather than sent: a header cannot be cut without breaking its JSON, and
// an HTTP server refuses a request whose headers pass its limit (16 KiB in total for Node.js's, lambkin's
// Runtime API), which would lose the error itself. AWS's Node.js client has no cap.
export const MAX_XRAY_CAUSE_BYTES = 12 * 1024;

/** The stack lines after the first, as X-Ray frames: `at label (path:line:column)` or `at path:line:column`. */
function parseStack(stack: string | null | undefined): XRayStackFrame[] {
  if (!stack) return [];
  const lines = stack.replaceAll('\x7F', '%7F').split('\n');
  lines.shift();
  return lines.map((line) => {
    const trimmed = line
      .trim()
      .replace(/[()]/g, '')
      .replace(/^[^\s]*\s/, '');
    const lastSpace = trimmed.lastIndexOf(' ');
    const label = lastSpace >= 0 ? trimmed.slice(0, lastSpace) : 'anonymous';
    const pathParts = (lastSpace >= 0 ? trimmed.slice(lastSpace + 1) : trimmed).split(':');
    return { path: pathParts[0]!, line: Number.parseInt(pathParts[1]!, 10), label };
  });
}

/** The cause as AWS's client builds it (JSON text), or '' when the error cannot be read. */
export function formatXRayErrorCause(error: unknown): string {
  try {
    // Read as AWS does: property access on null/undefined throws, a non-string name/message/stack throws at replaceAll.
    const source = error as { name?: string | null; message?: string | null; stack?: string | null };
    const stack = parseStack(source.stack);
    const paths: string[] = [];
    for (const frame of stack) if (!paths.includes(frame.path)) paths.push(frame.path);
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: source.name?.replaceAll('\x7F', '%7F'), message: source.message?.replaceAll('\x7F', '%7F'), stack }],
      paths,
    });
  } catch {
    return '';
  }
}

/**
 * The header value for `error`, or undefined when there is none to send. JSON.stringify has already escaped
 * control characters; what a header still cannot hold (non-ASCII text, a DEL in the working directory) is
 * percent-encoded as UTF-8 bytes, as the error-type header is.
 */
export function xrayErrorCauseHeader(error: unknown): string | undefined {
  const cause = formatXRayErrorCause(error);
  if (cause === '') return undefined;
  const value = headerValue(cause);
  return value.length > MAX_XRAY_CAUSE_BYTES ? undefined : value;
}
