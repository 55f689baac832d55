// What a function's spec becomes for the engine: the environment variables Lambda gives a runtime and the
// container's limits (memory without swap, CPU in proportion to memory, read-only root, a writable /tmp), and its
// privileges (Lambda's unprivileged user, no capabilities, no privilege gain, lambkin's own network).
// Pure functions, so the rules can be read and tested without an engine.
import { resolve } from 'node:path';
import type { ContainerCreateOptions } from 'dockerode';
import { DEFAULT_IDENTITY } from '../runtime-api/function-arn.ts';
import { lambdaVariables, TASK_ROOT, xrayVariables } from '../runtime-api/runtime-variables.ts';
import type { EnvironmentSpec } from './backend.ts';
import { FUNCTION_LABEL, VERSION_LABEL, ownerLabels, type OwnerIdentity } from './labels.ts';
import { TELEMETRY_PIPE_DIRECTORY } from './telemetry-pipe.ts';

// AWS_LAMBDA_LOG_STREAM_NAME's format is the platform log's (the emulator names its stream the same way).
export { logStreamName } from '../runtime-api/platform-log.ts';

/** Lambda's memory-to-CPU ratio: 1,769 MB buys one full vCPU. */
export const MB_PER_VCPU = 1769;
/** Docker's smallest CPU quota. */
const MIN_NANO_CPUS = 10_000_000;
/** Lambda's default ephemeral storage for /tmp. */
export const TMP_SIZE_MB = 512;
/** Where a function's layers are unpacked. */
export const LAYER_ROOT = '/opt';

/**
 * Lambda runs function code as sbx_user1051, uid 993 and gid 990, whatever the image says. lambkin does the same,
 * except for an image that names a USER of its own (USER root included): that is kept, as the way out for an
 * image whose entrypoint needs it.
 */
export const SANDBOX_USER = '993:990';
/** Stands in for the execution role's credentials: SDKs find a key and sign; nothing real is handed out. */
const PLACEHOLDER_CREDENTIALS = { accessKeyId: 'lambkin-local', secretAccessKey: 'lambkin-local', sessionToken: 'lambkin-local' };

/**
 * Names Lambda reserves: CreateFunction refuses them, and here the function's own variables cannot change them.
 * (TZ and LANG are not reserved: a function may set its own.)
 */
export const RESERVED_VARIABLES: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/**
 * The runtime's environment: Lambda's defaults, then the function's variables, then Lambda's reserved ones.
 * PATH, LD_LIBRARY_PATH and NODE_PATH are the image's (lambkin/nodejs:24 has nodejs24.x's): an image function
 * keeps its own, as on Lambda.
 */
