// Console output in Lambda's log formats (reference/node-runtime.md, "Logging"): every console call becomes
// exactly one record on stdout, tagged with the time, the request id of the invoke in flight and a level.
// Text lines keep multi-line messages on one line by turning `\n` into `\r`, as CloudWatch expects;
// AWS_LAMBDA_LOG_FORMAT=JSON writes one JSON object per call instead. AWS_LAMBDA_LOG_LEVEL silences the levels
// below it by installing no-op methods, so a silenced call costs nothing.
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
  errorType?: string;
  errorMessage?: string;
  stackTrace?: string[];
}

/** A lone non-error value is kept structured (so `console.log({ orderId })` stays queryable); else a string. */
function jsonMessage(args: unknown[]): unknown {
  if (args.length === 1) {
    const only = args[0];
    if (only === null || typeof only === 'number' || typeof only === 'boolean' || typeof only === 'string') return only;
    if (typeof only === 'object' && !(only instanceof Error)) {
      try {
        JSON.stringify(only);
        return only;
      } catch {
        // Cycles, BigInt: fall back to the inspected text below.
      }
    }
  }
  return format(...args);
}

function jsonWriter(write: (chunk: string) => void): Writer {
  return (level, args) => {
    const record: JsonRecord = {
      timestamp: new Date().toISOString(),
      level,
      requestId: currentRequestId,
      message: jsonMessage(args),
    };
    const error = args.find((arg): arg is Error => arg instanceof Error);
    if (error !== undefined) {
      record.errorType = error.name;
      record.errorMessage = error.message;
      record.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    }
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      record.message = format(...args);
      line = JSON.stringify(record);
    }
    write(`${line}\n`);
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
  const writer = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON' ? jsonWriter(write) : textWriter(write);
  const threshold = parseLevel(env.AWS_LAMBDA_LOG_LEVEL);
  const target = console as unknown as Record<string, unknown>;
  for (const [method, level] of METHOD_LEVELS) {
    target[method] = LEVELS.indexOf(level) < threshold ? silenced : (...args: unknown[]) => writer(level, args);
  }
}

/** Logs at ERROR level the way AWS reports failures it handles itself: a title, then the error as JSON. */
export function logRuntimeError(title: string, errorJson: string): void {
  console.error(`${title} \t${errorJson}`);
}
