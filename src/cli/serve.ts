// `lambkin serve`: the local Lambda service. The Lambda API (LambdaApiServer) over a function registry in the data
// dir (SqliteFunctionStore), invoking through Docker execution environments (DockerInvoker over an
// EnvironmentPool), with every function's output filed under <dataDir>/logs for `lambkin logs`.
//
// Docker is asked first (DockerBackend.prepare()): without an engine the service could only answer every invoke
// with a ServiceException, so it refuses to start instead (exit 1), saying why. prepare() also reaps the
// containers a dead lambkin left on this machine (killed with -9), before anything new starts.
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { noEngineMessage } from '../docker/errors.ts';
import { CredentialedBackend } from '../environments/credentialed-backend.ts';
import { DockerBackend } from '../environments/docker-backend.ts';
import { FileLogSink } from '../environments/file-log-sink.ts';
import { HybridHistogramKeepAlive } from '../environments/hybrid-keep-alive.ts';
import { FixedKeepAlive } from '../environments/keep-alive.ts';
import { EnvironmentPool, DEFAULT_KEEP_ALIVE_MS } from '../environments/pool.ts';
import { ConcurrencyScheduler, DEFAULT_ACCOUNT_LIMIT, DEFAULT_SCALING_RATE } from '../scheduling/index.ts';
import { DockerInvoker } from '../service/docker-invoker.ts';
import { ServiceMetrics } from '../service/metrics.ts';
import { LambdaApiServer } from '../service/server.ts';
import { SqliteFunctionStore } from '../service/storage/function-store.ts';
import type { DeliveryObserver, EventEnd } from '../delivery/async-delivery.ts';
import { DestinationResults } from '../delivery/destination-results.ts';
import { Destinations } from '../delivery/destinations.ts';
import { FUNCTION_CREDENTIALS_MODES, functionCredentialSource, type FunctionCredentialsMode } from '../iam/function-credentials.ts';
import { AuthKeys } from '../iam/auth-keys.ts';
import { KeyRing } from '../iam/sigv4-verifier.ts';
import { DEFAULT_IDENTITY } from '../runtime-api/function-arn.ts';
import { QUEUE_FILE, SqliteEventQueue } from '../delivery/event-queue.ts';
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from '../http/browser-guard.ts';
import { EXAMPLE_FUNCTIONS, registerImageFunction, RIE_FUNCTION_NAME } from './default-function.ts';
import { DEFAULT_DATA_DIR, integerFlag, parseFlags, runCommand, UsageError } from './flags.ts';
import { hostLogger, type HostLogger } from './host-logger.ts';

/** The default memory budget: this share of the engine's memory, leaving the rest to the host and the engine. */
const MEMORY_SHARE = 0.75;

/**
 * How long a stopping serve lets requests in flight (synchronous invokes, mostly) finish before it answers them with
 * an error: long enough for the usual function, short of the 60 s or so after which supervisors and people give up
 * and kill. Docker's stop waits 10 s and Kubernetes' 30 s before SIGKILL: raise theirs to match.
 */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;

