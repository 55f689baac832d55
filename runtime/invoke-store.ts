// `awslambda.InvokeStore`: the per-invoke store that AWS's client publishes for libraries (the AWS SDK v3 and
// Powertools read the request id and X-Ray trace id from it through @aws/lambda-invoke-store, whose
// getInstanceAsync() returns the global instance when there is one), and that the runtime's logging reads the
// request id of each line from. Same API and same answers as AWS's two stores (aws-lambda-ric 4.x with
// @aws/lambda-invoke-store 0.2), picked as AWS picks them, by whether AWS_LAMBDA_MAX_CONCURRENCY is set:
// - one invoke at a time: the context is one variable replaced at the start of each invoke, not an
//   AsyncLocalStorage; work an invoke leaves behind sees the next invoke's ids, and between invokes the last
//   one's, exactly as on AWS. Installing a context costs one small object per invoke;
// - several at once (Lambda Managed Instances): an AsyncLocalStorage, so that each invoke, and everything it
//   starts (awaits, timers), sees its own ids; outside any invoke there is no context, and set() throws
//   "No context available" as AWS's does.
import { isMultiConcurrent } from './config.ts';

/** The keys under which the runtime stores its own fields; user code cannot set them. */
const PROTECTED_KEYS = {
  REQUEST_ID: Symbol.for('_AWS_LAMBDA_REQUEST_ID'),
  X_RAY_TRACE_ID: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  TENANT_ID: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
} as const;

type StoreContext = Record<string | symbol, unknown>;

const isProtectedKey = (key: string | symbol): boolean =>
  key === PROTECTED_KEYS.REQUEST_ID || key === PROTECTED_KEYS.X_RAY_TRACE_ID || key === PROTECTED_KEYS.TENANT_ID;

function refuseProtectedKey(key: string | symbol): void {
  if (isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
}

/** AWS's single-concurrency store. */
export class InvokeStore {
  static readonly PROTECTED_KEYS = PROTECTED_KEYS;
  #context: StoreContext | undefined;

  /** The context of the invoke in flight (or of the last one), undefined before the first. */
  getContext(): StoreContext | undefined {
    return this.#context;
  }

  hasContext(): boolean {
    return this.getContext() !== undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    return this.getContext()?.[key] as T | undefined;
  }

  /** Stores a user value for this invoke; the runtime's own keys are refused, as AWS refuses them. */
  set<T = unknown>(key: string | symbol, value: T): void {
    refuseProtectedKey(key);
    this.#context ??= {};
    this.#context[key] = value;
  }

  /** Makes `context` the current one and runs `fn` (AWS's single-concurrency semantics: it stays current after). */
  run<T>(context: StoreContext, fn: () => T): T {
    this.#context = context;
    return fn();
  }

  /** The request id of the invoke in flight; "-" before the first invoke (outside any, when several run at once). */
  getRequestId(): string {
    return (this.getContext()?.[PROTECTED_KEYS.REQUEST_ID] as string | undefined) ?? '-';
  }

  getXRayTraceId(): string | undefined {
    return this.getContext()?.[PROTECTED_KEYS.X_RAY_TRACE_ID] as string | undefined;
  }

  getTenantId(): string | undefined {
    return this.getContext()?.[PROTECTED_KEYS.TENANT_ID] as string | undefined;
  }

  protected isProtectedKey(key: string | symbol): boolean {
    return isProtectedKey(key);
  }
}

/** AWS's multi-concurrency store: each invoke's context follows its own asynchronous work. */
export class InvokeStoreMulti extends InvokeStore {
  // Loaded only in this mode: a single-concurrency runtime never pays for async_hooks.
  readonly #storage = new (process.getBuiltinModule('node:async_hooks').AsyncLocalStorage)<StoreContext>();

  override getContext(): StoreContext | undefined {
    return this.#storage.getStore();
  }

  override set<T = unknown>(key: string | symbol, value: T): void {
    refuseProtectedKey(key);
    const context = this.#storage.getStore();
    if (context === undefined) throw new Error('No context available');
    context[key] = value;
  }

  override run<T>(context: StoreContext, fn: () => T): T {
    return this.#storage.run(context, fn);
  }
}

export const invokeStore: InvokeStore = isMultiConcurrent() ? new InvokeStoreMulti() : new InvokeStore();

const invokeContext = (requestId: string, traceId: string | undefined, tenantId: string | undefined): StoreContext => ({
  [PROTECTED_KEYS.REQUEST_ID]: requestId,
  [PROTECTED_KEYS.X_RAY_TRACE_ID]: traceId,
  [PROTECTED_KEYS.TENANT_ID]: tenantId,
});

/** One invoke at a time: called before the handler runs, sets what the store answers until the next invoke. */
export function enterInvoke(requestId: string, traceId: string | undefined, tenantId: string | undefined): void {
  invokeStore.run(invokeContext(requestId, traceId, tenantId), noop);
}

/** Several invokes at once: runs `fn` (the start of an invoke) in the invoke's own context, which its work keeps. */
export function runInInvoke<T>(requestId: string, traceId: string | undefined, tenantId: string | undefined, fn: () => T): T {
  return invokeStore.run(invokeContext(requestId, traceId, tenantId), fn);
}

const noop = (): void => {};
