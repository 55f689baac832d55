// LambdaApiServer: the Lambda API over HTTP (node:http), as @aws-sdk/client-lambda and the AWS CLI speak it.
// Routing, body limits and error answers live here; each operation is a handler in handlers/.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AsyncDelivery, type DeliveryObserver, type ResultSink } from '../delivery/async-delivery.ts';
import { newEvent, type EventQueue } from '../delivery/event-queue.ts';
import { MappingRunner, type MappingStatus } from '../delivery/mappings/mapping-runner.ts';
import type { MappingSource, PollerDeps, PollerFactory } from '../delivery/mappings/mapping.ts';
import { invocationTarget } from '../invocation/invoke-function.ts';
import { asyncSettingsFor } from './event-invoke-config.ts';
import { DEFAULT_IDENTITY, type ServiceIdentity } from './function-record.ts';
import type { FunctionStore } from './storage/function-store.ts';
import type { PoolSnapshot } from '../environments/pool-snapshot.ts';
import { ConcurrencyScheduler } from '../scheduling/concurrency-scheduler.ts';
import { buildStatus, STATUS_PATH } from './status.ts';
import { allFunctions, deleteFunctionConcurrency, getAccountSettings, getFunctionConcurrency, putFunctionConcurrency } from './handlers/concurrency.ts';
import { createFunction } from './handlers/create-function.ts';
import type { InvokeObserver, OperationHandler, ServiceContext } from './handlers/context.ts';
import { allocationOf, applyAllocation, migrateLegacyProvisioned, provisionedVersions } from './handlers/provisioned-allocation.ts';
import {
  deleteProvisionedConcurrencyConfig,
  getProvisionedConcurrencyConfig,
  listProvisionedConcurrencyConfigs,
  putProvisionedConcurrencyConfig,
} from './handlers/provisioned-concurrency.ts';
import { createAlias, deleteAlias, getAlias, listAliases, updateAlias } from './handlers/aliases.ts';
import {
  createFunctionUrlConfig,
  deleteFunctionUrlConfig,
  getFunctionUrlConfig,
  listFunctionUrlConfigs,
  updateFunctionUrlConfig,
} from './handlers/function-urls.ts';
import {
  deleteFunctionEventInvokeConfig,
  getFunctionEventInvokeConfig,
  listFunctionEventInvokeConfigs,
  putFunctionEventInvokeConfig,
  updateFunctionEventInvokeConfig,
} from './handlers/event-invoke-config.ts';
import {
  createEventSourceMapping,
  deleteEventSourceMapping,
  getEventSourceMapping,
  listEventSourceMappings,
  updateEventSourceMapping,
} from './handlers/event-source-mappings.ts';
import { invoke, invokeAsync } from './handlers/invoke.ts';
import { invokeWithResponseStream } from './handlers/invoke-with-response-stream.ts';
import { deleteLayerVersion, getLayerVersion, getLayerVersionByArn, listLayers, listLayerVersions, publishLayerVersion } from './handlers/layers.ts';
import { deleteFunction, getFunction, getFunctionConfiguration, listFunctions } from './handlers/read-functions.ts';
import { addPermission, getPolicy, removePermission } from './handlers/permissions.ts';
import { listTags, tagResource, untagResource } from './handlers/tags.ts';
import { updateFunctionCode, updateFunctionConfiguration } from './handlers/update-function.ts';
import { listVersionsByFunction, publishVersion } from './handlers/versions.ts';
import { sendError, sendResponse } from './http-io.ts';
import { BrowserGuard } from '../http/browser-guard.ts';
import { GracefulCloser, type ClosingAnswer } from '../http/graceful-close.ts';
import { answerOrCut, sendBody, sendJson, sendText } from '../http/headers.ts';
import { hostPort } from '../http/listen-tcp.ts';
import { readBodyUpTo } from '../http/read-body.ts';
import { requestUrl } from '../http/request-url.ts';
import { CALLER_FACING_SERVER_OPTIONS } from '../http/server-timeouts.ts';
import { TrackedServer } from '../http/tracked-server.ts';
import type { AuthKeys } from '../iam/auth-keys.ts';
import { KeyRing, type KeyLookup } from '../iam/sigv4-verifier.ts';
import { sigV4Check } from '../urls/url-auth.ts';
import { matchFunctionUrl } from '../urls/url-router.ts';
import { FunctionUrlServer } from '../urls/url-server.ts';
import { ApiAuth } from './api-auth.ts';
import type { FunctionInvoker } from './invoker.ts';
import { accessDenied, asLambdaError, serviceError, serviceShuttingDown, unknownOperation } from './lambda-error.ts';
import { checkRequest } from './model/check-request.ts';
import { checkInlineZipSize, requestLimit, requestOverLimit } from './request-limits.ts';
import { matchRoute, type Operation } from './router.ts';

