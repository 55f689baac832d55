// One execution environment as a Docker container: the runtime runs in the container, its Runtime API is served
// here on the host by this environment's own RuntimeApiServer. The container's end is what ends the environment:
// it is reported to the server in Lambda's words, then the container is removed and the listener closed, so a
// dead environment leaves nothing behind.
//
// The engine may go away at any moment (restarted, stuck, its connection dropped), so nothing here waits on it
// unbounded: every request has a time limit (container-liveness.ts), an invoke ends at its deadline whatever the
// engine says, stop() returns within a fixed bound, and a container that could not be killed or removed while the
// engine was away is removed once it answers again (or, if this host stops first, by the next host's reaper).
import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { runtimeExitError, sandboxTimedOut } from '../runtime-api/errors.ts';
import { KILLED } from '../runtime-api/exit-words.ts';
import { DEFAULT_IDENTITY, functionArn } from '../runtime-api/function-arn.ts';
import { INIT_TIMEOUT_MS, InitWatchdog, SHUTDOWN_GRACE_MS } from '../runtime-api/lifecycle.ts';
import { reportedMb } from '../runtime-api/platform-log.ts';
import type { RuntimeApiServer } from '../runtime-api/server.ts';
import type { InitOutcome, InvokeOutcome } from '../runtime-api/types.ts';
import type { Environment, EnvironmentInvokeRequest, EnvironmentSpec, OutputListener } from './backend.ts';
import { CgroupPeak, containerPeakBytes } from './container-memory.ts';
import { ContainerWatch, engineCallSignal, pause, type ContainerEnd } from './container-liveness.ts';
import { engineStatus } from '../docker/errors.ts';
import { exitReason } from './exit-reason.ts';
import type { OutputLines } from './output-lines.ts';

/**
 * After the grace period, how long stop() still waits for the engine to confirm the container's end and removal
 * (SIGKILL, the exit, the last output, the removal: a few round trips of milliseconds on a healthy engine, each
 * bounded by ENGINE_CALL_TIMEOUT_MS). Past it stop() returns anyway, so a host's shutdown is bounded by the grace
 * plus this even when the engine is away; the removal goes on in the background, and the reaper of the next host
 * to start removes whatever is still left.
 */
export const STOP_REMOVAL_ALLOWANCE_MS = 3_000;
/** How long a dead container's last output may take to drain before it is removed anyway. */
const OUTPUT_DRAIN_MS = 1_000;
/**
 * An invoke the runtime never took (it died while the engine was away, so nobody told the Runtime API) ends this
 * long after its deadline. Small, and only a backstop: for an invoke the runtime took, the Runtime API's own
 * deadline timer fires first.
 */
const UNTAKEN_INVOKE_GRACE_MS = 100;
/**
 * Max Memory Used for REPORT: a reading the engine has not given within this is left out rather than hold up the
 * invoke's answer (the cgroup file, read first, needs no engine at all).
 */
const MEMORY_READING_TIMEOUT_MS = 1_000;
/** The longest pause between two attempts to remove a container the engine could not be reached for. */
const REMOVAL_RETRY_MAX_DELAY_MS = 5_000;
/**
 * How long such a container is still tried: an engine away longer than this is a restart or a move, and the reaper
 * of the next host to start (or this host's close()) removes what is left.
 */
