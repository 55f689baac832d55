// An EnvironmentBackend with no engine behind it, for the pool's rules in unit tests: each start can be made to
// succeed, fail or hang (and be answered later), each environment's init to end ready, fail, exit or never end,
// after a delay on the (fake) clock; environments die on cue, and invokes answer with the environment's id so a
// test sees which environment served it. Every delay is a setTimeout, so vi.useFakeTimers() drives it all. It is
// also the engine's image store (ImageInspector): the images a test adds with addImage, by name.
import type { Environment, EnvironmentBackend, EnvironmentInvokeRequest, EnvironmentSpec, OutputListener } from '../../src/environments/backend.ts';
import { LambdaEnvironmentError } from '../../src/environments/errors.ts';
import type { ImageIdentity, ImageInspector } from '../../src/environments/image-facts.ts';
import type { InitOutcome, InvokeOutcome } from '../../src/runtime-api/types.ts';

/** How an environment's init phase ends, `afterMs` after its start (0: at once). */
export type InitPlan = { kind: 'ready' | 'init-error' | 'runtime-exit'; afterMs?: number } | { kind: 'hang' };

/** What one start() does. */
export type StartPlan =
  /** Resolves with an environment whose init goes as `init` says (the backend's default init when omitted). */
  | { kind: 'succeed'; init?: InitPlan }
  /** Rejects, as an engine that refuses the container does. */
  | { kind: 'fail'; error?: Error }
  /** Never answers until the test calls answer() or refuse() on the PendingStart in `backend.pending`. */
  | { kind: 'hang'; init?: InitPlan };

/** The answer an invoke gets; by default a success whose body names the environment and echoes the payload. */
export type InvokeAnswer = (request: EnvironmentInvokeRequest, environment: FakeEnvironment) => InvokeOutcome | Promise<InvokeOutcome>;

export interface FakeBackendOptions {
  /** How every environment's init ends unless its start plan says otherwise: ready at once by default. */
  init?: InitPlan;
  /** How long an invoke runs before it answers, ms: 0 by default. */
  invokeMs?: number;
  answer?: InvokeAnswer;
}

/** A start the test holds: answer() makes the environment (as a slow engine finally does), refuse() fails it. */
export interface PendingStart {
  spec: EnvironmentSpec;
  answer(): FakeEnvironment;
  refuse(error?: Error): void;
}

let nextId = 1;

export class FakeEnvironment implements Environment {
  readonly id = `fake-${nextId++}`;
  readonly spec: Readonly<EnvironmentSpec>;
  readonly exited: Promise<string>;
  /** The invokes delivered to it, in order. */
  readonly invokes: EnvironmentInvokeRequest[] = [];
  /** stop() was called (the pool's Lambda shutdown), as opposed to a death of its own. */
  stopped = false;
  private dead = false;
  private exitReason: string | undefined;
  private markExited!: (reason: string) => void;
  private readonly init: Promise<InitOutcome>;
  private endInit: ((outcome: InitOutcome) => void) | undefined;
  private readonly startedAt = performance.now();
  private readonly listeners = new Set<OutputListener>();
  private readonly inFlight = new Set<(outcome: InvokeOutcome) => void>();
  private readonly backend: FakeBackend;

