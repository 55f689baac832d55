// The Docker backend: one container per execution environment, through dockerode only. The host serves each
// environment's Runtime API itself, on a listener of its own bound where that container can reach it (see
// host-address.ts) and answering that container's address alone (lambkin-network.ts); the container is told
// AWS_LAMBDA_RUNTIME_API=<address>:<port>, so the image's /lambda-entrypoint.sh execs the bootstrap directly, with
// no emulator in between. Each container also gets a telemetry log pipe from this host (telemetry-pipe.ts), whose
// records join its output as events of their own.
import { randomUUID } from 'node:crypto';
import { release } from 'node:os';
import Dockerode from 'dockerode';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import type { EnvironmentBackend, EnvironmentSpec } from './backend.ts';
import { containerCreateOptions } from './container-spec.ts';
import { DockerEnvironment, STOP_REMOVAL_ALLOWANCE_MS } from './docker-environment.ts';
import { unlessAborted } from './container-liveness.ts';
import { OutputLines } from './output-lines.ts';
import { LambdaEnvironmentError } from './errors.ts';
import { engineMessage } from '../docker/errors.ts';
import { translateEngineError, validate } from './engine-errors.ts';
import { ImageFacts } from './image-facts.ts';
import { detectHostAddress, overrideAddress, type HostAddress } from './host-address.ts';
import { currentOwner, type OwnerIdentity } from './labels.ts';
import { Reaper } from './reaper.ts';
import { StartGate } from './start-gate.ts';
import { AddressAllocator, isAddressInUse } from './address-allocator.ts';
import { ensureLambkinNetwork, type LambkinNetwork } from './lambkin-network.ts';
import { NetworkSandboxPool, ADDRESS_ATTEMPTS, type NetworkSandbox } from './network-sandboxes.ts';
import { DEFAULT_EPHEMERAL_STORAGE_MB, EphemeralStoragePool, type EphemeralVolume } from './ephemeral-storage.ts';
import { ResetTmpVolumes, resetKey } from './reset-tmp.ts';
import { recordOutput, TelemetryPipes, type TelemetryListener, type TelemetryPipe } from './telemetry-pipe.ts';

/** Environments starting at once, per engine core (see start-gate.ts). */
const STARTS_PER_CORE = 4;
/** The longest a start holds its slot while its runtime initialises. */
const INIT_SLOT_MS = 2_000;

/** Images a network sandbox can run (they have /bin/sleep), in order of preference: lambkin's own bases. */
const SANDBOX_IMAGES = ['lambkin/provided:latest', 'lambkin/nodejs:24'];

interface StartedContainer {
  container: Dockerode.Container;
  output: OutputLines;
  outputDone: Promise<void>;
  /** The network sandbox the container shares, if it had one (else it holds an address of its own). */
  sandbox?: NetworkSandbox;
  address: string;
}

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
  /**
   * Give each environment a telemetry log pipe (telemetry-pipe.ts); true by default, where the engine runs on this
   * machine's kernel (a FIFO is one pipe only within one kernel: not across Docker Desktop's VM).
   */
  telemetryPipes?: boolean;
}

/** What is learned from the engine once, before the first environment. */
export interface EngineFacts {
  hostAddress: HostAddress;
  /** lambkin's own network, which every environment joins. */
  network: LambkinNetwork;
  addresses: AddressAllocator;
  /** Network sandboxes made ahead; undefined when no image for them is on the engine. */
  sandboxes: NetworkSandboxPool | undefined;
  /** Whether each /tmp can be a filesystem of its own (else a tmpfs, which counts against memory). */
  ephemeralStorage: Promise<boolean>;
  /** Whether each environment gets a telemetry log pipe (else its runtime logs to stdout only). */
  telemetryPipes: Promise<boolean>;
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
  private readonly images: ImageFacts;
  private readonly tmpVolumes: EphemeralStoragePool;
  /** The /tmp of environments whose runtime was reset, for the next environment of the same function revision. */
  private readonly resetTmp = new ResetTmpVolumes();
  private readonly telemetryPipes: TelemetryPipes;
  private startsInFlight = 0;
  private gate: StartGate | undefined;
  private facts: Promise<EngineFacts> | undefined;

