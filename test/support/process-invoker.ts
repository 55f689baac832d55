// A FunctionInvoker that runs a zip function's extracted code with OUR runtime (runtime/bootstrap, Node 24) as a
// local child process against a real RuntimeApiServer: the service's Invoke path end to end, without Docker.
// One warm process per function revision; replaced after a timeout, a crash or an init failure, as an
// execution environment would be. The invoke's log is framed as the service frames it (src/runtime-api/invoke-log.ts).
import { createInterface } from 'node:readline';
import { environmentKey } from '../../src/invocation/environment-key.ts';
import { InvokeLog } from '../../src/runtime-api/invoke-log.ts';
import { environmentRevision, type FunctionRecord } from '../../src/service/function-record.ts';
import type { FunctionInvoker, InvokeCall, InvokeResult } from '../../src/service/invoker.ts';
import { startRuntime, type RuntimeProcess } from './runtime-process.ts';

interface WarmProcess {
  revisionId: string;
  runtime: RuntimeProcess;
  /** Where the runtime's stdout lines go: the log of the invoke in flight. */
  log: InvokeLog | undefined;
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
    const log = new InvokeLog({ requestId: request.requestId, version: fn.version ?? '$LATEST', memorySizeMb: fn.memorySize });
    process.log = log;
    log.start();
    const outcome = await process.runtime.invoke(request.payload, {
      requestId: log.requestId,
      payload: request.payload,
      timeoutMs: fn.timeout * 1000,
      invokedFunctionArn: request.invokedFunctionArn ?? fn.arn,
      clientContext: request.clientContext,
      traceId: request.traceId,
    });
    await log.finish(
      outcome,
      async () => {
        if (process.log === log) process.log = undefined;
        if (outcome.kind === 'timeout' || outcome.kind === 'runtime-exit' || outcome.kind === 'init-error') await this.retire(environmentKey(fn));
        return { maxMemoryUsedMb: undefined };
      },
      { waitForOutput: request.logTail },
    );
    return { outcome, logTail: log.tail(), ...(outcome.kind === 'streaming' ? { finalLogTail: log.finalTail() } : {}) };
  }

  /** Stops every process: call from afterEach/afterAll. */
  async close(): Promise<void> {
    await Promise.all([...this.warm.keys()].map((name) => this.retire(name)));
  }

  private async processFor(fn: FunctionRecord, taskRoot: string, handler: string): Promise<WarmProcess> {
    // One warm process per version, as the pool keeps environments (src/invocation/environment-key.ts).
    const key = environmentKey(fn);
    const current = this.warm.get(key);
    if (current && current.revisionId === environmentRevision(fn) && current.runtime.isRunning()) return current;
    await this.retire(key);
    const runtime = await startRuntime({
      handler,
      taskRoot,
      env: {
        ...fn.environment,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: fn.version ?? '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      },
    });
    const process: WarmProcess = { revisionId: environmentRevision(fn), runtime, log: undefined };
    if (runtime.child.stdout) createInterface({ input: runtime.child.stdout }).on('line', (line) => process.log?.runtimeLine(line));
    this.warm.set(key, process);
    return process;
  }

  /** Stops the warm process of a function (updated, deleted, or its process died). */
  async retire(name: string): Promise<void> {
    const process = this.warm.get(name);
    this.warm.delete(name);
    await process?.runtime.stop();
  }
}
