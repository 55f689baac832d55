// `lambkin push`'s work: tag a local image as REPOSITORY[:tag] and push it through the Docker engine (dockerode's
// image.push, which sends X-Registry-Auth), reporting progress and returning the digest the registry gave.
// The engine answers a push with HTTP 200 and then streams JSON lines; a failure (a wrong password, a registry
// that cannot be reached) is an `{"error": ...}` line inside that stream, so every line is read, never trusted
// to the status code. Success ends with `{"aux":{"Tag","Digest","Size"}}`.
import Dockerode from 'dockerode';
import { isEngineUnreachable, noEngineMessage } from '../docker/errors.ts';
import { ecrLogin, parseEcrRegistry, type EcrLoginOptions } from './ecr-login.ts';
import { parseImageReference, registryAuthFor, repositoryName, type RegistryAuth } from './registry-auth.ts';

export type PushErrorCode = 'NO_IMAGE' | 'DOCKER_UNAVAILABLE' | 'AUTH' | 'UNREACHABLE' | 'PUSH_FAILED';

export class PushError extends Error {
  readonly code: PushErrorCode;
  constructor(code: PushErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** One line of the engine's push stream: a layer's status (`Preparing`, `Pushing`, `Pushed`, `Layer already exists`). */
export interface PushProgress {
  /** The layer (a short id), when the line is about one. */
  id?: string;
  status: string;
  /** Bytes sent and to send, while a layer is `Pushing`. */
  current?: number;
  total?: number;
}

export interface PushOptions {
  /** The local image: name[:tag] or id. */
  image: string;
  /** Where to: `registry/name[:tag]`; the tag defaults to the image's own, else `latest`. */
  repository: string;
  /** Credentials; default: ECR's (for an ECR address), else the Docker config's, else anonymous. */
  auth?: { username: string; password: string } | RegistryAuth;
  onProgress?: (event: PushProgress) => void;
  /** For ECR addresses: the ECR API endpoint and credentials (see ecr-login.ts). */
  ecr?: Omit<EcrLoginOptions, 'region'>;
  /** The Docker CLI's config directory, for stored credentials. */
  dockerConfigDir?: string;
  docker?: Dockerode;
}

export interface PushResult {
  /** `sha256:...`, the manifest's digest as the registry stored it. */
  digest: string;
  tag: string;
  /** The manifest's size in bytes, as the engine reports it. */
  size: number;
  /** The repository pushed to, `registry/name` (for an ECR stand-in, the stand-in's address). */
  repository: string;
}

export async function pushImage(options: PushOptions): Promise<PushResult> {
  const docker = options.docker ?? new Dockerode();
  const target = parseUserReference(options.repository);
  const tag = target.tag ?? imageTag(options.image) ?? 'latest';

  try {
    await docker.getImage(options.image).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new PushError('NO_IMAGE', `No such image: ${options.image}; build it with lambkin build`);
    }
    throw engineError(error);
  }

  // Where the push goes, and with what credentials.
  let registry = target.registry;
  let auth: RegistryAuth | undefined;
  const ecr = parseEcrRegistry(target.registry);
  if (options.auth) {
    auth = { serveraddress: target.registry, ...options.auth };
  } else if (ecr) {
    const login = await ecrLogin({ region: ecr.region, ...options.ecr });
    auth = login.auth;
    // Real ECR answers with this same registry's address. A proxyEndpoint that is not an ECR address comes from a
    // stand-in token service (an overridden endpoint, in tests): its registry is where the image goes, since
    // `<account>.dkr.ecr.<region>.amazonaws.com` would not reach it.
    if (!parseEcrRegistry(auth.serveraddress)) registry = auth.serveraddress;
  } else {
    auth = await registryAuthFor({ registry: target.registry, ...(options.dockerConfigDir ? { dockerConfigDir: options.dockerConfigDir } : {}) });
  }
  const where = registry === target.registry ? registry : `${target.registry} (at ${registry})`;
  const repo = repositoryName({ registry, name: target.name });

  try {
    await docker.getImage(options.image).tag({ repo, tag });
  } catch (error) {
    throw engineError(error);
  }

  let stream: NodeJS.ReadableStream;
  try {
    // Engine 20.10 refuses a push without X-Registry-Auth (400): anonymous pushes send one without credentials.
    stream = (await docker.getImage(repo).push({ tag, authconfig: auth ?? { serveraddress: registry } })) as NodeJS.ReadableStream;
  } catch (error) {
    throw engineError(error);
  }

  let failure: string | undefined;
  let aux: { Tag?: string; Digest?: string; Size?: number } | undefined;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(engineError(error)) : resolve()),
      (line: {
        status?: string;
        id?: string;
        error?: string;
        errorDetail?: { message?: string };
        progressDetail?: { current?: number; total?: number };
        aux?: typeof aux;
      }) => {
        if (line.error || line.errorDetail) {
          failure ??= line.errorDetail?.message ?? line.error ?? 'unknown error';
          return;
        }
        if (line.aux?.Digest) aux = line.aux;
        if (line.status && options.onProgress) {
          const event: PushProgress = { status: line.status };
          if (line.id) event.id = line.id;
          if (line.progressDetail?.current !== undefined) event.current = line.progressDetail.current;
          if (line.progressDetail?.total !== undefined) event.total = line.progressDetail.total;
          options.onProgress(event);
        }
      },
    );
  });

  if (failure !== undefined) throw pushFailure(where, failure);
  if (!aux?.Digest) throw new PushError('PUSH_FAILED', `push to ${where} ended without a digest`);
  return { digest: aux.Digest, tag: aux.Tag ?? tag, size: aux.Size ?? 0, repository: repo };
}

function parseUserReference(reference: string) {
  try {
    return parseImageReference(reference);
  } catch (error) {
    throw new PushError('PUSH_FAILED', (error as Error).message);
  }
}

/** The tag of `name:tag`; none for a bare name, an id or a digest reference. */
function imageTag(image: string): string | undefined {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(image) || image.includes('@')) return undefined;
  try {
    return parseImageReference(image).tag;
  } catch {
    return undefined;
  }
}

function pushFailure(registry: string, message: string): PushError {
  if (/unauthorized|authentication required|no basic auth credentials|denied|incorrect username or password/i.test(message)) {
    return new PushError('AUTH', `authentication failed for ${registry}: ${message}`);
  }
  if (/connection refused|no such host|dial tcp|i\/o timeout|no route to host|connection reset|server gave HTTP response to HTTPS client/i.test(message)) {
    return new PushError('UNREACHABLE', `cannot reach the registry ${registry}: ${message}`);
  }
  return new PushError('PUSH_FAILED', `push to ${registry} failed: ${message}`);
}

/** A failed engine call: the engine itself not answering is said as every command says it; anything else keeps its message. */
function engineError(error: unknown): Error {
  if (isEngineUnreachable(error)) return new PushError('DOCKER_UNAVAILABLE', noEngineMessage('push', error));
  return error instanceof Error ? error : new Error(String(error));
}
