// The one way to run a function, whichever front asks (the Lambda API's Invoke today; asynchronous workers, event
// source pollers and function URLs next): resolve the FunctionName and Qualifier to a version (an alias picks one of
// its versions per invoke), admit the invoke under the function's concurrency rules, run it on an environment of that
// version (the invoker reserves one) and hand back a typed outcome with the version that ran. Refusals (not found,
// not active, throttled, an environment that cannot be had) are thrown as LambdaErrors, in one place.
import type { InvokeObserver } from '../service/handlers/context.ts';
import type { FunctionRecord, ServiceIdentity } from '../service/function-record.ts';
import { functionArn } from '../service/function-record.ts';
import { current, notActive } from '../service/function-lifecycle.ts';
import type { FunctionInvoker, InvokeCall, InvokeResult } from '../service/invoker.ts';
import type { FunctionStore } from '../service/storage/function-store.ts';
import type { ConcurrencyScheduler } from '../scheduling/concurrency-scheduler.ts';
import { lambdaErrorOf } from './invoke-errors.ts';
import { LATEST, resolveFunction, routedVersion, versionRecord, type ResolvedFunction } from './resolve-function.ts';
import { functionNotFound } from '../service/lambda-error.ts';

/** Where invokes run: the functions, the service's identity, the concurrency rules and what runs environments. */
export interface InvocationHome {
  store: FunctionStore;
  identity: ServiceIdentity;
  scheduler: ConcurrencyScheduler;
  invoker: FunctionInvoker;
  /** Told about every invoke and throttle (the /metrics counters). */
  invokeObserver?: InvokeObserver;
}

/** What a front asks for: the function as its caller named it, and the event with its id. */
export interface InvocationRequest {
  /** FunctionName as given (URL-decoded): a name, `name:qualifier`, a partial or a full ARN. */
  functionName: string;
  /** `?Qualifier=`, when given. */
  qualifier: string | null;
  /** The invoke itself; its invokedFunctionArn is filled in here. */
  call: Omit<InvokeCall, 'invokedFunctionArn'>;
}

/** A target found and ready to run: the version (already chosen for an alias) and the ARN the function sees. */
export interface InvocationTarget {
  /** The function's $LATEST record: where its function-wide settings live (event-invoke configs, concurrency). */
  latest: FunctionRecord;
  /** The qualifier the caller named (a version, an alias, `$LATEST`); absent when none. */
  qualifier?: string;
  /** The record of the version that will run. */
  fn: FunctionRecord;
  /** That version: `$LATEST` or its number (X-Amz-Executed-Version). */
  executedVersion: string;
  /** context.invokedFunctionArn: qualified as the caller qualified it. */
  invokedFunctionArn: string;
}

export interface InvocationResult extends InvokeResult {
  executedVersion: string;
}

/**
 * Finds what `functionName` and `qualifier` name and checks it can be invoked now (a Pending $LATEST cannot): the
 * version an alias routes this invoke to is chosen here. DryRun stops after this.
 */
export async function invocationTarget(home: InvocationHome, functionName: string, qualifier: string | null): Promise<InvocationTarget> {
  const resolved = await resolveFunction(home, functionName, qualifier, { notFoundQualifier: LATEST });
  const fn = await runnable(home, resolved);
  return {
    latest: resolved.latest,
    ...(resolved.qualifier !== undefined ? { qualifier: resolved.qualifier } : {}),
    fn,
    executedVersion: fn.version ?? LATEST,
    invokedFunctionArn: functionArn(home.identity, resolved.latest.name, resolved.qualifier),
  };
}

/** Runs one invoke through the whole path; the result's outcome may still be streaming (released at its end). */
export async function invokeFunction(home: InvocationHome, request: InvocationRequest): Promise<InvocationResult> {
  const target = await invocationTarget(home, request.functionName, request.qualifier);
  return runTarget(home, target, request.call);
}

/** Admits and runs an invoke of a target already found. */
export async function runTarget(home: InvocationHome, target: InvocationTarget, call: InvocationRequest['call']): Promise<InvocationResult> {
  const { fn } = target;
  const observer = home.invokeObserver;
  let admission;
  let result: InvokeResult;
  // Concurrency is counted per function across all its versions (reserved concurrency applies to the function as a
  // whole); it is admitted before any environment is touched, the scaling rate only when one must be started.
  try {
    admission = home.scheduler.admit(fn.name);
    result = await home.invoker.invoke(fn, { ...call, invokedFunctionArn: target.invokedFunctionArn }, { beforeColdStart: admission.coldStart });
  } catch (error) {
    admission?.release();
    const refusal = lambdaErrorOf(error, fn.name);
    if (refusal.status === 429) observer?.throttled(fn.name, String(refusal.fields.Reason ?? 'Unknown'));
    throw refusal;
  }
  const done = admission;
  const report = (durationMs: number, error: boolean) => {
    done.release();
    observer?.invoked(fn.name, {
      error,
      durationMs,
      coldStart: result.coldStart ?? false,
      provisioned: result.provisioned ?? false,
      ...(result.initDurationMs !== undefined ? { initDurationMs: result.initDurationMs } : {}),
    });
  };
  const { outcome } = result;
  // A streamed response is in flight until its runtime has finished it.
  if (outcome.kind === 'streaming') {
    outcome.end.then(
      ({ durationMs, trailers }) => report(durationMs, trailers.errorType !== undefined),
      () => report(0, true),
    );
  } else {
    report('durationMs' in outcome ? outcome.durationMs : 0, outcome.kind !== 'success');
  }
  return { ...result, executedVersion: target.executedVersion };
}

/** The record that runs: an alias's routed version, else the version named; $LATEST only once Active. */
async function runnable(home: InvocationHome, resolved: ResolvedFunction): Promise<FunctionRecord> {
  let version = resolved.version;
  let fn = resolved.fn;
  if (resolved.alias) {
    version = routedVersion(resolved.alias);
    if (version !== resolved.version) {
      const routed = await versionRecord(home.store, resolved.latest, version);
      if (!routed) throw functionNotFound(functionArn(home.identity, resolved.latest.name, version));
      fn = routed;
    }
  }
  if (version !== LATEST) return fn;
  // A Pending function is not invoked (function-lifecycle.ts); one whose update is in progress is, as in Lambda.
  const latest = await current(home, fn);
  if (latest.state === 'Pending') throw notActive(latest);
  return latest;
}