const REMOVAL_RETRY_WINDOW_MS = 15 * 60_000;

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
  private readonly outputDone: Promise<void>;
  private readonly stopGraceMs: number;
  private readonly initWatchdog: InitWatchdog;
  private readonly functionArn: string;
  private readonly watch: ContainerWatch;
  private settleExited!: (reason: string) => void;
  /** Set the moment the container's end is known (or given up on), with the reason in Lambda's words. */
  private exitReasonSeen: string | undefined;
  /** The environment's end: the container gone, the listener closed. Started once. */
  private ending: Promise<void> | undefined;
  /** Removing the container, retried while the engine is away. Started once. */
  private removal: Promise<boolean> | undefined;
  private lastPeakBytes: number | undefined;
  /** The container's cgroup peak file, kept open while it runs. */
  private readonly peak: CgroupPeak;
  private stopping: Promise<void> | undefined;
  private resetSeen = false;

  constructor(options: DockerEnvironmentOptions) {
    this.container = options.container;
    this.id = options.container.id;
    this.spec = options.spec;
    this.server = options.server;
    this.output = options.output;
    this.outputDone = options.outputDone;
    this.stopGraceMs = options.stopGraceMs ?? SHUTDOWN_GRACE_MS;
    this.peak = new CgroupPeak(options.container.id, options.cgroupParent);
    this.exited = new Promise((resolve) => (this.settleExited = resolve));
    const { spec } = this;
    const qualifier = spec.functionVersion && spec.functionVersion !== '$LATEST' ? spec.functionVersion : undefined;
    this.functionArn = functionArn(spec.identity ?? DEFAULT_IDENTITY, spec.functionName, qualifier);

    // Past its deadline the handler may still be running: the environment is killed (the caller already has
    // Sandbox.Timedout), as Lambda resets the sandbox.
    this.server.on('timeout', () => void this.reset());

    this.initWatchdog = new InitWatchdog(this.server, spec.initTimeoutMs ?? INIT_TIMEOUT_MS, () => void this.reset());

    this.watch = new ContainerWatch(this.container);
    void this.watch.ended.then((end) => this.containerEnded(end));
  }

  /**
   * The runtime was reset rather than shut down: killed at a deadline (invoke or init), or it died on its own (a
   * crash, the memory limit). Lambda keeps such an environment's /tmp for its fresh runtime; the backend passes it
   * to the next environment of the same function revision.
   */
  get wasReset(): boolean {
    return this.resetSeen;
  }

  get isDead(): boolean {
    return this.exitReasonSeen !== undefined || this.removal !== undefined || this.server.needsReset;
  }

  waitForInit(): Promise<InitOutcome> {
    return this.server.waitForInit();
  }

  invoke(request: EnvironmentInvokeRequest): Promise<InvokeOutcome> {
    const requestId = request.requestId ?? randomUUID();
    // A dead environment's server dispatches nothing: answer now rather than queue an invoke nobody will take.
    if (this.isDead) {
      const reason = this.exitReasonSeen ?? 'the environment is shutting down';
      return Promise.resolve({ kind: 'runtime-exit', requestId, error: runtimeExitError(requestId, reason), durationMs: 0 });
    }
    const timeoutMs = request.timeoutMs ?? this.spec.timeoutSeconds * 1000;
    const answer = this.server.invoke({ ...request, requestId, timeoutMs, invokedFunctionArn: request.invokedFunctionArn ?? this.functionArn });
    return this.byDeadline(answer, requestId, timeoutMs);
  }

  stop(): Promise<void> {
    // Stopped once already dead (the pool hands back an environment whose runtime died during its invoke): a reset.
    if (this.stopping === undefined && this.isDead) this.resetSeen = true;
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** A deadline passed: the runtime is killed, a reset (wasReset) as Lambda's. */
  private reset(): Promise<void> {
    this.resetSeen = true;
    return this.kill();
  }

  /** SIGKILL; when the engine cannot be reached, the container is force-removed once it can. Never rejects. */
  async kill(): Promise<void> {
    if (this.exitReasonSeen !== undefined || this.removal) return;
    if (await this.signal('SIGKILL')) return;
    this.abandon();
  }

  async maxMemoryUsedMb(): Promise<number | undefined> {
    if (this.exitReasonSeen === undefined) {
      // The cgroup only exists while the container runs; the last reading stands in afterwards. A dead
      // environment's engine is not asked: it may be why the environment is dead, and REPORT must not wait on it.
      // Made only when the cgroup file does not answer: a timeout signal made per invoke costs a timer and, when it
      // fires unheeded, an exception.
      const engine = () => (this.isDead ? AbortSignal.abort() : AbortSignal.timeout(MEMORY_READING_TIMEOUT_MS));
      this.lastPeakBytes = (await containerPeakBytes(this.container, this.peak, engine)) ?? this.lastPeakBytes;
    }
    return this.lastPeakBytes === undefined ? undefined : reportedMb(this.lastPeakBytes);
  }

  onOutput(listener: OutputListener): () => void {
    return this.output.subscribe(listener);
  }

  /**
   * The invoke's answer, or at its deadline (counted from the end of the init, if it is still running) Lambda's
   * Sandbox.Timedout: a runtime that died without the engine saying so never takes the event, and the Runtime API's
   * own deadline only runs for an event the runtime took. The environment then serves no one again.
   */
  private byDeadline(answer: Promise<InvokeOutcome>, requestId: string, timeoutMs: number): Promise<InvokeOutcome> {
    let guard: NodeJS.Timeout | undefined;
    let answered = false;
    const late = new Promise<InvokeOutcome>((resolve) => {
      const arm = () => {
        if (answered) return;
        guard = setTimeout(() => resolve(this.untaken(requestId, timeoutMs)), timeoutMs + UNTAKEN_INVOKE_GRACE_MS);
      };
      if (this.initWatchdog.initEnded) arm();
      else void this.server.waitForInit().then(arm);
    });
    return Promise.race([answer, late]).finally(() => {
      answered = true;
      clearTimeout(guard);
    });
  }

  private untaken(requestId: string, timeoutMs: number): InvokeOutcome {
    const known = this.exitReasonSeen;
    // Nothing may take the event later: a runtime that comes back must not run an invoke already answered.
    this.server.runtimeExited(known ?? KILLED);
    void this.reset();
    if (known !== undefined) return { kind: 'runtime-exit', requestId, error: runtimeExitError(requestId, known), durationMs: timeoutMs };
    return { kind: 'timeout', requestId, error: sandboxTimedOut(requestId, timeoutMs), durationMs: timeoutMs };
  }

  /**
   * Lambda's shutdown: SIGTERM (the init as PID 1 passes it on), SIGKILL after the grace period, the container
   * removed. Returns within the grace plus STOP_REMOVAL_ALLOWANCE_MS whatever the engine does.
   */
  private async shutdown(): Promise<void> {
    const giveUp = pause(this.stopGraceMs + STOP_REMOVAL_ALLOWANCE_MS).then(() => false);
    let escalate: NodeJS.Timeout | undefined;
    if (this.ending === undefined && this.removal === undefined) {
      escalate = setTimeout(() => void this.kill(), this.stopGraceMs);
      // No answer to SIGTERM: the engine is away or stuck, so no grace either; removal from the first moment it answers.
      if (!(await this.signal('SIGTERM'))) this.abandon();
    }
    const ended = await Promise.race([this.exited.then(() => true), giveUp]);
    clearTimeout(escalate);
    if (!ended) {
      // The removal goes on in the background (this host's close() and the next host's reaper also look for it).
      void this.removeContainer();
      void this.end(`lost track of the container: the Docker engine did not confirm its end within ${this.stopGraceMs + STOP_REMOVAL_ALLOWANCE_MS} ms`);
    }
    await this.exited;
  }

  /** Sends a signal within ENGINE_CALL_TIMEOUT_MS; false when the engine did not take it. */
  private async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<boolean> {
    try {
      await this.container.kill({ signal, abortSignal: engineCallSignal() });
      return true;
    } catch (error) {
      // 404: already removed; 409: not running. Either way it is on its way out, and the watch reports it.
      const status = engineStatus(error);
      return status === 404 || status === 409;
    }
  }

  /** The engine could not be told to kill the container: the environment is dead now, and the container goes once the engine answers. */
  private abandon(): void {
    this.server.runtimeExited(KILLED);
    void this.removeContainer().then((removed) => {
      if (removed) this.containerEnded({ gone: true });
    });
  }

  /** The container stopped, or is gone: tell the Runtime API, let the output drain, remove the container. */
  private containerEnded(end: ContainerEnd): void {
    if (this.exitReasonSeen !== undefined) return;
    if (this.stopping === undefined) this.resetSeen = true; // it ended on its own: a crash, the memory limit
    const reason = 'gone' in end ? KILLED : exitReason(end);
    this.initWatchdog.cancel();
    this.exitReasonSeen = reason;
    this.peak.close();
    this.server.runtimeExited(reason);
    void (async () => {
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([this.outputDone, new Promise((resolve) => (drainTimer = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
      clearTimeout(drainTimer);
      await this.removeContainer();
      await this.end(reason);
    })();
  }

  /** The environment's end: no more watching, the listener closed, `exited` settled. Once. */
  private end(reason: string): Promise<void> {
    this.ending ??= (async () => {
      this.exitReasonSeen ??= reason;
      this.peak.close();
      this.initWatchdog.cancel();
      this.watch.close();
      await this.server.close();
      this.settleExited(this.exitReasonSeen);
    })();
    return this.ending;
  }

  /**
   * Removes the container, each attempt within ENGINE_CALL_TIMEOUT_MS, again and again while the engine is away
   * (for REMOVAL_RETRY_WINDOW_MS at most). Resolves true once it is gone, false when the window passed.
   */
  private removeContainer(): Promise<boolean> {
    this.removal ??= (async () => {
      const until = performance.now() + REMOVAL_RETRY_WINDOW_MS;
      let delay = 100;
      for (;;) {
        try {
          await this.container.remove({ force: true, v: true, abortSignal: engineCallSignal() });
          return true;
        } catch (error) {
          // 404: already gone; 409: being removed already (the reaper, another close()).
          const status = engineStatus(error);
          if (status === 404 || status === 409) return true;
        }
        if (performance.now() > until) return false;
        await pause(delay);
        delay = Math.min(delay * 2, REMOVAL_RETRY_MAX_DELAY_MS);
      }
    })();
    return this.removal;
  }
}