export const SERVE_USAGE = `usage: lambkin serve [--port N] [--host H] [--data-dir DIR] [--image IMG] [--examples] [--keep-alive SECONDS]
                    [--keep-alive-policy hybrid|fixed] [--concurrency-limit N] [--scaling-rate N] [--memory-budget MB]
                    [--allowed-host NAME]... [--shutdown-grace SECONDS] [--retry-delay-scale F]
                    [--function-credentials none|host|assume-role] [--auth none|sigv4] [--auth-keys FILE]

  --port N               the Lambda API's port (default 9000; 0 picks a free one, printed when listening)
  --host H               the address to listen on (default 127.0.0.1)
  --data-dir DIR         functions, code and logs (default ./.lambkin)
  --image IMG            register IMG as the function 'function', invoked on the RIE's path
                         POST /2015-03-31/functions/function/invocations
  --examples             register the example images (npm run images) as hello-nodejs and hello-shell
  --keep-alive SECONDS   how long an idle environment stays warm (default ${DEFAULT_KEEP_ALIVE_MS / 1000}); with the hybrid
                         policy, until a function's idle times are known
  --keep-alive-policy P  hybrid (the default without --keep-alive): learns each function's idle times, keeps
                         environments while reuse is likely enough to be worth their memory, pre-warms timer-like functions
                         just before their next invoke; fixed (the default with --keep-alive): Lambda's fixed time
  --concurrency-limit N  the account's concurrent executions (default ${DEFAULT_ACCOUNT_LIMIT}); reserved concurrency
                         must leave ${100} of them (or all, if fewer) to the other functions
  --scaling-rate N       new environments each function may add per 10 s (default ${DEFAULT_SCALING_RATE.environments})
  --memory-budget MB     the most MemorySize all environments may hold together (default ${MEMORY_SHARE * 100}% of the
                         engine's memory); idle ones are evicted to make room, or the invoke is throttled
  --allowed-host NAME    a host name callers may use in URLs (repeatable; *.example.com for a domain), beyond IP
                         addresses, localhost, host.docker.internal, names without a dot and this machine's name; also
                         ${ALLOWED_HOSTS_ENV}=a,b. Requests from web browsers (with an Origin header) are always refused
  --shutdown-grace S     on SIGTERM or Ctrl-C, how long requests in flight may finish (default ${DEFAULT_SHUTDOWN_GRACE_SECONDS}); a
                         second Ctrl-C stops at once
  --retry-delay-scale F  multiplies the clock of asynchronous (Event) invokes: Lambda's retries after a function error
                         (about 1 and 2 minutes), its backoff after a throttle (1 s doubling to 5 minutes) and the
                         maximum event age alike; default 1, e.g. 0.01 to retry after 0.6 s and 1.2 s while developing
  --function-credentials M  what functions get as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN:
                         none (the default): placeholders (lambkin-local) that sign but reach nothing; host: this
                         host's default AWS credentials (environment, profile, SSO...), as SAM CLI does; assume-role:
                         STS AssumeRole on the function's Role, a session per environment, refreshed before expiry
                         (STS at the SDK's standard endpoint settings, e.g. AWS_ENDPOINT_URL_STS for LocalStack)
  --auth none|sigv4      none (the default): the Lambda API accepts any request; sigv4: every Lambda API request must
                         be SigV4-signed (service lambda) by an accepted key, and allowed by the key's identity policy or
                         the function's resource-based policy (AddPermission), as on AWS. /metrics and /lambkin/status
                         stay open
  --auth-keys FILE       with --auth sigv4, the keys accepted: a JSON list of {accessKeyId, secretAccessKey, accountId,
                         principalArn, policy?} (policy: an IAM identity policy document; without one a root principal
                         may do anything in its account, anyone else nothing). Default: your own AWS credentials
                         (environment, else profile), as account ${DEFAULT_IDENTITY.accountId}'s root

  GET /metrics on the same port answers in Prometheus text; \`lambkin status\` shows functions and environments.`;

export const DEFAULT_PORT = 9000;

interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  image: string | undefined;
  examples: boolean;
  keepAliveMs: number;
  keepAlivePolicy: 'hybrid' | 'fixed';
  concurrencyLimit: number;
  scalingRate: number;
  /** MB; undefined: a share of the engine's memory. */
  memoryBudgetMb: number | undefined;
  /** From --allowed-host and LAMBKIN_ALLOWED_HOSTS. */
  allowedHosts: string[];
  shutdownGraceMs: number;
  /** Multiplies the asynchronous invokes' retry delays and backoffs. */
  retryDelayScale: number;
  /** Where functions' execution-role credentials come from. */
  functionCredentials: FunctionCredentialsMode;
  /** Whether the Lambda API requires signatures, and the keys file it accepts (none: serve's own credentials). */
  auth: 'none' | 'sigv4';
  authKeysFile: string | undefined;
}

export function main(args: string[]): void {
  runCommand('serve', SERVE_USAGE, args, (argv) => serve(readOptions(argv)));
}

