// Where an environment's log lines go, filed as CloudWatch files them: per function (log group
// `/aws/lambda/<name>`) and per environment (log stream `YYYY/MM/DD/[$LATEST]<32 hex>`). `lambkin logs` reads
// them back; a persistent sink can implement the same interface later.
//
// An event is a line of the runtime's output, a platform line (START, END, REPORT), or a record of its telemetry
// log pipe: that one may hold newlines (a stack trace, a multi-line message) and stays one event, as in CloudWatch,
// timed when the runtime wrote it.
import type { TelemetryLevel } from '../runtime-api/telemetry-frames.ts';

/** What an event may carry besides its message. */
export interface LogEventFacts {
  /** When it was written, epoch ms; when it reaches the sink if omitted. */
  timestampMs?: number;
  level?: TelemetryLevel;
}

export interface LogSink {
  /** One event: a line without its newline, or a telemetry record (newlines inside it are part of it). */
  write(functionName: string, logStreamName: string, message: string, facts?: LogEventFacts): void;
}

export interface LogEvent {
  /** Epoch ms: when the runtime wrote the record, else when the line reached the host. */
  timestamp: number;
  message: string;
  /** A telemetry record's level. */
  level?: TelemetryLevel;
}

/** Lines kept per stream before the oldest are dropped: a long-running function must not eat the host's memory. */
const DEFAULT_MAX_LINES_PER_STREAM = 10_000;

/** Keeps the most recent lines of each stream in memory, for as long as the host runs. */
export class InMemoryLogSink implements LogSink {
  private readonly groups = new Map<string, Map<string, LogEvent[]>>();
  private readonly maxLinesPerStream: number;

  constructor(options: { maxLinesPerStream?: number } = {}) {
    this.maxLinesPerStream = options.maxLinesPerStream ?? DEFAULT_MAX_LINES_PER_STREAM;
  }

  write(functionName: string, logStreamName: string, message: string, facts: LogEventFacts = {}): void {
    let streams = this.groups.get(functionName);
    if (!streams) this.groups.set(functionName, (streams = new Map()));
    let events = streams.get(logStreamName);
    if (!events) streams.set(logStreamName, (events = []));
    events.push({ timestamp: facts.timestampMs ?? Date.now(), message, ...(facts.level ? { level: facts.level } : {}) });
    if (events.length > this.maxLinesPerStream) events.splice(0, events.length - this.maxLinesPerStream);
  }

  /** The function's log stream names, oldest first. */
  streams(functionName: string): string[] {
    return [...(this.groups.get(functionName)?.keys() ?? [])];
  }

  /** One stream's lines, oldest first (all of the function's streams, in stream order, when none is named). */
  events(functionName: string, logStreamName?: string): LogEvent[] {
    const streams = this.groups.get(functionName);
    if (!streams) return [];
    if (logStreamName !== undefined) return [...(streams.get(logStreamName) ?? [])];
    return [...streams.values()].flat();
  }
}
