// Console output in Lambda's log formats (reference/node-runtime.md, "Logging"): every console call becomes
// exactly one record on stdout, tagged with the time, the request id of the invoke in flight and a level.
// Text lines keep multi-line messages on one line by turning `\n` into `\r`, as CloudWatch expects;
// AWS_LAMBDA_LOG_FORMAT=JSON writes one JSON object per call instead. AWS_LAMBDA_LOG_LEVEL silences the levels
// below it by installing no-op methods, so a silenced call costs nothing.
import { toErrorBody } from './errors.ts';

// Not an import, for start-up time: see the note in errors.ts.
const { format } = process.getBuiltinModule('node:util');

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
type Level = (typeof LEVELS)[number];

// console method → level. `fatal` is not part of Node's console; Lambda adds it.
const METHOD_LEVELS: ReadonlyArray<readonly [string, Level]> = [
  ['trace', 'TRACE'],
  ['debug', 'DEBUG'],
  ['info', 'INFO'],
  ['log', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['fatal', 'FATAL'],
];

// The request id printed on each line: "undefined" until the first invoke, as on AWS.
let currentRequestId: string | undefined;

/** Tags the log records that follow with this invoke's request id. */
export function setLogRequestId(requestId: string): void {
  currentRequestId = requestId;
}

type Writer = (level: Level, args: unknown[]) => void;

const NEWLINES = /\n/g;

function textWriter(write: (chunk: string) => void): Writer {
  return (level, args) => {
    const message = format(...args);
    write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${message.includes('\n') ? message.replace(NEWLINES, '\r') : message}\n`);
  };
}

interface JsonRecord {
  timestamp: string;
  level: Level;
  requestId: string | undefined;
  message: unknown;
  errorType?: unknown;
  errorMessage?: unknown;
  stackTrace?: string[];
}

// AWS's names for an error in JSON logs. The type is the constructor's name (a TypeError whose name was changed
// is still "TypeError"), "UnknownError" without one; the error's own enumerable fields follow, and may override.
function errorTypeOf(error: Error): unknown {
  return error?.constructor?.name ?? 'UnknownError';
}

/** JSON.stringify replacer: errors anywhere in a logged value become {errorType, errorMessage, stackTrace, ...own}. */
function jsonErrorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const stack: unknown = value.stack;
  return Object.assign(
    { errorType: errorTypeOf(value), errorMessage: value.message, stackTrace: typeof stack === 'string' ? stack.split('\n') : stack },
    value,
  );
}

function jsonWriter(write: (chunk: string) => void): Writer {
  return (level, args) => {
    const record: JsonRecord = { timestamp: new Date().toISOString(), level, requestId: currentRequestId, message: undefined };
    if (args.length === 1) {
      // A lone value is logged as itself (so `console.log({ orderId })` stays queryable, and an error becomes an
      // error object); one that cannot be serialised (cycles, BigInt) as its inspected text.
      const only = args[0];
      record.message = only;
      if (typeof only === 'string') {
        write(`${JSON.stringify(record)}\n`);
        return;
      }
      let line: string;
      try {
        line = JSON.stringify(record, jsonErrorReplacer);
      } catch {
        record.message = format(only);
        line = JSON.stringify(record);
      }
      write(`${line}\n`);
      return;
    }
    record.message = format(...args);
    // Several arguments: the text, plus the first error among them as top-level fields.
    for (const arg of args) {
      if (arg instanceof Error) {
        record.errorType = errorTypeOf(arg);
        record.errorMessage = arg.message;
        record.stackTrace = typeof arg.stack === 'string' ? arg.stack.split('\n') : [];
        break;
      }
    }
    write(`${JSON.stringify(record)}\n`);
  };
}

function parseLevel(value: string | undefined): number {
  const index = LEVELS.indexOf((value ?? '').toUpperCase() as Level);
  return index === -1 ? 0 : index;
}

const silenced = (): void => {};

/**
 * Replaces the console's logging methods with Lambda-formatted ones. Called before the handler is loaded so
 * that logs written while the function initialises are formatted too.
 */
export function installConsole(env: NodeJS.ProcessEnv = process.env): void {
  // process.stdout is built on first use; a function that does not log while loading need not pay for it then.
  let stdout: NodeJS.WriteStream | undefined;
  const write = (chunk: string): void => {
    (stdout ??= process.stdout).write(chunk);
  };
  jsonFormat = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const writer = jsonFormat ? jsonWriter(write) : textWriter(write);
  const threshold = parseLevel(env.AWS_LAMBDA_LOG_LEVEL);
  const target = console as unknown as Record<string, unknown>;
  for (const [method, level] of METHOD_LEVELS) {
    target[method] = LEVELS.indexOf(level) < threshold ? silenced : (...args: unknown[]) => writer(level, args);
  }
}

let jsonFormat = false;

// Error, name, message, code and stack are not enumerable: the text format lists them first, then the error's
// own enumerable fields, then the stack as an array of lines (AWS's Errors.toFormatted).
function withEnumerableProperties(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const formatted: Record<string, unknown> = Object.assign<Record<string, unknown>, Error>(
    { errorType: value.name, errorMessage: value.message, code: (value as { code?: unknown }).code },
    value,
  );
  if (typeof value.stack === 'string') formatted.stack = value.stack.split('\n');
  return formatted;
}

/**
 * Logs a failure the runtime handles itself ("Invoke Error", "Uncaught Exception", ...) at ERROR level, as AWS's
 * structuredConsole.logError does. Text: `<title> \t{"errorType":...,"errorMessage":...,"code":...,<own fields>,
 * "stack":[lines]}`; JSON: a record whose message is the error object. A non-error becomes an Error of its text.
 */
export function logError(title: string, error: unknown): void {
  const asError = error instanceof Error ? error : new Error(String(error));
  if (jsonFormat) {
    console.error(asError);
    return;
  }
  let json: string;
  try {
    json = JSON.stringify(asError, (_key, value) => withEnumerableProperties(value));
  } catch {
    // Cycles among its fields: the short form the Runtime API gets.
    json = JSON.stringify(toErrorBody(asError));
  }
  console.error(title, `\t${json}`);
}