function readOptions(args: string[]): ServeOptions {
  const { values } = parseFlags(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      image: { type: 'string' },
      examples: { type: 'boolean' },
      'keep-alive': { type: 'string' },
      'keep-alive-policy': { type: 'string' },
      'concurrency-limit': { type: 'string' },
      'scaling-rate': { type: 'string' },
      'memory-budget': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'shutdown-grace': { type: 'string' },
      'retry-delay-scale': { type: 'string' },
      'function-credentials': { type: 'string' },
      auth: { type: 'string' },
      'auth-keys': { type: 'string' },
    },
    { min: 0, max: 0 },
  );
  return {
    port: integerFlag('port', values.port, DEFAULT_PORT, 0, 65_535),
    host: (values.host as string | undefined) ?? '127.0.0.1',
    dataDir: resolve((values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR),
    image: values.image as string | undefined,
    examples: values.examples === true,
    // Lambda keeps an idle environment for minutes; a day is more than anyone needs locally.
    keepAliveMs: integerFlag('keep-alive', values['keep-alive'], DEFAULT_KEEP_ALIVE_MS / 1000, 1, 86_400) * 1000,
    keepAlivePolicy: keepAlivePolicyFlag(values['keep-alive-policy'], values['keep-alive'] !== undefined),
    concurrencyLimit: integerFlag('concurrency-limit', values['concurrency-limit'], DEFAULT_ACCOUNT_LIMIT, 1, 1_000_000),
    scalingRate: integerFlag('scaling-rate', values['scaling-rate'], DEFAULT_SCALING_RATE.environments, 1, 1_000_000),
    memoryBudgetMb: values['memory-budget'] === undefined ? undefined : integerFlag('memory-budget', values['memory-budget'], 0, 128, 16_777_216),
    allowedHosts: [...parseAllowedHosts(process.env[ALLOWED_HOSTS_ENV]), ...allowedHostFlags(values['allowed-host'])],
    // 0 is allowed: answer what is running at once. An hour bounds a typo.
    shutdownGraceMs: integerFlag('shutdown-grace', values['shutdown-grace'], DEFAULT_SHUTDOWN_GRACE_SECONDS, 0, 3_600) * 1000,
    retryDelayScale: scaleFlag('retry-delay-scale', values['retry-delay-scale']),
    functionCredentials: functionCredentialsFlag(values['function-credentials']),
    ...authFlags(values.auth, values['auth-keys']),
  };
}

/** --auth none (the default) or sigv4; --auth-keys only with sigv4. */
function authFlags(auth: string | boolean | undefined, keysFile: string | boolean | undefined): Pick<ServeOptions, 'auth' | 'authKeysFile'> {
  if (auth !== undefined && auth !== 'none' && auth !== 'sigv4') throw new UsageError(`--auth must be none or sigv4, not '${String(auth)}'`);
  if (keysFile !== undefined && auth !== 'sigv4') throw new UsageError('--auth-keys is for --auth sigv4');
  return { auth: auth ?? 'none', authKeysFile: typeof keysFile === 'string' ? resolve(keysFile) : undefined };
}

/** A positive factor, at most 100 (a retry 100 minutes later is already longer than anyone waits); 1 by default. */
function scaleFlag(name: string, value: string | boolean | undefined): number {
  if (value === undefined) return 1;
  const scale = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(scale) || scale <= 0 || scale > 100) {
    throw new UsageError(`--${name} must be a number above 0 and at most 100, not '${String(value)}'`);
  }
  return scale;
}

/** Each --allowed-host, which may itself list names comma-separated (as the variable does). */
function allowedHostFlags(value: unknown): string[] {
  const given = Array.isArray(value) ? (value as string[]) : [];
  const names = given.flatMap((entry) => parseAllowedHosts(entry));
  for (const name of names) {
    if (/[\s/]/.test(name)) throw new UsageError(`--allowed-host takes a host name without scheme or path, not '${name}'`);
  }
  return names;
}

/** none (placeholders, as lambkin always gave) unless asked otherwise. */
function functionCredentialsFlag(value: string | boolean | undefined): FunctionCredentialsMode {
  if (value === undefined) return 'none';
  if ((FUNCTION_CREDENTIALS_MODES as readonly unknown[]).includes(value)) return value as FunctionCredentialsMode;
  throw new UsageError(`--function-credentials must be none, host or assume-role, not '${String(value)}'`);
}

/** hybrid unless asked otherwise, or unless a fixed --keep-alive was asked for. */
function keepAlivePolicyFlag(value: string | boolean | undefined, keepAliveGiven: boolean): 'hybrid' | 'fixed' {
  if (value === undefined) return keepAliveGiven ? 'fixed' : 'hybrid';
  if (value === 'hybrid' || value === 'fixed') return value;
  throw new UsageError(`--keep-alive-policy must be hybrid or fixed, not '${String(value)}'`);
}

