// What every operation handler is given, and the lookups they share.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { retiredContent, type FunctionStore } from '../storage/function-store.ts';
import { functionArn, lambdaTimestamp, type FunctionRecord, type ServiceIdentity } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import type { ServiceResponse } from '../http-io.ts';
import type { ConcurrencyScheduler } from '../../scheduling/concurrency-scheduler.ts';
import type { FunctionInvoker } from '../invoker.ts';
import { functionNotFound, LambdaError } from '../lambda-error.ts';
import type { Operation } from '../router.ts';
import type { QueuedEvent } from '../../delivery/event-queue.ts';

export interface ServiceContext {
  store: FunctionStore;
  invoker: FunctionInvoker;
  identity: ServiceIdentity;
  scheduler: ConcurrencyScheduler;
  /** Told about every invoke and throttle (the /metrics counters). */
  invokeObserver?: InvokeObserver;
  /** Where Event invokes are queued (src/delivery/); absent: the service refuses them. */
  asyncInvokes?: AsyncIntake;
  /** Told when an event source mapping changed, so that its poller follows (src/delivery/mappings/mapping-runner.ts). */
  mappingChanges?: { changed(uuid: string): void };
  /** Where serve answers a function URL of this id (src/urls/); absent: FunctionUrl shows AWS's own host. */
  urlBase?: (urlId: string) => string;
}

/** Takes an accepted asynchronous event: resolves once it is stored to stay (then the caller is answered 202). */
export interface AsyncIntake {
  accept(event: QueuedEvent): Promise<void>;
}

/** What the invoke path reports, for metrics. */
export interface InvokeObserver {
  invoked(functionName: string, facts: { error: boolean; durationMs: number; coldStart: boolean; initDurationMs?: number; provisioned: boolean }): void;
  throttled(functionName: string, reason: string): void;
  /** The function was deleted: its series go. */
  forget?(functionName: string): void;
}

export interface ServiceRequest {
  /** The URL-decoded FunctionName path parameter. */
  functionName?: string;
  /** Layer routes: the URL-decoded LayerName and VersionNumber path parameters. */
  layerName?: string;
  layerVersion?: string;
  /** Alias routes: the URL-decoded alias Name path parameter. */
  aliasName?: string;
  /** Tag routes: the URL-decoded Resource (an ARN) path parameter. */
  resource?: string;
  /** Event source mapping routes: the URL-decoded UUID path parameter. */
  uuid?: string;
  /** RemovePermission: the URL-decoded StatementId path parameter. */
  statementId?: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The x-amzn-RequestId this request is answered with. */
  requestId: string;
  /** The operation the request was routed to. */
  operation?: Operation;
}

export type OperationHandler = (context: ServiceContext, request: ServiceRequest) => Promise<ServiceResponse>;

/** The operations whose not-found message names a missing unqualified function as `...:$LATEST`, as Lambda's do. */
const NOT_FOUND_AT_LATEST: ReadonlySet<Operation> = new Set(['Invoke', 'PutFunctionConcurrency']);

/**
 * The function a request names, at $LATEST: for the operations that act on $LATEST alone (the updates,
 * PublishVersion, ListVersionsByFunction, the function-wide settings). A published version or an alias as the
 * qualifier is answered 404 naming it, as lambkin has no AWS-recorded answer for them (reads and Invoke resolve
 * any qualifier: src/invocation/resolve-function.ts).
 */
export async function findFunction(context: ServiceContext, request: ServiceRequest): Promise<FunctionRecord> {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  const fn = await context.store.get(ref.name);
  if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) {
    const named = qualifier ?? (request.operation && NOT_FOUND_AT_LATEST.has(request.operation) ? '$LATEST' : undefined);
    throw functionNotFound(functionArn(context.identity, ref.name, named));
  }
  return fn;
}

/** What a new revision of a function's code or configuration gets: a RevisionId, and LastModified now. */
export function newRevision(): Pick<FunctionRecord, 'revisionId' | 'lastModified'> {
  return { revisionId: randomUUID(), lastModified: lambdaTimestamp() };
}

/** Refuses an update written against an older revision (of a function or an alias), as Lambda does when RevisionId is given. */
export function checkRevision(current: { revisionId: string }, revisionId: unknown): void {
  if (revisionId === undefined || revisionId === null || revisionId === current.revisionId) return;
  throw new LambdaError(
    412,
    'PreconditionFailedException',
    'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
  );
}

/**
 * Writes `fn` over the stored function, as it is; ResourceNotFoundException when it was deleted since it was read. A
 * setting outside the function's code and configuration (reserved or provisioned concurrency) keeps the RevisionId,
 * so running environments are not retired.
 */
export async function saveFunction(context: ServiceContext, fn: FunctionRecord): Promise<void> {
  if (!(await context.store.update(fn))) throw functionNotFound(fn.arn);
}

/**
 * `before` was replaced by `after` (absent: deleted): its environments are retired, and the content only it used
 * (code, merged /opt) goes once they have stopped (asked before they are retired, so that the ones stopping now
 * are waited for too).
 */
export function retireRevision(context: ServiceContext, before: FunctionRecord, after?: FunctionRecord): void {
  context.store.retire?.(retiredContent(before, after), () => context.invoker.snapshot?.().environments ?? []);
  context.invoker.retire?.(before.name);
}
