// One execution environment as a Docker container: the runtime runs in the container, its Runtime API is served
// here on the host by this environment's own RuntimeApiServer. The container's exit is what ends the
// environment: it is reported to the server in Lambda's words, then the container is removed and the listener
// closed, so a dead environment leaves nothing behind.
import type Dockerode from 'dockerode';
import { runtimeExitError } from '../runtime-api/errors.ts';
import type { RuntimeApiServer } from '../runtime-api/server.ts';
import type { InitOutcome, InvokeOutcome } from '../runtime-api/types.ts';
import type { Environment, EnvironmentInvokeRequest, EnvironmentSpec, OutputListener } from './backend.ts';
import { bytesToMb, containerPeakBytes } from './container-memory.ts';
import { engineStatus } from './errors.ts';
import { exitReason } from './exit-reason.ts';
import type { OutputLines } from './output-lines.ts';

/** Lambda's init phase limit. */
export const INIT_TIMEOUT_MS = 10_000;
/** Lambda's grace between SIGTERM and SIGKILL at shutdown (with extensions; 500 ms without). */
export const SHUTDOWN_GRACE_MS = 2_000;
/** How long a dead container's last output may take to drain before it is removed anyway. */
const OUTPUT_DRAIN_MS = 1_000;

const DEFAULT_ACCOUNT_ID = '000000000000';

export interface DockerEnvironmentOptions {
  container: Dockerode.Container;
  server: RuntimeApiServer;
  spec: EnvironmentSpec;
  output: OutputLines;
  /** Settles when the container's output stream has ended. */
  outputDone: Promise<void>;
  stopGraceMs?: number;
  cgroupParent?: string;
}

export class DockerEnvironment implements Environment {
  readonly id: string;
  readonly spec: Readonly<EnvironmentSpec>;
  readonly exited: Promise<string>;
  private readonly container: Dockerode.Container;
  private readonly server: RuntimeApiServer;
  private readonly output: OutputLines;
  private readonly stopGraceMs: number;
  private readonly cgroupParent: string | undefined;
  private readonly initTimer: NodeJS.Timeout;
  private readonly functionArn: string;
  /** Set the moment the container's exit is known. */
  private exitReasonSeen: string | undefined;
  private lastPeakBytes: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: DockerEnvironmentOptions) {
    this.container = options.container;
    this.id = options.container.id;
    this.spec = options.spec;
    this.server = options.server;
    this.output = options.output;
    this.stopGraceMs = options.stopGraceMs ?? SHUTDOWN_GRACE_MS;
    this.cgroupParent = options.cgroupParent;
    const { spec } = this;
    const qualifier = spec.functionVersion && spec.functionVersion !== '$LATEST' ? `:${spec.functionVersion}` : '';
    this.functionArn = `arn:aws:lambda:${spec.region ?? 'us-east-1'}:${spec.accountId ?? DEFAULT_ACCOUNT_ID}:function:${spec.functionName}${qualifier}`;

    // Past its deadline the handler may still be running: the environment is killed (the caller already has
    // Sandbox.Timedout), as Lambda resets the sandbox.
    this.server.on('timeout', () => void this.kill());

    const initTimeoutMs = spec.initTimeoutMs ?? INIT_TIMEOUT_MS;
    this.initTimer = setTimeout(() => {
      this.server.abandonInit({
        errorType: 'Sandbox.Timedout',
        errorMessage: `Error: Runtime init timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`,
      });
      void this.kill();
    }, initTimeoutMs);
    void this.server.waitForInit().then(() => clearTimeout(this.initTimer));

    this.exited = this.watchExit(options.outputDone);
  }

  get isDead(): boolean {
    return this.exitReasonSeen !== undefined || this.server.needsReset;
  }

  waitForInit(): Promise<InitOutcome> {
    return this.server.waitForInit();
  }

  invoke(request: EnvironmentInvokeRequest): Promise<InvokeOutcome> {
    // A dead environment's server dispatches nothing: answer now rather than queue an invoke nobody will take.
    if (this.isDead) {
      const requestId = request.requestId ?? crypto.randomUUID();
      const reason = this.exitReasonSeen ?? 'the environment is shutting down';
      return Promise.resolve({ kind: 'runtime-exit', requestId, error: runtimeExitError(requestId, reason), durationMs: 0 });
    }
    return this.server.invoke({
      ...request,
      timeoutMs: request.timeoutMs ?? this.spec.timeoutSeconds * 1000,
      invokedFunctionArn: request.invokedFunctionArn ?? this.functionArn,
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  async kill(): Promise<void> {
    if (this.exitReasonSeen !== undefined) return;
    await this.signal('SIGKILL');
  }

  async maxMemoryUsedMb(): Promise<number | undefined> {
    if (this.exitReasonSeen === undefined) {
      // The cgroup only exists while the container runs; the last reading stands in afterwards.
      this.lastPeakBytes = (await containerPeakBytes(this.container, this.cgroupParent)) ?? this.lastPeakBytes;
    }
    return this.lastPeakBytes === undefined ? undefined : bytesToMb(this.lastPeakBytes);
  }

  onOutput(listener: OutputListener): () => void {
    return this.output.subscribe(listener);
  }

  /** Lambda's shutdown: SIGTERM (the init as PID 1 passes it on), SIGKILL after the grace period. */
  private async shutdown(): Promise<void> {
    if (this.exitReasonSeen === undefined) {
      await this.signal('SIGTERM');
      const escalate = setTimeout(() => void this.kill(), this.stopGraceMs);
      await this.exited;
      clearTimeout(escalate);
    }
    await this.exited;
  }

  private async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    try {
      await this.container.kill({ signal });
    } catch (error) {
      // 404: already removed; 409: not running. Either way it is on its way out, and wait() reports it.
      const status = engineStatus(error);
      if (status !== 404 && status !== 409) throw error;
    }
  }

  private async watchExit(outputDone: Promise<void>): Promise<string> {
    let reason: string;
    try {
      const result = (await this.container.wait()) as { StatusCode?: number };
      reason = await this.readExitReason(result.StatusCode ?? -1);
    } catch (error) {
      reason = `lost track of the container (${error instanceof Error ? error.message : String(error)})`;
    }
    clearTimeout(this.initTimer);
    this.exitReasonSeen = reason;
    this.server.runtimeExited(reason);

    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([outputDone, new Promise((resolve) => (drainTimer = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
    clearTimeout(drainTimer);
    await this.container.remove({ force: true, v: true }).catch(() => {
      // Already gone, or being removed by the reaper: nothing to do.
    });
    await this.server.close();
    return reason;
  }

  /** OOMKilled only shows in inspect (wait() says 137 either way), so ask before the container is removed. */
  private async readExitReason(statusCode: number): Promise<string> {
    try {
      const info = await this.container.inspect();
      return exitReason({ exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled });
    } catch {
      return exitReason({ exitCode: statusCode, oomKilled: false });
    }
  }
}