/** An invoker without environments (tests running the runtime as a process) holds none. */
const EMPTY_POOL: PoolSnapshot = { memoryBudgetMb: Number.POSITIVE_INFINITY, memoryInUseMb: 0, environments: [], provisioned: [] };

const HANDLERS: Record<Operation, OperationHandler> = {
  CreateFunction: createFunction,
  ListFunctions: listFunctions,
  GetFunction: getFunction,
  GetFunctionConfiguration: getFunctionConfiguration,
  DeleteFunction: deleteFunction,
  UpdateFunctionCode: updateFunctionCode,
  UpdateFunctionConfiguration: updateFunctionConfiguration,
  Invoke: invoke,
  InvokeAsync: invokeAsync,
  InvokeWithResponseStream: invokeWithResponseStream,
  PutFunctionConcurrency: putFunctionConcurrency,
  GetFunctionConcurrency: getFunctionConcurrency,
  DeleteFunctionConcurrency: deleteFunctionConcurrency,
  PutProvisionedConcurrencyConfig: putProvisionedConcurrencyConfig,
  GetProvisionedConcurrencyConfig: getProvisionedConcurrencyConfig,
  ListProvisionedConcurrencyConfigs: listProvisionedConcurrencyConfigs,
  DeleteProvisionedConcurrencyConfig: deleteProvisionedConcurrencyConfig,
  GetAccountSettings: getAccountSettings,
  PublishLayerVersion: publishLayerVersion,
  ListLayerVersions: listLayerVersions,
  GetLayerVersion: getLayerVersion,
  GetLayerVersionByArn: getLayerVersionByArn,
  DeleteLayerVersion: deleteLayerVersion,
  ListLayers: listLayers,
  PublishVersion: publishVersion,
  ListVersionsByFunction: listVersionsByFunction,
  CreateAlias: createAlias,
  GetAlias: getAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTags: listTags,
  PutFunctionEventInvokeConfig: putFunctionEventInvokeConfig,
  UpdateFunctionEventInvokeConfig: updateFunctionEventInvokeConfig,
  GetFunctionEventInvokeConfig: getFunctionEventInvokeConfig,
  DeleteFunctionEventInvokeConfig: deleteFunctionEventInvokeConfig,
  ListFunctionEventInvokeConfigs: listFunctionEventInvokeConfigs,
  CreateEventSourceMapping: createEventSourceMapping,
  GetEventSourceMapping: getEventSourceMapping,
  UpdateEventSourceMapping: updateEventSourceMapping,
  DeleteEventSourceMapping: deleteEventSourceMapping,
  ListEventSourceMappings: listEventSourceMappings,
  CreateFunctionUrlConfig: createFunctionUrlConfig,
  GetFunctionUrlConfig: getFunctionUrlConfig,
  UpdateFunctionUrlConfig: updateFunctionUrlConfig,
  DeleteFunctionUrlConfig: deleteFunctionUrlConfig,
  ListFunctionUrlConfigs: listFunctionUrlConfigs,
  AddPermission: addPermission,
  GetPolicy: getPolicy,
  RemovePermission: removePermission,
};