export function environmentVariables(spec: EnvironmentSpec, runtimeApi: string): Record<string, string> {
  const version = spec.functionVersion ?? '$LATEST';
  const { region } = spec.identity ?? DEFAULT_IDENTITY;
  const credentials = spec.credentials ?? PLACEHOLDER_CREDENTIALS;
  const reserved: Record<string, string> = {
    ...lambdaVariables({
      functionName: spec.functionName,
      functionVersion: version,
      memorySizeMb: spec.memorySizeMb,
      region,
      runtimeApi,
      logStreamName: spec.logStreamName,
      initializationType: spec.initializationType,
      handler: spec.handler,
    }),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  if (credentials.sessionToken) reserved.AWS_SESSION_TOKEN = credentials.sessionToken;
  if (spec.runtime) reserved.AWS_EXECUTION_ENV = `AWS_Lambda_${spec.runtime}`;

  const own = Object.fromEntries(Object.entries(spec.environment ?? {}).filter(([name]) => !RESERVED_VARIABLES.has(name)));
  // The X-Ray variables are not reserved: a function may set its own (AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR).
  return { TZ: ':UTC', LANG: 'en_US.UTF-8', ...xrayVariables(runtimeApi), ...own, ...reserved };
}

/** CPU for a memory size, in Docker's NanoCpus: MemorySize / 1769 vCPU, never more than the engine's cores. */
export function nanoCpusFor(memorySizeMb: number, engineCores: number): number {
  const cpus = Math.min(memorySizeMb / MB_PER_VCPU, Math.max(engineCores, 1));
  return Math.max(MIN_NANO_CPUS, Math.round(cpus * 1e9));
}

export interface ContainerSpecInput {
  spec: EnvironmentSpec;
  owner: OwnerIdentity;
  /** `host:port` the container reaches this environment's Runtime API on. */
  runtimeApi: string;
  engineCores: number;
  /** Extra labels (tests mark their containers). */
  labels?: Record<string, string>;
  /**
   * The network: a network to join (at the address the host picked), or a network sandbox's namespace to share
   * (network-sandboxes.ts). The default bridge if omitted.
   */
  network?: { name: string; address?: string } | { sandboxId: string };
  /** /tmp: a filesystem of its own mounted on the host (ephemeral-storage.ts), else a tmpfs of that size. */
  tmp?: { hostPath: string } | { tmpfsMb: number };
  /** The user to run as when the image names none; SANDBOX_USER by default. */
  user?: string;
  /** The image names a USER of its own: keep it. */
  imageHasUser?: boolean;
  /** The folder on this host holding the environment's telemetry log pipe (telemetry-pipe.ts); none if omitted. */
  telemetryPipeDirectory?: string;
}

/** The createContainer() options for one environment. */
export function containerCreateOptions({
  spec,
  owner,
  runtimeApi,
  engineCores,
  labels,
  network,
  user = SANDBOX_USER,
  imageHasUser = false,
  tmp = { tmpfsMb: spec.ephemeralStorageMb ?? TMP_SIZE_MB },
  telemetryPipeDirectory,
}: ContainerSpecInput): ContainerCreateOptions {
  const env = environmentVariables(spec, runtimeApi);
  const memoryBytes = spec.memorySizeMb * 1024 * 1024;
  const command = spec.imageConfig?.command ?? (spec.handler ? [spec.handler] : undefined);
  const options: ContainerCreateOptions = {
    Image: spec.image,
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    Labels: {
      ...labels,
      ...ownerLabels(owner),
      [FUNCTION_LABEL]: spec.functionName,
      [VERSION_LABEL]: spec.functionVersion ?? '$LATEST',
    },
    // Output is read through attach(); nothing is written to the container's stdin.
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      // Lambda's sandbox: memory is a hard limit (an allocation past it is OOM-killed, no swap to hide in).
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: nanoCpusFor(spec.memorySizeMb, engineCores),
      // Only /tmp is writable on Lambda, EphemeralStorage in size (512 MB by default), exec allowed. A tmpfs
      // counts against the memory limit, so it stands in only where a filesystem of its own cannot be made.
      ReadonlyRootfs: true,
      ...('tmpfsMb' in tmp ? { Tmpfs: { '/tmp': `rw,exec,nosuid,nodev,size=${tmp.tmpfsMb}m,mode=1777` } } : {}),
      // A mount, not a bind string: a missing source directory is an error instead of an empty directory the
      // engine would create for us.
      Mounts: [
        ...(spec.codeDirectory ? [{ Type: 'bind' as const, Source: resolve(spec.codeDirectory), Target: TASK_ROOT, ReadOnly: true }] : []),
        ...(spec.layerDirectory ? [{ Type: 'bind' as const, Source: resolve(spec.layerDirectory), Target: LAYER_ROOT, ReadOnly: true }] : []),
        ...('hostPath' in tmp ? [{ Type: 'bind' as const, Source: tmp.hostPath, Target: '/tmp', ReadOnly: false }] : []),
        // Read-only: the runtime writes to the FIFO in it (a FIFO is no file of the mount's), and creates nothing there.
        ...(telemetryPipeDirectory ? [{ Type: 'bind' as const, Source: telemetryPipeDirectory, Target: TELEMETRY_PIPE_DIRECTORY, ReadOnly: true }] : []),
      ],
      // Lambda's per-environment limits on descriptors and processes.
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      PidsLimit: 1024,
      // An init as PID 1 (as in Lambda's sandbox): the runtime gets SIGTERM's default action (Node.js has no
      // handler for it as PID 1 otherwise) and zombies of a shell bootstrap's curl calls are reaped.
      Init: true,
      // We remove containers ourselves, after reading how they exited (OOMKilled is gone with the container).
      AutoRemove: false,
      // Least privilege: function code needs no capability (NET_RAW would let it forge packets on the network),
      // and nothing it runs may gain privileges (setuid binaries in the image stay powerless).
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: !network ? 'bridge' : 'sandboxId' in network ? `container:${network.sandboxId}` : network.name,
    },
  };
  if (!imageHasUser) options.User = user;
  if (network && 'address' in network && network.address) {
    options.NetworkingConfig = { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: network.address } } } };
  }
  if (command) options.Cmd = command;
  if (spec.imageConfig?.entryPoint) options.Entrypoint = spec.imageConfig.entryPoint;
  if (spec.imageConfig?.workingDirectory) options.WorkingDir = spec.imageConfig.workingDirectory;
  return options;
}
