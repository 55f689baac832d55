// One invoke's log as the platform frames it: START, the runtime's output, END, REPORT (each line's format is in
// platform-log.ts). The emulator, the service's invoker and the tests' process invoker all frame an invoke with
// this, so when END and REPORT are written (for a streamed answer, when the stream ends), what REPORT carries, and
// how the tail for X-Amz-Log-Result is kept are decided in one place. Each caller still decides when START goes
// out (the service's, after a cold start's init) and which REPORT shows an Init Duration.
import { endLine, reportLine, startLine } from './platform-log.ts';
import type { InvokeOutcome } from './types.ts';

/** X-Amz-Log-Result carries the last 4 KB: no need to keep more of an invoke's log than that. */
const LOG_TAIL_CHARS = 4_096;
/**
 * The runtime's output travels one way (a container's attach stream, a pipe), its answer another (the Runtime API):
 * the last lines can trail the answer. When the caller wants the log tail, END waits until the output has been
 * quiet for OUTPUT_QUIET_MS (at most OUTPUT_WAIT_MS); otherwise nothing waits, and a trailing line reaches its
 * sink after END. On a busy machine (the full test suite in parallel, on a slow day of this project's 2-core
 * machine) a line was seen more than 25 ms behind its answer, so a tail missed the handler's own line: 100 ms of
 * quiet costs a caller who asks for the tail (aws lambda invoke --log-type Tail) 100 ms, and every other caller
 * nothing.
 */
const OUTPUT_QUIET_MS = 100;
const OUTPUT_WAIT_MS = 1_000;

export interface InvokeLogOptions {
  requestId: string;
  /** The function version START names (`$LATEST`). */
  version: string;
  memorySizeMb: number;
  /** Receives each platform line (START, END, REPORT, with its newline) as it is written. */
  write?: (line: string) => void;
}

/** What REPORT says beyond the duration, known once the invoke is over. */
export interface ReportFacts {
  /** Measured peak, in MB; undefined when it could not be measured. */
  maxMemoryUsedMb: number | undefined;
  /** Only on the REPORT that follows an environment's init. */
  initDurationMs?: number | undefined;
}

export interface FinishOptions {
  /** The caller wants the log tail: a buffered answer's END waits for the output to go quiet. */
  waitForOutput?: boolean;
}

export class InvokeLog {
  readonly requestId: string;
  private readonly version: string;
  private readonly memorySizeMb: number;
  private readonly write: ((line: string) => void) | undefined;
  /** A streamed answer's END and REPORT, written once its runtime has finished it. */
  private closing: Promise<void> | undefined;
  /** The tail: platform lines and, at the end, the runtime's. Only the last LOG_TAIL_CHARS are kept. */
  private text = '';
  private readonly output: string[] = [];
  private lastOutputAt = performance.now();

  constructor(options: InvokeLogOptions) {
    this.requestId = options.requestId;
    this.version = options.version;
    this.memorySizeMb = options.memorySizeMb;
    this.write = options.write;
  }

  start(): void {
    this.platform(startLine(this.requestId, this.version));
  }

  /** A line of the runtime's output (without its newline): it goes into the tail between START and END. */
  runtimeLine(line: string): void {
    this.output.push(line);
    this.lastOutputAt = performance.now();
  }

  /**
   * END and REPORT, once the invoke is over: now for a buffered answer, when the runtime has finished the stream for
   * a streamed one (its caller reads the stream meanwhile). `ended` is called first, at that moment (after the
   * output has gone quiet, when asked): the caller stops collecting output, measures, hands the environment back,
   * and returns what REPORT adds. Resolves once a buffered answer's REPORT is written; at once for a streamed one.
   */
  async finish(outcome: InvokeOutcome, ended: () => ReportFacts | Promise<ReportFacts>, options: FinishOptions = {}): Promise<void> {
    if (outcome.kind === 'streaming') {
      this.closing = outcome.end.then(
        ({ durationMs }) => this.close(durationMs, ended),
        () => this.close(0, ended),
      );
      return;
    }
    if (options.waitForOutput) await this.quiet();
    await this.close(outcome.durationMs, ended);
  }

  /** The log so far (its last 4 KB at least): START alone until a streamed answer has ended. */
  tail(): string {
    return this.text;
  }

  /** The whole invoke's log (its last 4 KB at least), once END and REPORT are written: a streamed answer's too. */
  async finalTail(): Promise<string> {
    await this.closing?.catch(() => undefined);
    return this.text;
  }

  private async close(durationMs: number, ended: () => ReportFacts | Promise<ReportFacts>): Promise<void> {
    const facts = await ended();
    for (const line of this.output) this.append(`${line}\n`);
    this.platform(endLine(this.requestId));
    this.platform(reportLine({ requestId: this.requestId, durationMs, memorySizeMb: this.memorySizeMb, ...facts }));
  }

  /** Waits for the output to go quiet: the last lines may trail the answer. */
  private async quiet(): Promise<void> {
    const now = performance.now();
    const giveUpAt = now + OUTPUT_WAIT_MS;
    // Quiet counts from the answer too: a line may not have arrived at all yet.
    this.lastOutputAt = Math.max(this.lastOutputAt, now);
    while (performance.now() - this.lastOutputAt < OUTPUT_QUIET_MS && performance.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, OUTPUT_QUIET_MS));
    }
  }

  private platform(line: string): void {
    this.append(line);
    this.write?.(line);
  }

  private append(text: string): void {
    this.text += text;
    if (this.text.length > 2 * LOG_TAIL_CHARS) this.text = this.text.slice(-LOG_TAIL_CHARS);
  }
}