  constructor(options: DockerBackendOptions = {}) {
    this.options = options;
    this.docker = options.docker ?? new Dockerode();
    this.owner = currentOwner(options.ownerId ?? randomUUID());
    this.reaper = new Reaper(this.docker, this.owner);
    this.images = new ImageFacts(this.docker);
    this.tmpVolumes = new EphemeralStoragePool({ ownerId: this.owner.id });
    this.telemetryPipes = new TelemetryPipes({ ownerId: this.owner.id });
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
    const facts = await this.prepare();
    if (this.startsInFlight++ === 0) this.tmpVolumes.pauseSpares();
    try {
      this.gate ??= new StartGate(STARTS_PER_CORE * facts.cores);
      const leave = await this.gate.enter();
      try {
        const environment = await this.startEnvironment(spec);
        // The slot is held while the runtime initialises, the costly part of a start, but not for a long init's
        // whole length: past INIT_SLOT_MS it is an init that waits on something else than the cores.
        const slotTimer = setTimeout(leave, INIT_SLOT_MS);
        void environment.waitForInit().finally(() => {
          clearTimeout(slotTimer);
          leave();
        });
        return environment;
      } catch (error) {
        leave();
        throw error;
      }
    } finally {
      // Spares (network sandboxes, /tmp filesystems) are made again once no start is under way: made during a
      // burst of cold starts, they would take the cores and the engine from the very starts they are meant to speed.
      if (--this.startsInFlight === 0) {
        void this.facts?.then(
          (facts) => facts.sandboxes?.refill(),
          () => {},
        );
        this.tmpVolumes.resumeSpares();
      }
    }
  }

  private async startEnvironment(spec: EnvironmentSpec): Promise<DockerEnvironment> {
    const facts = await this.prepare();
    const { hostAddress } = facts;
    const key = resetKey(spec);
    const volume = (await facts.ephemeralStorage) ? await this.tmpVolume(spec, key) : undefined;
    const pipe = await this.openTelemetryPipe(facts);

    const server = new RuntimeApiServer({ host: hostAddress.bind, port: 0 });
    let listening: string;
    try {
      listening = await server.listen();
    } catch (error) {
      await volume?.release().catch(() => {});
      await pipe?.close();
      throw new LambdaEnvironmentError(
        'ServiceException',
        `Cannot listen for the runtime on ${hostAddress.bind} (${hostAddress.source}): ${engineMessage(error)}`,
        { cause: error },
      );
    }
    const port = listening.slice(listening.lastIndexOf(':') + 1);
    const runtimeApi = `${hostAddress.advertise.includes(':') ? `[${hostAddress.advertise}]` : hostAddress.advertise}:${port}`;

    let started: StartedContainer;
    try {
      started = await this.createAndStart(spec, server, runtimeApi, facts, volume, pipe);
    } catch (error) {
      await server.close();
      await volume?.release().catch(() => {});
      await pipe?.close();
      throw error;
    }
    const environment = new DockerEnvironment({
      container: started.container,
      server,
      spec,
      output: started.output,
      outputDone: started.outputDone,
      ...(this.options.stopGraceMs !== undefined ? { stopGraceMs: this.options.stopGraceMs } : {}),
    });
    this.live.add(environment);
    // The container is gone once exited settles: its telemetry pipe (read to its end first), its network sandbox
    // (or address) and its /tmp go with it; the /tmp of a reset runtime is kept for the next one (reset-tmp.ts).
    void environment.exited.then(async () => {
      this.live.delete(environment);
      if (volume && key !== undefined && environment.wasReset) {
        this.resetTmp.park(key, volume);
      } else {
        void volume?.release().catch(() => {});
      }
      await pipe?.close();
      if (started.sandbox) await facts.sandboxes?.release(started.sandbox);
      else facts.addresses.release(started.address);
    });
    return environment;
  }