async function serve(options: ServeOptions): Promise<void> {
  const log = hostLogger();
  const backend = new DockerBackend();
  let engineMemoryBytes: number | undefined;
  try {
    engineMemoryBytes = (await backend.prepare()).memoryBytes;
  } catch (error) {
    log.error({ err: error }, 'cannot start: no Docker engine');
    throw new Error(noEngineMessage('start', error));
  }

  // Removing deleted functions' code and repairing unflushed code at start run in the background: say when they fail.
  const store = new SqliteFunctionStore(options.dataDir, { onError: (error) => log.error({ err: error }, 'stored code: cleanup or repair failed') });
  const logSink = new FileLogSink(options.dataDir, { onError: onceOnly((error) => log.error({ err: error }, 'cannot write a function log file')) });
  const memoryBudgetMb = options.memoryBudgetMb ?? Math.floor(((engineMemoryBytes ?? totalmem()) * MEMORY_SHARE) / 1_048_576);
  const keepAlivePolicy =
    options.keepAlivePolicy === 'hybrid' ? new HybridHistogramKeepAlive({ fallbackKeepAliveMs: options.keepAliveMs }) : new FixedKeepAlive(options.keepAliveMs);
  // Each environment gets its function's credentials as it starts; why STS refused a role is said here, not to the caller.
  const credentials = functionCredentialSource(options.functionCredentials, {
    region: DEFAULT_IDENTITY.region,
    onRefused: (subject, reason) => log.warn({ function: subject.functionName, role: subject.role, reason }, "the function's role could not be assumed"),
  });
  const pool = new EnvironmentPool(new CredentialedBackend(backend, credentials), { keepAlivePolicy, memoryBudgetMb });
  const invoker = new DockerInvoker({ pool, logSink });
  const scheduler = new ConcurrencyScheduler({
    accountLimit: options.concurrencyLimit,
    scalingRate: { ...DEFAULT_SCALING_RATE, environments: options.scalingRate },
  });
  // Mappings are read only when scraped, by then `server` exists.
  const metrics = new ServiceMetrics({
    pool: () => pool.snapshot(),
    scheduler: () => scheduler.snapshot(),
    mappings: () => server.mappingStatus(),
  });
  // Event invokes are stored here before their 202: a data dir where it cannot be written is refused now, by name.
  let queue: SqliteEventQueue;
  try {
    queue = new SqliteEventQueue(options.dataDir);
  } catch (error) {
    store.close();
    logSink.close();
    await backend.close();
    throw new Error(`cannot open the asynchronous event queue ${join(options.dataDir, QUEUE_FILE)}: ${(error as Error).message}`);
  }
  // A Lambda destination is an asynchronous invoke of another function of this serve.
  const destinations = new Destinations({ invokeAsync: (functionArn, payload) => server.invokeAsync(functionArn, payload) });
  // AWS_IAM function URLs accept requests signed with serve's own AWS credentials (environment, else profile).
  const iamKeys = await KeyRing.fromServeCredentials(DEFAULT_IDENTITY.accountId);
  // --auth sigv4: the keys file is read and checked once, now; a bad one stops serve before it listens.
  let apiAuth: AuthKeys | undefined;
  try {
    if (options.auth === 'sigv4') {
      apiAuth = options.authKeysFile ? await AuthKeys.fromFile(options.authKeysFile) : await AuthKeys.fromServeCredentials(DEFAULT_IDENTITY.accountId);
    }
  } catch (error) {
    destinations.close();
    await queue.close();
    store.close();
    logSink.close();
    await backend.close();
    throw error;
  }
  const server = new LambdaApiServer({
    store,
    invoker,
    scheduler,
    metrics,
    host: options.host,
    port: options.port,
    allowedHosts: options.allowedHosts,
    howToAllowHost: (host) => `start lambkin serve with --allowed-host ${host} (or ${ALLOWED_HOSTS_ENV}=${host})`,
    onInternalError: (error) => log.error({ err: error }, 'internal error (answered as ServiceException)'),
    onWarning: (message) => log.warn(message),
    iamKeys: iamKeys.lookup,
    ...(apiAuth ? { apiAuth } : {}),
    asyncEvents: {
      queue,
      results: new DestinationResults(destinations),
      observer: allObservers(deliveryLog(log), metrics.deliveryObserver()),
      delayScale: options.retryDelayScale,
    },
    // Event source mappings' on-failure records go out the way asynchronous invokes' results do.
    eventSourceMappings: { destinations },
  });
  const shutdown = shutdownOnSignals(log, async () => {
    // No new connections; the requests in flight (invokes) may finish within the grace, and whatever still runs
    // after it is answered with a ServiceException rather than cut off.
    const inFlight = server.requestsInFlight;
    if (inFlight > 0) log.info({ inFlight, graceSeconds: options.shutdownGraceMs / 1000 }, 'letting requests in flight finish');
    const { unfinished } = await server.close({ graceMs: options.shutdownGraceMs });
    if (unfinished > 0) log.warn({ unfinished }, 'shutdown grace ran out: requests still running were answered with ServiceException');
    await invoker.close(); // each runtime: SIGTERM, SIGKILL after 2 s, container removed
    await backend.close(); // anything else this host owns
    credentials.close();
    destinations.close();
    await queue.close(); // events not delivered yet stay in it, for the next start
    logSink.close();
    store.close();
  });

  try {
    if (options.image) {
      const change = await registerImageFunction(store, options.image, undefined, invoker);
      log.info({ function: RIE_FUNCTION_NAME, image: options.image, change }, 'image function registered');
    }
    if (options.examples) {
      for (const example of EXAMPLE_FUNCTIONS) {
        const change = await registerImageFunction(store, example.imageUri, example.name, invoker);
        log.info({ function: example.name, image: example.imageUri, change }, 'example function registered');
      }
    }
    const url = await server.listen();
    log.info(
      {
        url,
        dataDir: options.dataDir,
        owner: backend.owner.id,
        concurrencyLimit: scheduler.accountLimit,
        memoryBudgetMb,
        keepAlivePolicy: options.keepAlivePolicy,
        functionCredentials: options.functionCredentials,
        auth: options.auth,
      },
      'started',
    );
    process.stdout.write(`lambkin serve: listening on ${url} (data in ${options.dataDir})\n`);
    process.stdout.write(`lambkin serve: ${authLine(apiAuth)}\n`);
    const tmpFallback = await backend.tmpFallbackReason();
    if (tmpFallback)
      log.warn({ reason: tmpFallback }, "each function's /tmp is a tmpfs that counts against its memory (as it cannot be a filesystem of its own here)");
  } catch (error) {
    await shutdown('start failure');
    throw new Error(`cannot start: ${(error as Error).message}`);
  }
}

