// An EnvironmentBackend without Docker: each environment is our Node.js runtime (runtime/bootstrap) run as a local
// process on the function's unpacked code, with the variables a container would get (container-spec.ts's
// environmentVariables: the reserved ones, credentials included, and the function's own). Under serve's own
// DockerInvoker and EnvironmentPool, a test drives the real serve path, from the spec to the runtime's process.env,
// for nodejs24.x zip functions.
import { createInterface } from 'node:readline';
import type { Environment, EnvironmentBackend, EnvironmentInvokeRequest, EnvironmentSpec, OutputListener } from '../../src/environments/backend.ts';
import { environmentVariables } from '../../src/environments/container-spec.ts';
import type { InitOutcome, InvokeOutcome } from '../../src/runtime-api/types.ts';
import { startRuntime, type RuntimeProcess } from './runtime-process.ts';

/** Where a container's runtime finds its code and API: the local process gets its own instead. */
const CONTAINER_PATHS = new Set(['AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', '_HANDLER']);

let nextId = 1;

class ProcessEnvironment implements Environment {
  readonly id = `process-${nextId++}`;
  readonly spec: Readonly<EnvironmentSpec>;
  readonly exited: Promise<string>;
  private readonly runtime: RuntimeProcess;
  private readonly listeners = new Set<OutputListener>();
  private dead = false;

  constructor(spec: EnvironmentSpec, runtime: RuntimeProcess) {
    this.spec = spec;
    this.runtime = runtime;
    this.exited = runtime.exited.then((exit) => {
      this.dead = true;
      return exit.signal ? `signal: ${exit.signal}` : `exit status ${exit.code ?? 0}`;
    });
    if (runtime.child.stdout) {
      createInterface({ input: runtime.child.stdout }).on('line', (line) => {
        spec.onOutput?.({ stream: 'stdout', line }, spec.logStreamName ?? '');
        for (const listener of this.listeners) listener({ stream: 'stdout', line });
      });
    }
  }

  get isDead(): boolean {
    return this.dead;
  }

  waitForInit(): Promise<InitOutcome> {
    return this.runtime.waitForInit();
  }

  async invoke(request: EnvironmentInvokeRequest): Promise<InvokeOutcome> {
    const outcome = await this.runtime.server!.invoke({ timeoutMs: this.spec.timeoutSeconds * 1000, ...request });
    if (outcome.kind === 'timeout' || outcome.kind === 'runtime-exit') await this.kill();
    return outcome;
  }

  async stop(): Promise<void> {
    this.dead = true;
    await this.runtime.stop();
  }

  kill(): Promise<void> {
    return this.stop();
  }

  async maxMemoryUsedMb(): Promise<number | undefined> {
    return undefined;
  }

  onOutput(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class ProcessBackend implements EnvironmentBackend {
  /** Every spec started, in order (tests read what the pool asked for). */
  readonly started: EnvironmentSpec[] = [];
  private readonly running = new Set<ProcessEnvironment>();

  async start(spec: EnvironmentSpec): Promise<Environment> {
    if (!spec.codeDirectory || !spec.handler) throw new Error(`the process backend runs zip functions only; ${spec.functionName} is not one`);
    this.started.push(spec);
    const variables = Object.entries(environmentVariables(spec, 'unused')).filter(([name]) => !CONTAINER_PATHS.has(name));
    const runtime = await startRuntime({ handler: spec.handler, taskRoot: spec.codeDirectory, env: Object.fromEntries(variables) });
    const environment = new ProcessEnvironment(spec, runtime);
    this.running.add(environment);
    void environment.exited.then(() => this.running.delete(environment));
    return environment;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((environment) => environment.stop()));
  }
}