export interface LambdaApiServerOptions {
  store: FunctionStore;
  invoker: FunctionInvoker;
  /** 127.0.0.1 by default. */
  host?: string;
  /** 0 (any free port) by default. */
  port?: number;
  /** The region and account in ARNs; us-east-1 and 123456789012 by default. */
  identity?: ServiceIdentity;
  /** Told about failures that are lambkin's own (answered as ServiceException). */
  onInternalError?: (error: unknown) => void;
  /** Told what the user should know about their data at start (a setting lambkin had to drop); stderr by default. */
  onWarning?: (message: string) => void;
  /** Concurrency limits; Lambda's defaults (1,000 for the account) when omitted. */
  scheduler?: ConcurrencyScheduler;
  /** Counts invokes and throttles, and renders GET /metrics (Prometheus text). */
  metrics?: ServiceMetricsSource;
  /**
   * Host names (beyond IP addresses, localhost, host.docker.internal, dotless names and this machine's name) that
   * callers may use to reach the API; `*.example.com` allows a whole domain. See src/http/browser-guard.ts.
   */
  allowedHosts?: readonly string[];
  /** How a refusal tells the user to allow another host name; the LAMBKIN_ALLOWED_HOSTS variable by default. */
  howToAllowHost?: (host: string) => string;
  /** The access keys AWS_IAM function URLs accept; serve's own credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) by default. */
  iamKeys?: KeyLookup;
  /**
   * `--auth sigv4`: the keys whose SigV4 signatures the Lambda API accepts, each request then authorised by IAM
   * policy (api-auth.ts). Absent: the API is open, as it always was. /metrics and /lambkin/status stay open.
   */
  apiAuth?: AuthKeys;
  /** Asynchronous (Event) invokes: where they are stored and where their results go. Absent: Event is refused. */
  asyncEvents?: AsyncEventsOptions;
  /** Event source mappings' pollers (a store with mappings runs them; src/delivery/mappings/mapping-runner.ts). */
  eventSourceMappings?: EventSourceMappingsOptions;
}

export interface EventSourceMappingsOptions {
  /** Streams' on-failure destinations: the Destinations asynchronous invokes use (src/delivery/destinations.ts). */
  destinations?: PollerDeps['destinations'];
  /** The poller for each source; lambkin's own (mapping-runner.ts DEFAULT_POLLERS) by default. */
  pollers?: Partial<Record<MappingSource, PollerFactory>>;
  /** How long a mapping stays Creating, Updating, ... after its poller changed: 0 ms by default. */
  settleMs?: number;
}

export interface AsyncEventsOptions {
  /** The durable queue (src/delivery/event-queue.ts); its creator closes it, after the server. */
  queue: EventQueue;
  /** Destinations and dead-letter queues (src/delivery/destination-results.ts); none: results are dropped. */
  results?: ResultSink;
  observer?: DeliveryObserver;
  /** Multiplies the retry delays and backoffs: 1 (AWS's) by default. */
  delayScale?: number;
}

export interface ServiceMetricsSource extends InvokeObserver {
  readonly contentType: string;
  render(): Promise<string>;
}

export class LambdaApiServer {
  private readonly http: TrackedServer;
  private readonly closer: GracefulCloser;
  private readonly browserGuard: BrowserGuard;
  private readonly context: ServiceContext;
  private readonly host: string;
  private readonly port: number;
  private readonly onInternalError: (error: unknown) => void;
  private readonly onWarning: (message: string) => void;
  private readonly metrics: ServiceMetricsSource | undefined;
  private readonly delivery: AsyncDelivery | undefined;
  private readonly mappingRunner: MappingRunner | undefined;
  private readonly functionUrls: FunctionUrlServer;
  private readonly apiAuth: ApiAuth | undefined;
  private boundPort: number | undefined;

