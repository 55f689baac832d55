// Where an environment's log lines go, filed as CloudWatch files them: per function (log group
// `/aws/lambda/<name>`) and per environment (log stream `YYYY/MM/DD/[$LATEST]<32 hex>`). `lambkin logs` reads
// them back; a persistent sink can implement the same interface later.

export interface LogSink {
  /** One line, without its newline: the runtime's output or a platform line (START, END, REPORT). */
  write(functionName: string, logStreamName: string, line: string): void;
}

export interface LogEvent {
  /** Epoch ms when the line reached the host. */
  timestamp: number;
  message: string;
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

  write(functionName: string, logStreamName: string, line: string): void {
    let streams = this.groups.get(functionName);
    if (!streams) this.groups.set(functionName, (streams = new Map()));
    let events = streams.get(logStreamName);
    if (!events) streams.set(logStreamName, (events = []));
    events.push({ timestamp: Date.now(), message: line });
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