  /**
   * The environment's /tmp: the one a reset environment of the same function revision left, else a fresh one. A
   * reset environment whose container is still going (the invoke that timed out was answered a moment ago) is
   * waited for, bounded by its stop, so that the invoke that follows a timeout finds /tmp as it was.
   */
  private async tmpVolume(spec: EnvironmentSpec, key: string | undefined): Promise<EphemeralVolume> {
    if (key !== undefined) {
      const resetting = [...this.live].filter((environment) => environment.wasReset && resetKey(environment.spec) === key);
      if (resetting.length > 0) {
        // Its runtime is already killed: the container's end is a round trip or two of the engine's, unless the
        // engine is away (then a fresh /tmp rather than a wait on it).
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise((resolve) => (timer = setTimeout(resolve, STOP_REMOVAL_ALLOWANCE_MS)));
        await Promise.race([...resetting.map((environment) => environment.exited), bound]);
        clearTimeout(timer);
      }
      const kept = this.resetTmp.take(key);
      if (kept) return kept;
    }
    return this.tmpVolumes.take(spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB);
  }

  /**
   * Creates the container on lambkin's network at an address picked here, its listener told to serve that address
   * alone, and starts it. Another host's container may hold the address (the engine says so at start): then the
   * container is remade at another address, a few times at most.
   */
  private async createAndStart(
    spec: EnvironmentSpec,
    server: RuntimeApiServer,
    runtimeApi: string,
    facts: EngineFacts,
    volume: EphemeralVolume | undefined,
    pipe: TelemetryPipe | undefined,
  ): Promise<StartedContainer> {
    const { cores, network, addresses, hostAddress } = facts;
    const imageHasUser = await this.images.hasOwnUser(spec.image).catch((error: unknown) => {
      throw translateEngineError(error, 'create', spec);
    });
    const tmp = volume ? { hostPath: volume.hostPath } : { tmpfsMb: spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB };
    for (let attempt = 1; ; attempt++) {
      // A sandbox made ahead when one is ready; else the container joins the network at an address of its own.
      const sandbox = facts.sandboxes?.take();
      const address = sandbox?.address ?? addresses.take();
      const giveBack = () => (sandbox ? facts.sandboxes?.release(sandbox) : addresses.release(address));
      if (hostAddress.peersVisible) server.allowOnly(address);
      let container: Dockerode.Container;
      try {
        const create = containerCreateOptions({
          spec,
          owner: this.owner,
          runtimeApi,
          engineCores: cores,
          labels: this.options.labels,
          network: sandbox ? { sandboxId: sandbox.id } : { name: network.name, address },
          imageHasUser,
          tmp,
          ...(pipe ? { telemetryPipeDirectory: pipe.hostDirectory } : {}),
        });
        container = await this.docker.createContainer(create);
      } catch (error) {
        await giveBack();
        throw translateEngineError(error, 'create', spec);
      }
      try {
        const onOutput = spec.onOutput;
        const stream = spec.logStreamName ?? '';
        const output = new OutputLines(onOutput && ((line) => onOutput(line, stream)));
        pipe?.read(telemetryInto(output));
        // Attached before start, so not one line of the runtime's output is missed.
        const attached = await container.attach({ stream: true, stdout: true, stderr: true });
        const outputDone = output.follow(this.docker, attached);
        server.reset();
        await container.start();
        // Init Duration counts from the runtime's start, as Lambda's does: the container's creation and network
        // setup are the sandbox's, not the function's init.
        server.markInitStart();
        return { container, output, outputDone, address, ...(sandbox ? { sandbox } : {}) };
      } catch (error) {
        await container.remove({ force: true, v: true }).catch(() => {});
        await giveBack();
        if (isAddressInUse(engineMessage(error)) && attempt < ADDRESS_ATTEMPTS) continue;
        throw translateEngineError(error, 'start', spec);
      }
    }
  }

