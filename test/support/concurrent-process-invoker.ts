// Runs invokes at once as Lambda's environments would: each on a ProcessInvoker not busy with another (a
// ProcessInvoker runs one invoke at a time, one warm process per function), so a batch's or a mapping's concurrency
// is the function's own.
import type { FunctionRecord } from '../../src/service/function-record.ts';
import type { FunctionInvoker, InvokeCall, InvokeResult } from '../../src/service/invoker.ts';
import { ProcessInvoker } from './process-invoker.ts';

export class ConcurrentProcessInvoker implements FunctionInvoker {
  readonly #idle: ProcessInvoker[] = [];
  readonly #all: ProcessInvoker[] = [];

  async invoke(fn: FunctionRecord, request: InvokeCall): Promise<InvokeResult> {
    let invoker = this.#idle.pop();
    if (!invoker) {
      invoker = new ProcessInvoker();
      this.#all.push(invoker);
    }
    try {
      return await invoker.invoke(fn, request);
    } finally {
      this.#idle.push(invoker);
    }
  }

  /** Stops every process: call from afterAll. */
  async close(): Promise<void> {
    await Promise.all(this.#all.map((invoker) => invoker.close()));
  }
}