  constructor(options: LambdaApiServerOptions) {
    this.context = {
      store: options.store,
      invoker: options.invoker,
      identity: options.identity ?? DEFAULT_IDENTITY,
      scheduler: options.scheduler ?? new ConcurrencyScheduler(),
      ...(options.metrics ? { invokeObserver: options.metrics } : {}),
      // Function URLs are answered on this same port, by their host name (src/urls/).
      urlBase: (urlId) => `http://${urlId}.lambda-url.${this.context.identity.region}.localhost:${this.boundPort ?? this.port}/`,
    };
    if (options.asyncEvents) {
      const { queue, results, observer, delayScale } = options.asyncEvents;
      this.delivery = new AsyncDelivery({
        queue,
        home: this.context,
        // The event-invoke config of the qualifier the event was sent to, and the dead-letter queue of the version run.
        settingsFor: (target, event) => asyncSettingsFor(target.latest, target.fn, event.qualifier),
        ...(results ? { results } : {}),
        ...(observer ? { observer } : {}),
        ...(delayScale !== undefined ? { delayScale } : {}),
      });
      this.context.asyncInvokes = this.delivery;
    }
    const { mappings, checkpoints } = options.store;
    if (mappings && checkpoints) {
      const { destinations, pollers, settleMs } = options.eventSourceMappings ?? {};
      this.mappingRunner = new MappingRunner({
        mappings,
        checkpoints,
        home: this.context,
        ...(destinations ? { destinations } : {}),
        ...(pollers ? { pollers } : {}),
        ...(settleMs !== undefined ? { settleMs } : {}),
        onError: (error) => this.onInternalError(error),
      });
      this.context.mappingChanges = this.mappingRunner;
    }
    this.apiAuth = options.apiAuth ? new ApiAuth(options.apiAuth, this.context.identity, () => this.context.store.policies) : undefined;
    const apiAuth = this.apiAuth;
    this.functionUrls = new FunctionUrlServer({
      home: this.context,
      urls: () => this.context.store.functionUrls,
      // Under --auth sigv4, AWS_IAM URLs accept the API's keys, and every URL request is authorised as AWS does.
      iam: sigV4Check(options.apiAuth?.lookup ?? options.iamKeys ?? KeyRing.fromEnvironment(this.context.identity.accountId).lookup),
      ...(apiAuth ? { authorise: (url, signer) => apiAuth.functionUrlAllowed(url, signer) } : {}),
      onInternalError: (error) => this.onInternalError(error),
    });
    this.metrics = options.metrics;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.onInternalError = options.onInternalError ?? (() => {});
    this.onWarning = options.onWarning ?? ((message) => process.stderr.write(`lambkin: warning: ${message}\n`));
    this.browserGuard = new BrowserGuard({
      serverName: "lambkin's Lambda API",
      allowedHosts: options.allowedHosts ?? [],
      howToAllow: options.howToAllowHost ?? ((host) => `allow it with LAMBKIN_ALLOWED_HOSTS=${host}`),
    });
    // Timeouts for receiving a request and for idle connections; none while an invoke runs (up to 15 minutes).
    this.http = new TrackedServer(CALLER_FACING_SERVER_OPTIONS, (req, res) => void this.handle(req, res));
    this.closer = new GracefulCloser(this.http, (res, why, graceMs) => this.answerWhileClosing(res, why, graceMs));
  }

  get scheduler(): ConcurrencyScheduler {
    return this.context.scheduler;
  }

  /** Starts listening (after restoring the stored functions' concurrency); resolves the base URL for the SDK. */
  async listen(): Promise<string> {
    await this.restoreConcurrency();
    this.boundPort = (await this.http.listen(this.port, this.host)).port;
    // What a previous run left queued is delivered again (at least once).
    this.delivery?.start();
    // Enabled mappings poll again, from where their checkpoints say.
    this.mappingRunner?.start();
    return this.url;
  }