  /**
   * This environment's telemetry log pipe, open for reading before the container can open it for writing (so the
   * entrypoint's open never waits); undefined when pipes are off or unsupported here, or this one could not be
   * opened: then no pipe is mounted, and the runtime logs to stdout.
   */
  private async openTelemetryPipe(facts: EngineFacts): Promise<TelemetryPipe | undefined> {
    if (!(await facts.telemetryPipes)) return undefined;
    const pipe = await this.telemetryPipes.take().catch(() => undefined);
    try {
      pipe?.read(NO_LISTENER_YET);
      return pipe;
    } catch {
      await pipe?.close();
      return undefined;
    }
  }

  /**
   * Why each /tmp is a tmpfs charged to the function's memory instead of a filesystem of its own (not root, no loop
   * devices, not Linux), once prepare() has found out; undefined when /tmp is as on Lambda.
   */
  async tmpFallbackReason(): Promise<string | undefined> {
    const facts = await this.prepare();
    return (await facts.ephemeralStorage) ? undefined : this.tmpVolumes.unsupportedReason;
  }

  /**
   * Host shutdown: every live environment gets Lambda's shutdown, then anything left that we own is removed. Bounded
   * whatever the engine does: each stop() by the grace plus STOP_REMOVAL_ALLOWANCE_MS, the sweep after it (network
   * sandboxes, leftovers) by that allowance again; what an engine that is away keeps is the next host's reaper's.
   */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((environment) => environment.stop()));
    // All that follows waits on the engine: one allowance for all of it.
    const sweep = AbortSignal.timeout(STOP_REMOVAL_ALLOWANCE_MS);
    const facts = await unlessAborted(this.facts, sweep);
    await unlessAborted(facts?.sandboxes?.close(), sweep);
    await this.reaper.removeAllOwned(sweep).catch(() => {});
    await this.resetTmp.close();
    await this.tmpVolumes.close();
    await this.telemetryPipes.close();
  }

  private async learnEngine(): Promise<EngineFacts> {
    const info = (await this.docker.info()) as { NCPU?: number; MemTotal?: number; KernelVersion?: string };
    const network = await ensureLambkinNetwork(this.docker);
    const override = this.options.hostAddress;
    const hostAddress = override ? await overrideAddress(override) : await detectHostAddress(this.docker, network);
    if (this.options.reapOnStart !== false) {
      await this.reaper.reapDeadOwners();
      await EphemeralStoragePool.reapDeadOwners().catch(() => {});
      await TelemetryPipes.reapDeadOwners().catch(() => {});
    }
    // Made ahead, off every cold start's path: the first /tmp filesystem and the first network sandboxes.
    const ephemeralStorage = this.tmpVolumes.prepare();
    // A FIFO joins its reader and writers within one kernel: the engine's must be this machine's.
    const sameKernel = process.platform === 'linux' && info.KernelVersion === release();
    const telemetryPipes = this.options.telemetryPipes !== false && sameKernel ? this.telemetryPipes.prepare() : Promise.resolve(false);
    const addresses = new AddressAllocator(network.subnet, [network.gateway]);
    const sandboxImage = await this.images.firstPresent(SANDBOX_IMAGES);
    const sandboxes = sandboxImage
      ? new NetworkSandboxPool({
          docker: this.docker,
          network,
          addresses,
          owner: this.owner,
          image: sandboxImage,
          ...(this.options.labels ? { labels: this.options.labels } : {}),
        })
      : undefined;
    sandboxes?.refill();
    return { hostAddress, network, addresses, sandboxes, ephemeralStorage, telemetryPipes, cores: info.NCPU ?? 1, memoryBytes: info.MemTotal };
  }
}

/** Records before the container has started: there are none (nothing can write to the pipe yet). */
const NO_LISTENER_YET: TelemetryListener = { onRecord: () => {}, onBroken: () => {} };

/** A pipe's records as events of the environment's output; a pipe that is not frames is said once, on stderr. */
function telemetryInto(output: OutputLines): TelemetryListener {
  return {
    onRecord: (record) => output.emit(recordOutput(record)),
    onBroken: (error) =>
      output.emit({
        stream: 'stderr',
        line: `lambkin: the runtime's telemetry log pipe is not log frames (${error.message}): the rest of what it writes there is dropped`,
      }),
  };
}
