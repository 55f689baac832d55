// The execution-environment backend: what the pool asks of an engine. Docker implements it today
// (docker-backend.ts); another engine (Firecracker, a remote fleet) may implement it later without the pool
// changing. An environment is one runtime in its own sandbox, served the Runtime API by its own listener.
import type { ServiceIdentity } from '../runtime-api/function-arn.ts';
import type { TelemetryLevel } from '../runtime-api/telemetry-frames.ts';
import type { InitOutcome, InvokeOutcome, InvokeRequest } from '../runtime-api/types.ts';

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** An image function's ImageConfig: overrides of the image's own CMD, ENTRYPOINT and WORKDIR. */
export interface ImageConfig {
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
}

/** The function's role credentials as the runtime sees them; placeholders when the caller has none. */
export interface EnvironmentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /**
   * When they expire, epoch ms (an assumed role's session, a host's temporary keys); never for keys that do not.
   * The pool retires the environment before then (pool.ts).
   */
  expiresAt?: number;
}

/** Everything needed to start one execution environment of one function version. */
export interface EnvironmentSpec {
  functionName: string;
  /** `$LATEST` or a published version number. */
  functionVersion?: string;
  /**
   * The function's revision (RevisionId): an environment whose runtime was reset (a timeout, a crash) hands its /tmp
   * to the next environment started for the same function and revision, as Lambda keeps /tmp across a reset.
   */
  revision?: string;
  /** The image to run: the function's own (package type Image) or a base such as lambkin/nodejs:24 (Zip). */
  image: string;
  /** Zip functions: the handler (`index.handler`), given to the image's entrypoint as its one argument. */
  handler?: string;
  /** Image functions: ImageConfig overrides. `command` wins over `handler`. */
  imageConfig?: ImageConfig;
  /** Zip functions: the unpacked code on this machine, bind-mounted read-only at /var/task. */
  codeDirectory?: string;
  /** Zip functions with layers: the layers merged into one folder on this machine, bind-mounted read-only at /opt. */
  layerDirectory?: string;
  /** Lambda's runtime identifier (`nodejs24.x`), for AWS_EXECUTION_ENV; omitted for custom runtimes and images. */
  runtime?: string;
  /** MemorySize, MB: the container's memory limit (no swap) and, in proportion, its CPU share. */
  memorySizeMb: number;
  /**
   * EphemeralStorage.Size, MB (512–10,240): the size of the environment's /tmp, a filesystem of its own that is not
   * charged to the memory limit. 512 when omitted.
   */
  ephemeralStorageMb?: number;
  /** The function timeout, seconds (1–900): each invoke's deadline unless the invoke says otherwise. */
  timeoutSeconds: number;
  /** The function's own environment variables. Lambda's reserved names cannot be overridden by them. */
  environment?: Record<string, string>;
  /**
   * The region and account the function lives in (the service's): AWS_REGION and the invoked function ARN.
   * DEFAULT_IDENTITY (src/runtime-api/function-arn.ts) when omitted.
   */
  identity?: ServiceIdentity;
  initializationType?: InitializationType;
  /**
   * AWS_LAMBDA_LOG_STREAM_NAME; a fresh `YYYY/MM/DD/[<version>]<32 hex>` when omitted. Given by a caller that files
   * the environment's output under the name its runtime sees (the invoker's log sink).
   */
  logStreamName?: string;
  /** The function's execution role (Role), whose credentials the environment may be given. */
  role?: string;
  /** The execution role's credentials, resolved for this environment; placeholders when omitted (container-spec.ts). */
  credentials?: EnvironmentCredentials;
  /** Init phase limit, ms (Lambda: 10 s). Past it the init fails with Sandbox.Timedout and the runtime is killed. */
  initTimeoutMs?: number;
  /**
   * Receives the runtime's output from its very first line (before start() resolves), with the environment's log
   * stream (named when the environment starts: one spec serves every environment of a function).
   */
  onOutput?: (output: OutputLine, logStreamName: string) => void;
}

export interface OutputLine {
  /** `telemetry`: a record the runtime wrote to its telemetry log pipe (telemetry-pipe.ts), not a line of stdout. */
  stream: 'stdout' | 'stderr' | 'telemetry';
  /** One line, without its newline; a telemetry record is one event even when it holds newlines of its own. */
  line: string;
  /** When the runtime wrote it, epoch ms (telemetry records; undefined for lines, which are timed as they arrive). */
  timestampMs?: number;
  /** The record's level (telemetry records that have one). */
  level?: TelemetryLevel;
}

export type OutputListener = (output: OutputLine) => void;

/** An invoke as the pool hands it to an environment: the deadline defaults to the function timeout. */
export type EnvironmentInvokeRequest = Omit<InvokeRequest, 'timeoutMs'> & { timeoutMs?: number };

/** One running execution environment. It serves one invoke at a time (more queue in its Runtime API server). */
export interface Environment {
  /** Stable id of this environment (the container id for Docker). */
  readonly id: string;
  readonly spec: Readonly<EnvironmentSpec>;
  /**
   * Settles once the environment is gone for good (runtime exited, sandbox removed, listener closed), with the
   * reason in Lambda's words: `exit status 1`, `signal: killed`. Never rejects.
   */
  readonly exited: Promise<string>;
  /** The environment is dead (timeout, runtime exit, init failure) and will not serve another invoke. */
  readonly isDead: boolean;
  /** Resolves when the init phase ends: the runtime's first `/next`, its `/init/error`, or its exit. */
  waitForInit(): Promise<InitOutcome>;
  /** Delivers an event through this environment's Runtime API and resolves with how the invoke ended. */
  invoke(request: EnvironmentInvokeRequest): Promise<InvokeOutcome>;
  /** Lambda's shutdown: SIGTERM to the runtime, SIGKILL after the grace period, then the sandbox is removed. */
  stop(): Promise<void>;
  /** Kills the runtime at once (timeout, reset); `exited` follows. */
  kill(): Promise<void>;
  /** Peak memory of the whole sandbox in whole MB (rounded up), or undefined when it cannot be read. */
  maxMemoryUsedMb(): Promise<number | undefined>;
  /** Subscribes to the runtime's output lines; returns the unsubscribe function. */
  onOutput(listener: OutputListener): () => void;
}

export interface EnvironmentBackend {
  /**
   * Creates and starts an environment; resolves once its runtime has been started (not initialised: use
   * waitForInit()). Rejects with a LambdaEnvironmentError when the sandbox cannot be made.
   */
  start(spec: EnvironmentSpec): Promise<Environment>;
  /** Removes every environment this backend instance owns (host shutdown). */
  close(): Promise<void>;
}