  /**
   * Queues an asynchronous invoke of `functionName` (a name or an ARN, perhaps qualified), as an Event Invoke would:
   * a Lambda destination's record, sent by this same service. Refused (a LambdaError) as Invoke refuses it.
   */
  async invokeAsync(functionName: string, payload: Buffer): Promise<void> {
    if (!this.delivery) throw new Error('this Lambda API server takes no asynchronous invokes (no asyncEvents given)');
    const target = await invocationTarget(this.context, functionName, null);
    await this.delivery.accept(
      newEvent({
        requestId: randomUUID(),
        functionName: target.latest.name,
        ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
        payload,
      }),
    );
  }

  /** The event source mappings with their pollers' counts, for `lambkin status` and /metrics. */
  mappingStatus(): MappingStatus[] {
    return this.mappingRunner?.status() ?? [];
  }

  /** Resolves once every mapping change so far has reached its poller and settled (tests). */
  mappingsSettled(): Promise<void> {
    return this.mappingRunner?.settled() ?? Promise.resolve();
  }

  get url(): string {
    if (this.boundPort === undefined) throw new Error('LambdaApiServer.listen() has not completed');
    return `http://${hostPort(this.host, this.boundPort)}`;
  }

  /** Requests being served now (invokes included). */
  get requestsInFlight(): number {
    return this.closer.inFlightCount;
  }

  /**
   * Stops listening, lets the requests in flight finish for up to `graceMs` (0 by default: a quick stop), answers
   * any that arrive meanwhile on open connections with a 503 ServiceException, and those still running when the
   * grace runs out likewise; see src/http/graceful-close.ts. Resolves how many were still running then.
   */
  async close(options: { graceMs?: number } = {}): Promise<{ unfinished: number }> {
    const closed = await this.closer.close(options.graceMs ?? 0);
    // Asynchronous deliveries under way get the same grace; whatever is left stays queued for the next start.
    // Pollers stop with them: their batches in flight end, or go back to their source.
    await Promise.all([this.delivery?.stop(options.graceMs ?? 0), this.mappingRunner?.stop()]);
    return closed;
  }

