// The emulator: one execution environment inside a container. It serves the Runtime API (src/runtime-api) to a
// child bootstrap, starts that bootstrap as soon as the container starts (not on the first invoke), and replaces
// it after a timeout or a crash so the next invoke finds a fresh runtime.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { InvokeLog } from '../runtime-api/invoke-log.ts';
import { lambdaVariables } from '../runtime-api/runtime-variables.ts';
import { INIT_TIMEOUT_MS, InitWatchdog, SHUTDOWN_GRACE_MS } from '../runtime-api/lifecycle.ts';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import type { ErrorBody, InvokeOutcome } from '../runtime-api/types.ts';
import { chooseBootstrap, type BootstrapChoice } from './bootstrap.ts';
import { invokedFunctionArn, type EmulatorConfig } from './config.ts';
import { maxMemoryUsedMb } from './memory.ts';
import { RuntimeProcess } from './runtime-process.ts';
import { recordLine } from './telemetry-log.ts';

export interface EmulatorInvoke {
  payload: Buffer;
  clientContext?: string | undefined;
  traceId?: string | undefined;
}

export class Emulator {
  private readonly server: RuntimeApiServer;
  private readonly bootstrap: BootstrapChoice;
  private runtime: RuntimeProcess | undefined;
  private initWatchdog: InitWatchdog | undefined;
  /** Init Duration of the current runtime, until an invoke's REPORT has shown it. */
  private unreportedInitMs: number | undefined;
  private stopping = false;
  private readonly config: EmulatorConfig;
  private readonly out: Writable;

  constructor(config: EmulatorConfig, out: Writable = process.stdout) {
    this.config = config;
    this.out = out;
    this.server = new RuntimeApiServer({ host: config.runtimeApiHost, port: config.runtimeApiPort, maxConcurrency: config.maxConcurrency });
    this.bootstrap = chooseBootstrap(config);
    // A runtime still running when its deadline passes must not go on: kill it, and a new one replaces it.
    this.server.on('timeout', () => this.runtime?.kill());
  }

  /** Listens for the runtime and starts it, so the first invoke finds it initialised. */
  async start(): Promise<void> {
    await this.server.listen();
    if (!this.bootstrap.ok) {
      this.log(`${this.bootstrap.errorType}: ${this.bootstrap.message}`);
      return;
    }
    this.startRuntime();
  }

  /** `logTail`: the platform's lines of this invoke (the runtime's own go straight to the container's output). */
  async invoke(request: EmulatorInvoke): Promise<{ requestId: string; outcome: InvokeOutcome; logTail?: string }> {
    const requestId = randomUUID();
    if (!this.bootstrap.ok) {
      const error: ErrorBody = {
        errorType: this.bootstrap.errorType,
        errorMessage: `RequestId: ${requestId} Error: ${this.bootstrap.message}`,
      };
      return { requestId, outcome: { kind: 'init-error', requestId, error, body: Buffer.from(JSON.stringify(error)), durationMs: 0 } };
    }
    // A runtime that failed its init, or exited while idle, is started again by the next invoke (as Lambda does).
    // One that failed and has not finished exiting is not waited for: it will never ask for this event.
    if (this.server.needsReset) {
      this.runtime?.kill();
      this.runtime = undefined;
    }
    if (!this.runtime) this.startRuntime();

    // The runtime's output goes straight to the container's, its telemetry records through this.out as they are
    // read (startRuntime): only the platform's lines are written here.
    const log = new InvokeLog({
      requestId,
      version: this.config.functionVersion,
      memorySizeMb: this.config.memorySizeMb,
      write: (line) => this.out.write(line),
    });
    log.start();
    const outcome = await this.server.invoke({
      requestId,
      payload: request.payload,
      timeoutMs: this.config.timeoutMs,
      invokedFunctionArn: invokedFunctionArn(this.config),
      traceId: request.traceId,
      clientContext: request.clientContext,
    });
    const runtime = this.runtime;
    await log.finish(outcome, async () => {
      // The records the runtime wrote before it answered go out before END.
      await runtime?.telemetryCaughtUp();
      // Init Duration goes on the first REPORT after the runtime's init, and on no other.
      const initDurationMs = this.unreportedInitMs;
      this.unreportedInitMs = undefined;
      return { maxMemoryUsedMb: maxMemoryUsedMb(this.runtime?.pid), initDurationMs };
    });
    return { requestId, outcome, logTail: log.tail() };
  }

  /** Lambda's shutdown phase: SIGTERM to the runtime, SIGKILL after the grace period, then close. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.initWatchdog?.cancel();
    await this.runtime?.stop(SHUTDOWN_GRACE_MS);
    await this.server.close();
  }

  /** The address the runtime is given as AWS_LAMBDA_RUNTIME_API. */
  get runtimeApiAddress(): string {
    return this.server.address;
  }

  private startRuntime(): void {
    if (!this.bootstrap.ok || this.stopping) return;
    this.server.reset();
    const runtime = new RuntimeProcess({
      command: this.bootstrap.command,
      args: this.bootstrap.args,
      env: this.runtimeEnvironment(),
      cwd: existsSync(this.config.taskRoot) ? this.config.taskRoot : process.cwd(),
      // As AWS's sandbox does: a runtime that uses the pipe (aws-lambda-ric 4.x, ours) logs each record as one frame,
      // which goes to the container's log as one line; one that does not keeps writing to stdout.
      telemetry: {
        onRecord: (record) => this.out.write(recordLine(record)),
        onBroken: (error) => this.log(`the runtime's telemetry log pipe is not log frames (${error.message}): the rest of what it writes there is dropped`),
      },
    });
    this.runtime = runtime;
    this.unreportedInitMs = undefined;
    let initialised = false;

    this.initWatchdog = new InitWatchdog(this.server, INIT_TIMEOUT_MS, () => {
      this.log(`Init phase timed out after ${INIT_TIMEOUT_MS / 1000} seconds: the runtime never asked for an event`);
      runtime.kill();
    });
    void this.server.waitForInit().then((init) => {
      if (this.runtime !== runtime || init.kind !== 'ready') return;
      initialised = true;
      this.unreportedInitMs = init.initDurationMs;
    });

    void runtime.exited.then((reason) => {
      if (this.runtime !== runtime) return;
      this.runtime = undefined;
      this.server.runtimeExited(reason);
      if (this.stopping) return;
      this.log(`Runtime exited: ${reason}`);
      // One that had been serving is replaced at once; one that failed its init waits for the next invoke,
      // so a bootstrap that always fails cannot spin.
      if (initialised) this.startRuntime();
    });
  }

  /** The variables Lambda gives a runtime; the container's own (and the function's) are kept. */
  private runtimeEnvironment(): Record<string, string> {
    const { config } = this;
    const lambda = lambdaVariables({
      functionName: config.functionName,
      functionVersion: config.functionVersion,
      memorySizeMb: config.memorySizeMb,
      region: config.region,
      runtimeApi: this.server.address,
      taskRoot: config.taskRoot,
      runtimeDir: config.runtimeDir,
      handler: config.handler,
    });
    // The container's own variables win, except where the runtime must find this emulator and the handler asked for.
    const env: Record<string, string> = { ...lambda, ...definedOnly(process.env), AWS_LAMBDA_RUNTIME_API: this.server.address };
    if (config.handler) env._HANDLER = config.handler;
    return env;
  }

  private log(message: string): void {
    this.out.write(`${new Date().toISOString()} [lambkin emulator] ${message}\n`);
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