  constructor(spec: EnvironmentSpec, init: InitPlan, backend: FakeBackend) {
    this.spec = spec;
    this.backend = backend;
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.init = new Promise((resolve) => (this.endInit = resolve));
    if (init.kind !== 'hang') {
      const end = () => this.endInitWith(init.kind);
      if (init.afterMs) setTimeout(end, init.afterMs);
      else queueMicrotask(end);
    }
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** Gone: stopped, killed or died. */
  get isGone(): boolean {
    return this.exitReason !== undefined;
  }

  /** The environment was started for provisioned concurrency (AWS_LAMBDA_INITIALIZATION_TYPE). */
  get provisioned(): boolean {
    return this.spec.initializationType === 'provisioned-concurrency';
  }

  waitForInit(): Promise<InitOutcome> {
    return this.init;
  }

  /** Delivers the invoke once the init is over (the Runtime API holds it until the runtime's first /next). */
  async invoke(request: EnvironmentInvokeRequest): Promise<InvokeOutcome> {
    this.invokes.push(request);
    const requestId = request.requestId ?? `request-${this.invokes.length}`;
    const init = await this.init;
    if (init.kind === 'init-error') return { kind: 'init-error', requestId, error: init.error, body: init.body, durationMs: 0 };
    if (this.dead) return exitOutcome(requestId, this.exitReason ?? 'exit status 1');
    return new Promise<InvokeOutcome>((resolve) => {
      const settle = (outcome: InvokeOutcome) => {
        this.inFlight.delete(settle);
        resolve(outcome);
      };
      this.inFlight.add(settle);
      const answer = () => void Promise.resolve(this.backend.answer(request, this)).then(settle);
      if (this.backend.invokeMs > 0) setTimeout(answer, this.backend.invokeMs);
      else answer();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.die('signal: terminated');
  }

  async kill(): Promise<void> {
    this.die('signal: killed');
  }

  /** The runtime exits on its own (a crash, an out-of-memory kill): the pool hears it through `exited`. */
  die(reason = 'exit status 1'): void {
    if (this.exitReason !== undefined) return;
    this.dead = true;
    this.exitReason = reason;
    this.endInit?.({ kind: 'runtime-exit', error: exitError(reason), initDurationMs: performance.now() - this.startedAt });
    for (const settle of [...this.inFlight]) settle(exitOutcome('in-flight', reason));
    this.markExited(reason);
  }

  /** Marks it dead without its exit yet (a timed-out invoke, before the kill lands). */
  markDead(): void {
    this.dead = true;
  }

  async maxMemoryUsedMb(): Promise<number | undefined> {
    return 64;
  }

  onOutput(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A line of the runtime's output. */
  print(line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.spec.onOutput?.({ stream, line }, this.spec.logStreamName ?? '');
    for (const listener of this.listeners) listener({ stream, line });
  }

  private endInitWith(kind: 'ready' | 'init-error' | 'runtime-exit'): void {
    const initDurationMs = performance.now() - this.startedAt;
    if (kind === 'ready') this.endInit?.({ kind, initDurationMs });
    else if (kind === 'init-error') {
      const error = { errorType: 'Runtime.InitError', errorMessage: 'the handler threw during init' };
      this.endInit?.({ kind, error, body: Buffer.from(JSON.stringify(error)), initDurationMs });
      this.dead = true; // an environment whose init failed serves no invoke after its first
    } else this.die('exit status 1');
    this.endInit = undefined;
  }
}

export class FakeBackend implements EnvironmentBackend, ImageInspector {
  /** Every environment a start made, in order (Init counts: one init per environment). */
  readonly environments: FakeEnvironment[] = [];
  /** Starts held by a `hang` plan, waiting for the test. */
  readonly pending: PendingStart[] = [];
  /** Calls of start(), whatever came of them. */
  starts = 0;
  closed = false;
  readonly invokeMs: number;
  readonly answer: InvokeAnswer;
  private readonly defaultInit: InitPlan;
  private readonly plans: StartPlan[] = [];
  private readonly images = new Map<string, ImageIdentity>();

  constructor(options: FakeBackendOptions = {}) {
    this.defaultInit = options.init ?? { kind: 'ready' };
    this.invokeMs = options.invokeMs ?? 0;
    this.answer = options.answer ?? echo;
  }

  /** What the next starts do, in order; once these are used up, starts succeed with the default init. */
  plan(...plans: StartPlan[]): this {
    this.plans.push(...plans);
    return this;
  }

  /** The environments not yet gone. */
  get running(): FakeEnvironment[] {
    return this.environments.filter((environment) => !environment.isGone);
  }

  /** The environments started for this function. */
  of(functionName: string): FakeEnvironment[] {
    return this.environments.filter((environment) => environment.spec.functionName === functionName);
  }

  async start(spec: EnvironmentSpec): Promise<Environment> {
    this.starts += 1;
    const plan = this.plans.shift() ?? { kind: 'succeed' };
    await Promise.resolve(); // an engine answers later, never in the same tick
    switch (plan.kind) {
      case 'fail':
        throw plan.error ?? new LambdaEnvironmentError('ServiceException', 'the fake engine refused the container');
      case 'hang':
        return new Promise<Environment>((resolve, reject) => {
          const pending: PendingStart = {
            spec,
            answer: () => {
              this.pending.splice(this.pending.indexOf(pending), 1);
              const environment = this.make(spec, plan.init);
              resolve(environment);
              return environment;
            },
            refuse: (error = new LambdaEnvironmentError('ServiceException', 'the fake engine gave up')) => {
              this.pending.splice(this.pending.indexOf(pending), 1);
              reject(error);
            },
          };
          this.pending.push(pending);
        });
      default:
        return this.make(spec, plan.init);
    }
  }

  /** The fake engine now has `name` (a tag, re-pointed when given again), as this image. */
  addImage(name: string, identity: ImageIdentity): this {
    this.images.set(name, identity);
    return this;
  }

  async inspectImage(image: string): Promise<ImageIdentity | undefined> {
    await Promise.resolve(); // an engine answers later, never in the same tick
    return this.images.get(image);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running.map((environment) => environment.stop()));
  }

  private make(spec: EnvironmentSpec, init: InitPlan | undefined): FakeEnvironment {
    const environment = new FakeEnvironment(spec, init ?? this.defaultInit, this);
    this.environments.push(environment);
    return environment;
  }
}

/** The default answer: which environment served the invoke, and the event it got. */
function echo(request: EnvironmentInvokeRequest, environment: FakeEnvironment): InvokeOutcome {
  const body = Buffer.from(JSON.stringify({ environment: environment.id, event: String(request.payload) }));
  return { kind: 'success', requestId: request.requestId ?? 'request', body, contentType: 'application/json', durationMs: 0 };
}

function exitError(reason: string) {
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: Error: Runtime exited with error: ${reason}` };
}

function exitOutcome(requestId: string, reason: string): InvokeOutcome {
  return { kind: 'runtime-exit', requestId, error: exitError(reason), durationMs: 0 };
}
