// A FunctionInvoker that runs a zip function's extracted code with OUR runtime (runtime/bootstrap, Node 24) as a
// local child process against a real RuntimeApiServer: the service's Invoke path end to end, without Docker.
// One warm process per function revision; replaced after a timeout, a crash or an init failure, as an
// execution environment would be.
import { endLine, reportLine, startLine } from '../../src/runtime-api/platform-log.ts';
import type { FunctionRecord } from '../../src/service/function-record.ts';
import type { FunctionInvoker, InvokeCall, InvokeResult } from '../../src/service/invoker.ts';
import { startRuntime, type RuntimeProcess } from './runtime-process.ts';

interface WarmProcess {
  revisionId: string;
  runtime: RuntimeProcess;
}

export class ProcessInvoker implements FunctionInvoker {
  /** Every call received, in order (tests check what reached the invoker). */
  readonly calls: { fn: string; request: InvokeCall }[] = [];
  private readonly warm = new Map<string, WarmProcess>();

  async invoke(fn: FunctionRecord, request: InvokeCall): Promise<InvokeResult> {
    this.calls.push({ fn: fn.name, request });
    if (fn.code.kind !== 'zip' || fn.runtime !== 'nodejs24.x' || !fn.handler) {
      throw new Error(`the process invoker runs nodejs24.x zip functions only; ${fn.name} is not one`);
    }
    const process = await this.processFor(fn, fn.code.taskRoot, fn.handler);
    const runtime = process.runtime;
    const logStart = runtime.stdout().length;
    const outcome = await runtime.invoke(request.payload, {
      payload: request.payload,
      timeoutMs: fn.timeout * 1000,
      invokedFunctionArn: fn.arn,
      clientContext: request.clientContext,
      traceId: request.traceId,
    });
    // Logs travel through a pipe and the outcome through HTTP: give the pipe a moment to catch up.
    await settled(runtime);
    const output = runtime.stdout().slice(logStart);
    if (outcome.kind === 'timeout' || outcome.kind === 'runtime-exit' || outcome.kind === 'init-error') {
      await this.retire(fn.name);
    }
    const durationMs = 'durationMs' in outcome ? outcome.durationMs : 0;
    const logTail =
      startLine(outcome.requestId, '$LATEST') +
      output +
      endLine(outcome.requestId) +
      reportLine({ requestId: outcome.requestId, durationMs, memorySizeMb: fn.memorySize, maxMemoryUsedMb: undefined });
    return { outcome, logTail };
  }

  /** Stops every process: call from afterEach/afterAll. */
  async close(): Promise<void> {
    await Promise.all([...this.warm.keys()].map((name) => this.retire(name)));
  }

  private async processFor(fn: FunctionRecord, taskRoot: string, handler: string): Promise<WarmProcess> {
    const current = this.warm.get(fn.name);
    if (current && current.revisionId === fn.revisionId && current.runtime.isRunning()) return current;
    await this.retire(fn.name);
    const runtime = await startRuntime({
      handler,
      taskRoot,
      env: {
        ...fn.environment,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      },
    });
    const process = { revisionId: fn.revisionId, runtime };
    this.warm.set(fn.name, process);
    return process;
  }

  /** Stops the warm process of a function (updated, deleted, or its process died). */
  async retire(name: string): Promise<void> {
    const process = this.warm.get(name);
    this.warm.delete(name);
    await process?.runtime.stop();
  }
}

/** Resolves once the runtime's output has stopped growing for a short while (at most half a second). */
async function settled(runtime: RuntimeProcess): Promise<void> {
  const deadline = Date.now() + 500;
  let last = -1;
  while (Date.now() < deadline) {
    const length = runtime.stdout().length + runtime.stderr().length;
    if (length === last) return;
    last = length;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
