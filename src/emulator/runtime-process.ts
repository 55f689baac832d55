// The runtime child process (the bootstrap), started with execa. Its exit is reported in the words Lambda uses
// in Runtime.ExitError (`exit status 1`, `signal: killed`: src/runtime-api/exit-words.ts), which is what callers
// search for. Like AWS's sandbox, it can give the runtime a telemetry log pipe as fd 3 (telemetry-log.ts).
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { exitStatusReason, signalReason } from '../runtime-api/exit-words.ts';
import { readTelemetryLog, type TelemetryLogOptions } from './telemetry-log.ts';

/** The runtime's fd for its telemetry log pipe, named in _LAMBDA_TELEMETRY_LOG_FD (AWS's sandbox gives 3 too). */
export const TELEMETRY_LOG_FD = 3;

export interface RuntimeProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Give the runtime a telemetry log pipe (fd 3, _LAMBDA_TELEMETRY_LOG_FD=3) and hand over what it writes there. */
  telemetry?: TelemetryLogOptions;
}

export class RuntimeProcess {
  /** Settles with the exit reason once the process is gone (never rejects). */
  readonly exited: Promise<string>;
  private readonly child: ResultPromise;

  constructor(options: RuntimeProcessOptions) {
    const { telemetry } = options;
    this.child = execa(options.command, options.args, {
      env: telemetry ? { ...options.env, _LAMBDA_TELEMETRY_LOG_FD: String(TELEMETRY_LOG_FD) } : options.env,
      extendEnv: false,
      cwd: options.cwd,
      // The function's output goes straight to the container's output, as on Lambda: no copy through us. Only the
      // telemetry pipe is read here; nothing is buffered (it is read as it comes, for the runtime's whole life).
      stdio: telemetry ? ['inherit', 'inherit', 'inherit', 'pipe'] : 'inherit',
      buffer: false,
      reject: false,
      // If the emulator itself dies, the runtime goes with it.
      cleanup: true,
      forceKillAfterDelay: false,
    });
    this.exited = this.child.then(
      (result) => exitReason(result, options.command),
      (error: unknown) => `fork/exec ${options.command}: ${String(error)}`,
    );
    const pipe = this.child.stdio[TELEMETRY_LOG_FD] as Readable | undefined;
    if (telemetry && pipe) readTelemetryLog(pipe, telemetry);
  }

  /**
   * Resolves once the telemetry records the runtime wrote before now have been handed over. A runtime writes its
   * records before it answers, but the pipe and the Runtime API's socket are read in whichever order the event loop
   * finds them ready in one poll: one turn of the loop (setImmediate runs after the poll phase) lets the pipe's
   * reads of that poll run, so END is not written ahead of the invoke's last lines.
   */
  telemetryCaughtUp(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills at once: used when the runtime must not go on (timeout). */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Lambda's shutdown: SIGTERM, then SIGKILL once the grace period is over. */
  async stop(graceMs: number): Promise<void> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

interface ExitResult {
  exitCode?: number | undefined;
  signal?: string | undefined;
  failed: boolean;
  code?: string | undefined;
  originalMessage?: string | undefined;
}

function exitReason(result: ExitResult, command: string): string {
  if (result.signal) return signalReason(result.signal);
  if (result.exitCode !== undefined) return exitStatusReason(result.exitCode);
  // The process never started (ENOENT, EACCES): say so the way Go's exec does.
  if (result.code === 'ENOENT') return `fork/exec ${command}: no such file or directory`;
  if (result.code === 'EACCES') return `fork/exec ${command}: permission denied`;
  return `fork/exec ${command}: ${result.originalMessage ?? 'failed to start'}`;
}
