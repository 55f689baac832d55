// The runtime child process (the bootstrap), started with execa. Its exit is reported in the words Lambda uses
// in Runtime.ExitError (`exit status 1`, `signal: killed`: src/runtime-api/exit-words.ts), which is what callers
// search for.
import { execa, type ResultPromise } from 'execa';
import { exitStatusReason, signalReason } from '../runtime-api/exit-words.ts';

export interface RuntimeProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export class RuntimeProcess {
  /** Settles with the exit reason once the process is gone (never rejects). */
  readonly exited: Promise<string>;
  private readonly child: ResultPromise;

  constructor(options: RuntimeProcessOptions) {
    this.child = execa(options.command, options.args, {
      env: options.env,
      extendEnv: false,
      cwd: options.cwd,
      // The function's output goes straight to the container's output, as on Lambda: no copy through us.
      stdio: 'inherit',
      reject: false,
      // If the emulator itself dies, the runtime goes with it.
      cleanup: true,
      forceKillAfterDelay: false,
    });
    this.exited = this.child.then(
      (result) => exitReason(result, options.command),
      (error: unknown) => `fork/exec ${options.command}: ${String(error)}`,
    );
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
