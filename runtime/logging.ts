// Console output in Lambda's log formats (reference/node-runtime.md, "Logging"): every console call becomes
// exactly one record, tagged with the time, the request id of the invoke in flight and a level, in the text format
// (`time\trequestId\tLEVEL\tmessage`) or, with AWS_LAMBDA_LOG_FORMAT=JSON, as one JSON object. Where records go is
// chosen once, as AWS's client 4.x chooses (LogPatch.createLogger): with AWS_LAMBDA_MAX_CONCURRENCY, JSON lines on
// fd 1 whatever the format; else frames on the telemetry log fd when the sandbox gives one (telemetry-log.ts); else
// lines on stdout. AWS_LAMBDA_LOG_LEVEL silences the levels below it by installing no-op methods, so a silenced
// call costs nothing.
import { toErrorBody } from './errors.ts';
import { invokeStore } from './invoke-store.ts';
import { fdLineSink, type LogSink, stdoutSink } from './log-sinks.ts';
import { consumeTelemetryFd, telemetrySink, unusableTelemetryFd } from './telemetry-log.ts';

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

const STDOUT_FD = 1;

/** Formats one console call, made at `timestamp` (ISO), as a record line without its trailing newline. */
type Formatter = (level: Level, args: unknown[], timestamp: string) => string;

// `console.log()` has no first argument; AWS's formatter passes it on anyway, as util.format(undefined).
const NO_ARGUMENT_TEXT = format(undefined);

/** `time\trequestId\tLEVEL\tmessage`, the message as util.format makes it, newlines and all. */
const textLine: Formatter = (level, args, timestamp) =>
  `${timestamp}\t${invokeStore.getRequestId()}\t${level}\t${args.length === 0 ? NO_ARGUMENT_TEXT : format(...args)}`;

interface JsonRecord {
  timestamp: string;
  level: Level;
  requestId: string;
  tenantId?: string;
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

/**
 * One JSON object: timestamp, level, requestId, tenantId (when the invoke has one), message; AWS's
 * formatJsonMessage rules. The first argument is the message. Alone, it is logged as itself (so
 * `console.log({ orderId })` stays queryable, an error becomes an error object, and `console.log()` gives a record
 * without a message), or as its inspected text if it cannot be serialised (cycles, BigInt). With further
 * arguments, the message is util.format of them all, and the first error AMONG THE FURTHER ones (not the first
 * argument) adds errorType, errorMessage and stackTrace at the top level.
 */
const jsonLine: Formatter = (level, args, timestamp) => {
  const requestId = invokeStore.getRequestId();
  const tenantId = invokeStore.getTenantId();
  const record: JsonRecord = tenantId ? { timestamp, level, requestId, tenantId, message: undefined } : { timestamp, level, requestId, message: undefined };
  if (args.length <= 1) {
    const only = args[0];
    record.message = only;
    if (typeof only === 'string') return JSON.stringify(record);
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = format(only);
      return JSON.stringify(record);
    }
  }
  record.message = format(...args);
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (arg instanceof Error) {
      record.errorType = errorTypeOf(arg);
      record.errorMessage = arg.message;
      record.stackTrace = typeof arg.stack === 'string' ? arg.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(record);
};

function parseLevel(value: string | undefined): number {
  const index = LEVELS.indexOf((value ?? '').toUpperCase() as Level);
  return index === -1 ? 0 : index;
}

/** Where records go, and in which format: AWS's LogPatch.createLogger. */
function chooseSink(env: NodeJS.ProcessEnv, jsonRequested: boolean): { sink: LogSink; json: boolean } {
  // Several invokes at once: JSON lines on fd 1, whatever the format, as AWS's SocketLogger writes them (AWS can
  // also get that fd from a socket named by _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET; lambkin's environments do
  // not give one). _LAMBDA_TELEMETRY_LOG_FD is left alone then, as AWS leaves it.
  if (env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined) return { sink: fdLineSink(STDOUT_FD), json: true };
  const stdout = stdoutSink(jsonRequested);
  const fd = consumeTelemetryFd(env);
  if (fd === undefined) return { sink: stdout, json: jsonRequested };
  const unusable = unusableTelemetryFd(fd);
  if (unusable !== undefined) {
    process.stderr.write(`lambkin runtime: _LAMBDA_TELEMETRY_LOG_FD=${fd} is not usable, ${unusable}; logging to stdout\n`);
    return { sink: stdout, json: jsonRequested };
  }
  return { sink: telemetrySink(fd, jsonRequested, stdout), json: jsonRequested };
}

const silenced = (): void => {};

/**
 * Replaces the console's logging methods with Lambda-formatted ones. Called before the handler is loaded so
 * that logs written while the function initialises are formatted too.
 */
export function installConsole(env: NodeJS.ProcessEnv = process.env): void {
  jsonFormat = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const { sink, json } = chooseSink(env, jsonFormat);
  const formatRecord = json ? jsonLine : textLine;
  const threshold = parseLevel(env.AWS_LAMBDA_LOG_LEVEL);
  const target = console as unknown as Record<string, unknown>;
  for (const [method, level] of METHOD_LEVELS) {
    const levelIndex = LEVELS.indexOf(level);
    target[method] =
      levelIndex < threshold
        ? silenced
        : (...args: unknown[]) => {
            // One clock reading for the record's text and its frame's time, so the two agree to the millisecond.
            const now = Date.now();
            sink(levelIndex, now, formatRecord(level, args, new Date(now).toISOString()));
          };
  }
}

// The format AWS_LAMBDA_LOG_FORMAT asks for, which picks logError's form even when multi-concurrent mode writes
// every record as JSON (AWS's structuredConsole does the same: in text format the error goes in the message).
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