  /**
   * Reserved and provisioned concurrency outlive a restart, as the functions do: the scheduler gets the
   * reservations back and the pool starts the provisioned environments again. A reservation the (perhaps lowered)
   * account limit can no longer hold is reported, and the function shares the unreserved pool meanwhile. Every
   * version's and alias's provisioned concurrency config is provisioned again; one on $LATEST (a data dir from before
   * versions) is reported and removed (provisioned-allocation.ts migrateLegacyProvisioned).
   */
  private async restoreConcurrency(): Promise<void> {
    for await (const fn of allFunctions(this.context)) {
      if (fn.reservedConcurrency !== undefined) {
        try {
          this.context.scheduler.setReserved(fn.name, fn.reservedConcurrency);
        } catch (error) {
          this.onInternalError(new Error(`function ${fn.name}: reserved concurrency not restored: ${(error as Error).message}`));
        }
      }
      const latest = await migrateLegacyProvisioned(this.context, fn, this.onWarning);
      await applyAllocation(this.context, latest, new Map(), await allocationOf(this.context, latest));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    // Every answer carries it, also one written by the closer when the service stops.
    res.setHeader('x-amzn-RequestId', requestId);
    if (!this.closer.admit(req, res)) return;
    // Function URLs answer browsers and decide CORS themselves (src/urls/url-router.ts says which requests are theirs).
    const functionUrl = matchFunctionUrl(req, this.context.identity.region);
    if (functionUrl) return this.functionUrls.serve(req, res, functionUrl, requestId);
    // Before anything else, /metrics and /lambkin/status included: the Lambda API never serves browsers.
    const refusal = this.browserGuard.check(req.headers);
    if (refusal) {
      req.resume();
      return sendError(res, accessDenied(refusal.message), requestId);
    }
    if (req.method === 'GET' && req.url === '/metrics' && this.metrics) return this.sendMetrics(res, this.metrics);
    if (req.method === 'GET' && req.url === STATUS_PATH) return this.sendStatus(res);
    try {
      const route = matchRoute(req.method ?? '', req.url ?? '/');
      if (!route) {
        req.resume();
        this.apiAuth?.checkUnrouted(req);
        throw unknownOperation(req.method ?? '', requestUrl(req.url).pathname);
      }
      const body = await readBodyUpTo(req, requestLimit(route.operation));
      if (body === undefined) throw requestOverLimit(route.operation);
      // Who asks, and whether they may, before what they ask is looked at (as AWS: a 403 before a 400).
      const authorising = this.apiAuth?.check(req, route, body);
      if (authorising) await authorising;
      checkInlineZipSize(route.operation, body);
      checkRequest(route, body, this.context.identity, req.headers);
      const response = await HANDLERS[route.operation](this.context, {
        functionName: route.functionName,
        ...(route.layerName !== undefined ? { layerName: route.layerName } : {}),
        ...(route.layerVersion !== undefined ? { layerVersion: route.layerVersion } : {}),
        ...(route.aliasName !== undefined ? { aliasName: route.aliasName } : {}),
        ...(route.resource !== undefined ? { resource: route.resource } : {}),
        ...(route.uuid !== undefined ? { uuid: route.uuid } : {}),
        ...(route.statementId !== undefined ? { statementId: route.statementId } : {}),
        query: route.query,
        headers: req.headers,
        body,
        requestId,
        operation: route.operation,
      });
      // Answered meanwhile: the service stopped before the request finished.
      if (res.writableEnded) return;
      sendResponse(res, response, requestId);
    } catch (error) {
      if (res.writableEnded) return;
      const answer = asLambdaError(error);
      if (!answer) this.onInternalError(error);
      answerOrCut(res, () => sendError(res, answer ?? serviceError(`Internal error: ${String(error)}`), requestId));
    }
  }

  private answerWhileClosing(res: ServerResponse, why: ClosingAnswer, graceMs: number): void {
    const message =
      why === 'closing'
        ? 'lambkin serve is shutting down: it takes no new requests; send this one again once it is back'
        : graceMs > 0
          ? `lambkin serve is shutting down: this request was still running when the ${graceMs / 1000} s shutdown grace period ran out`
          : 'lambkin serve is shutting down: this request was still running';
    sendError(res, serviceShuttingDown(message), String(res.getHeader('x-amzn-RequestId') ?? randomUUID()));
  }

  /** `lambkin status`: the functions, their environments, their queued asynchronous events, the mappings and the limits, as JSON. */
  private async sendStatus(res: ServerResponse): Promise<void> {
    try {
      const functions = [];
      for await (const fn of allFunctions(this.context)) {
        functions.push({
          name: fn.name,
          memorySize: fn.memorySize,
          ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
        });
        functions.push(...(await provisionedVersions(this.context, fn)));
      }
      const pool = this.context.invoker.snapshot?.() ?? EMPTY_POOL;
      const status = buildStatus(functions, pool, this.context.scheduler.snapshot(), Date.now(), this.delivery?.depths() ?? [], this.mappingStatus());
      if (res.writableEnded) return; // the service stopped meanwhile, and said so
      sendJson(res, 200, JSON.stringify(status));
    } catch (error) {
      this.onInternalError(error);
      answerOrCut(res, () => sendText(res, 500, `status unavailable: ${String(error)}\n`));
    }
  }

  private async sendMetrics(res: ServerResponse, metrics: ServiceMetricsSource): Promise<void> {
    try {
      const text = await metrics.render();
      if (res.writableEnded) return;
      sendBody(res, 200, metrics.contentType, text);
    } catch (error) {
      this.onInternalError(error);
      answerOrCut(res, () => sendText(res, 500, `metrics unavailable: ${String(error)}\n`));
    }
  }
}