/** What serve's start says about who may call the Lambda API. */
function authLine(keys: AuthKeys | undefined): string {
  if (!keys) return 'API authentication: none (any request is accepted; --auth sigv4 to require signatures)';
  return `API authentication: sigv4 (requests must be signed by ${keys.source}, and allowed by IAM policy)`;
}

/**
 * SIGINT (Ctrl-C) and SIGTERM stop the service cleanly and exit 0. A second Ctrl-C while stopping exits at once
 * (1): the containers left then are reaped by the next `lambkin serve` on this machine.
 */
function shutdownOnSignals(log: HostLogger, stop: () => Promise<void>): (reason: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      try {
        await stop();
        log.info('stopped');
      } catch (error) {
        log.error({ err: error }, 'stopped with an error');
        process.exitCode = 1;
      }
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A repeated SIGTERM is common (a supervisor and `timeout` both forwarding it) and changes nothing; a second
      // Ctrl-C is a person who will not wait.
      if (signal !== 'SIGINT') return;
      log.warn({ signal }, 'second Ctrl-C while stopping: exiting now');
      process.exit(1);
    }
    void shutdown(signal).then(() => process.exit());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return shutdown;
}

/** What happens to asynchronous events that the user should hear about, in serve's log. */
function deliveryLog(log: HostLogger): DeliveryObserver {
  const about = (end: EventEnd) => ({ function: end.event.functionName, requestId: end.event.requestId, condition: end.condition });
  return {
    dropped: (event, reason) =>
      log.warn({ function: event.functionName, requestId: event.requestId, reason }, 'asynchronous event dropped: its function is gone'),
    destinationFailed: (arn, end, error) =>
      log.warn({ ...about(end), destination: arn, err: error }, 'asynchronous invoke: the destination could not be reached'),
    deadLetterFailed: (arn, end, error) =>
      log.warn({ ...about(end), deadLetterQueue: arn, err: error }, 'asynchronous invoke: the dead-letter queue could not be reached'),
  };
}

/** Observers told in turn, each of what it listens for: the log and /metrics hear the same worker. */
function allObservers(...observers: DeliveryObserver[]): DeliveryObserver {
  const tell = (each: (observer: DeliveryObserver) => void) => {
    for (const observer of observers) each(observer);
  };
  return {
    received: (event) => tell((o) => o.received?.(event)),
    attempting: (event, ageMs) => tell((o) => o.attempting?.(event, ageMs)),
    dropped: (event, reason) => tell((o) => o.dropped?.(event, reason)),
    delivered: (end) => tell((o) => o.delivered?.(end)),
    destinationFailed: (arn, end, error) => tell((o) => o.destinationFailed?.(arn, end, error)),
    deadLetterFailed: (arn, end, error) => tell((o) => o.deadLetterFailed?.(arn, end, error)),
  };
}

/** A callback that only the first call reaches: a full disk must not log one error per line. */
function onceOnly<T>(callback: (value: T) => void): (value: T) => void {
  let called = false;
  return (value) => {
    if (called) return;
    called = true;
    callback(value);
  };
}
