// The Docker backend: one container per execution environment, through dockerode only. The host serves each
// environment's Runtime API itself, on a listener of its own bound where that container can reach it (see
// host-address.ts); the container is told AWS_LAMBDA_RUNTIME_API=<address>:<port>, so the image's
// /lambda-entrypoint.sh execs the bootstrap directly, with no emulator in between.
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import type { EnvironmentBackend, EnvironmentSpec } from './backend.ts';
import { containerCreateOptions } from './container-spec.ts';
import { DockerEnvironment } from './docker-environment.ts';
import { OutputLines } from './output-lines.ts';
import { LambdaEnvironmentError, engineMessage, engineStatus, isEngineUnreachable } from './errors.ts';
import { detectHostAddress, overrideAddress, type HostAddress } from './host-address.ts';
import { currentOwner, type OwnerIdentity } from './labels.ts';
import { Reaper } from './reaper.ts';

export interface DockerBackendOptions {
  /** A configured client; by default dockerode's own defaults (DOCKER_HOST, else /var/run/docker.sock). */
  docker?: Dockerode;
  /** How containers reach this host (overrides detection and LAMBKIN_HOST_ADDRESS). */
  hostAddress?: string;
  /** This host instance's id, for the lambkin.owner label; a fresh UUID by default. */
  ownerId?: string;
  /** Grace between SIGTERM and SIGKILL on stop(); Lambda's 2 s by default. */
  stopGraceMs?: number;
  /** Extra labels on every container (tests mark theirs). */
  labels?: Record<string, string>;
  /** Remove dead hosts' leftovers before the first environment starts; true by default. */
  reapOnStart?: boolean;
}

/** What is learned from the engine once, before the first environment. */
export interface EngineFacts {
  hostAddress: HostAddress;
  cores: number;
  /** The memory the engine's machine has (on Docker Desktop, its VM's), bytes; undefined when not reported. */
  memoryBytes: number | undefined;
}

export class DockerBackend implements EnvironmentBackend {
  readonly owner: OwnerIdentity;
  readonly reaper: Reaper;
  private readonly docker: Dockerode;
  private readonly options: DockerBackendOptions;
  private readonly live = new Set<DockerEnvironment>();
  private facts: Promise<EngineFacts> | undefined;

  constructor(options: DockerBackendOptions = {}) {
    this.options = options;
    this.docker = options.docker ?? new Dockerode();
    this.owner = currentOwner(options.ownerId ?? randomUUID());
    this.reaper = new Reaper(this.docker, this.owner);
  }

  /**
   * Asks the engine what start() needs (how containers reach us, how many cores) and reaps dead hosts' leftovers.
   * start() does this on first use; call it early to fail fast when Docker is not there.
   */
  prepare(): Promise<EngineFacts> {
    this.facts ??= this.learnEngine().catch((error: unknown) => {
      this.facts = undefined; // the engine may come up later: ask again next time
      throw translateEngineError(error, 'prepare');
    });
    return this.facts;
  }

  async start(spec: EnvironmentSpec): Promise<DockerEnvironment> {
    validate(spec);
    const { hostAddress, cores } = await this.prepare();

    const server = new RuntimeApiServer({ host: hostAddress.bind, port: 0 });
    let listening: string;
    try {
      listening = await server.listen();
    } catch (error) {
      throw new LambdaEnvironmentError(
        'ServiceException',
        `Cannot listen for the runtime on ${hostAddress.bind} (${hostAddress.source}): ${engineMessage(error)}`,
        { cause: error },
      );
    }
    const port = listening.slice(listening.lastIndexOf(':') + 1);
    const runtimeApi = `${hostAddress.advertise.includes(':') ? `[${hostAddress.advertise}]` : hostAddress.advertise}:${port}`;

    let container: Dockerode.Container;
    try {
      const create = containerCreateOptions({ spec, owner: this.owner, runtimeApi, engineCores: cores, labels: this.options.labels });
      container = await this.docker.createContainer(create);
    } catch (error) {
      await server.close();
      throw translateEngineError(error, 'create', spec);
    }

    try {
      const output = new OutputLines(spec.onOutput);
      // Attached before start, so not one line of the runtime's output is missed.
      const attached = await container.attach({ stream: true, stdout: true, stderr: true });
      const outputDone = output.follow(this.docker, attached);
      server.reset();
      await container.start();
      // Init Duration counts from the runtime's start, as Lambda's does: the container's creation and network
      // setup are the sandbox's, not the function's init.
      server.markInitStart();
      const environment = new DockerEnvironment({
        container,
        server,
        spec,
        output,
        outputDone,
        ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
      });
      this.live.add(environment);
      void environment.exited.then(() => this.live.delete(environment));
      return environment;
    } catch (error) {
      await container.remove({ force: true, v: true }).catch(() => {});
      await server.close();
      throw translateEngineError(error, 'start', spec);
    }
  }

  /** Host shutdown: every live environment gets Lambda's shutdown, then anything left that we own is removed. */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((environment) => environment.stop()));
    await this.reaper.removeAllOwned().catch(() => {});
  }

  private async learnEngine(): Promise<EngineFacts> {
    const info = (await this.docker.info()) as { NCPU?: number; MemTotal?: number };
    const override = this.options.hostAddress;
    const hostAddress = override ? await overrideAddress(override) : await detectHostAddress(this.docker);
    if (this.options.reapOnStart !== false) await this.reaper.reapDeadOwners();
    return { hostAddress, cores: info.NCPU ?? 1, memoryBytes: info.MemTotal };
  }
}

function validate(spec: EnvironmentSpec): void {
  const invalid = (message: string) => new LambdaEnvironmentError('InvalidParameterValueException', message);
  if (!spec.functionName) throw invalid('functionName is required');
  if (!spec.image) throw invalid(`No image for function ${spec.functionName}`);
  if (!Number.isInteger(spec.memorySizeMb) || spec.memorySizeMb < 6) {
    // Docker refuses memory limits under 6 MB; Lambda's own floor (128) is the service's to enforce.
    throw invalid(`MemorySize must be a whole number of MB, at least 6: ${spec.memorySizeMb}`);
  }
  if (!(spec.timeoutSeconds > 0)) throw invalid(`Timeout must be positive: ${spec.timeoutSeconds}`);
}

/** An engine failure in the words a Lambda caller expects. */
function translateEngineError(error: unknown, phase: 'prepare' | 'create' | 'start', spec?: EnvironmentSpec): Error {
  if (error instanceof LambdaEnvironmentError) return error;
  const message = engineMessage(error);
  if (isEngineUnreachable(error)) {
    return new LambdaEnvironmentError('ServiceException', `Docker engine unreachable: ${message}`, { cause: error });
  }
  const status = engineStatus(error);
  if (spec && phase === 'create' && status === 404 && /no such image/i.test(message)) {
    return new LambdaEnvironmentError('ResourceNotFoundException', `Image ${spec.image} not found locally: build it first`, { cause: error });
  }
  if (spec && status === 400) {
    return new LambdaEnvironmentError('InvalidParameterValueException', `Cannot ${phase} a container for ${spec.functionName}: ${message}`, { cause: error });
  }
  const what = spec ? `${phase} a container for ${spec.functionName}` : 'reach the Docker engine';
  return new LambdaEnvironmentError('ServiceException', `Cannot ${what}: ${message}`, { cause: error });
}
