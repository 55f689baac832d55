// `awslambda.InvokeStore`: the per-invoke store that AWS's client publishes for libraries (the AWS SDK v3 and
// Powertools read the request id and X-Ray trace id from it through @aws/lambda-invoke-store, whose
// getInstanceAsync() returns the global instance when there is one). Same API and same answers as AWS's
// single-concurrency store (aws-lambda-ric 4.x with @aws/lambda-invoke-store 0.2): the context is one module
// variable replaced at the start of each invoke, not an AsyncLocalStorage. AWS uses AsyncLocalStorage only
// with AWS_LAMBDA_MAX_CONCURRENCY (several invokes at once per process), which lambkin does not run; so work an
// invoke leaves behind sees the next invoke's ids, and between invokes the last one's, exactly as on AWS.
// Installing a context costs one small object per invoke.

/** The keys under which the runtime stores its own fields; user code cannot set them. */
const PROTECTED_KEYS = {
  REQUEST_ID: Symbol.for('_AWS_LAMBDA_REQUEST_ID'),
  X_RAY_TRACE_ID: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  TENANT_ID: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
} as const;

type StoreContext = Record<string | symbol, unknown>;

export class InvokeStore {
  static readonly PROTECTED_KEYS = PROTECTED_KEYS;
  #context: StoreContext | undefined;

  /** The context of the invoke in flight (or of the last one), undefined before the first. */
  getContext(): StoreContext | undefined {
    return this.#context;
  }

  hasContext(): boolean {
    return this.#context !== undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    return this.#context?.[key] as T | undefined;
  }

  /** Stores a user value for this invoke; the runtime's own keys are refused, as AWS refuses them. */
  set<T = unknown>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    this.#context ??= {};
    this.#context[key] = value;
  }

  /** Makes `context` the current one and runs `fn` (AWS's single-concurrency semantics: it stays current after). */
  run<T>(context: StoreContext, fn: () => T): T {
    this.#context = context;
    return fn();
  }

  /** The request id of the invoke in flight; "-" before the first invoke. */
  getRequestId(): string {
    return (this.#context?.[PROTECTED_KEYS.REQUEST_ID] as string | undefined) ?? '-';
  }

  getXRayTraceId(): string | undefined {
    return this.#context?.[PROTECTED_KEYS.X_RAY_TRACE_ID] as string | undefined;
  }

  getTenantId(): string | undefined {
    return this.#context?.[PROTECTED_KEYS.TENANT_ID] as string | undefined;
  }

  protected isProtectedKey(key: string | symbol): boolean {
    return key === PROTECTED_KEYS.REQUEST_ID || key === PROTECTED_KEYS.X_RAY_TRACE_ID || key === PROTECTED_KEYS.TENANT_ID;
  }
}

export const invokeStore = new InvokeStore();

/** Called by the invoke loop before the handler runs: what the store answers until the next invoke. */
export function enterInvoke(requestId: string, traceId: string | undefined, tenantId: string | undefined): void {
  invokeStore.run(
    {
      [PROTECTED_KEYS.REQUEST_ID]: requestId,
      [PROTECTED_KEYS.X_RAY_TRACE_ID]: traceId,
      [PROTECTED_KEYS.TENANT_ID]: tenantId,
    },
    noop,
  );
}

const noop = (): void => {};
