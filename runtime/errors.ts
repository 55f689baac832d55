// Error shapes the runtime reports to the Runtime API, matching what Node.js users of AWS Lambda see
// (reference/node-runtime.md, "Error JSON"): `trace` (not `stackTrace`) holds the stack lines.
// Through getBuiltinModule rather than an import: the bundle turns a named import of a built-in into a copy of
// all its properties, and node:util's include lazy getters (TextDecoder) that cost ~3 ms at start-up.
const { types } = process.getBuiltinModule('node:util');

/** The JSON body of `/error` and `/init/error`. */
export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * An error the runtime itself raises, named with the Lambda error type users match on
 * (`Runtime.HandlerNotFound`, `Runtime.ImportModuleError`, ...). The name is the type, as AWS reports it.
 */
export class RuntimeError extends Error {
  constructor(errorType: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = errorType;
  }
}

/** A handler's promise is still pending but nothing is left that could settle it: Node.js would exit. */
export function neverSettledError(requestId: string): RuntimeError {
  return new RuntimeError(
    'Runtime.NodeJsExit',
    `RequestId: ${requestId} Error: the handler's promise never settled, and Node.js has nothing left to run ` +
      'that could settle it. Make sure the promise the handler returns resolves or rejects.',
  );
}

// DEL cannot appear in an HTTP header and AWS escapes it everywhere, so error bodies and headers agree.
const DEL = /\x7F/g;
const escapeDel = (text: string): string => (text.includes('\x7F') ? text.replace(DEL, '%7F') : text);

/** Whether `value` should be reported field by field: real errors (any realm) and error-shaped objects. */
function isErrorLike(value: unknown): value is Error {
  if (types.isNativeError(value) || value instanceof Error) return true;
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.name === 'string' && typeof candidate.message === 'string' && typeof candidate.stack === 'string';
}

/** Builds the error body for anything a handler threw, rejected with or passed to a callback. */
export function toErrorBody(error: unknown): ErrorBody {
  try {
    if (isErrorLike(error)) {
      const stack = error.stack;
      return {
        errorType: escapeDel(String(error.name)),
        errorMessage: escapeDel(String(error.message)),
        trace: typeof stack === 'string' ? escapeDel(stack).split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: escapeDel(String(error)), trace: [] };
  } catch {
    // A getter that throws, or an object whose toString throws: report that rather than crash the runtime.
    return {
      errorType: 'Runtime.UnreadableError',
      errorMessage: 'The error could not be read: its name, message, stack or string form threw.',
      trace: [],
    };
  }
}

// Header values may hold only visible ASCII, space and tab; anything else would make the request invalid.
const HAS_UNSAFE_HEADER_CHAR = /[^\t\x20-\x7E]/;
const UNSAFE_HEADER_CHARS = /[^\t\x20-\x7E]/gu;

function percentEncode(char: string): string {
  let encoded = '';
  for (const byte of Buffer.from(char, 'utf8')) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return encoded;
}

/** `text` as an HTTP header value (error type, X-Ray cause): what a header cannot hold is percent-encoded as UTF-8 bytes. */
export function headerValue(text: string): string {
  return HAS_UNSAFE_HEADER_CHAR.test(text) ? text.replace(UNSAFE_HEADER_CHARS, percentEncode) : text;
}
