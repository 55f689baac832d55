// Nothing a host starts may outlive it. At start, a host removes the containers of hosts that died without
// cleaning up (killed with -9, a crash): labelled lambkin.owner, on this machine, whose owning pid is gone. At
// shutdown it removes all of its own. Containers of live hosts, and of other machines sharing the engine, are
// never touched.
import type Dockerode from 'dockerode';
import { engineStatus } from '../docker/errors.ts';
import { OWNER_HOST_LABEL, OWNER_LABEL, OWNER_PID_LABEL, type OwnerIdentity } from './labels.ts';

/** Whether a process exists on this machine. EPERM means it exists but is not ours to signal. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Reaper {
  private readonly docker: Dockerode;
  private readonly owner: OwnerIdentity;

  constructor(docker: Dockerode, owner: OwnerIdentity) {
    this.docker = docker;
    this.owner = owner;
  }

  /** Removes the containers of dead owners on this machine; resolves the ids removed. */
  async reapDeadOwners(): Promise<string[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [OWNER_LABEL] } });
    const orphans = containers.filter(({ Labels: labels }) => {
      if (labels[OWNER_LABEL] === this.owner.id) return false;
      // A pid names a process only on the machine it came from.
      if (labels[OWNER_HOST_LABEL] !== this.owner.hostname) return false;
      return !isProcessAlive(Number(labels[OWNER_PID_LABEL]));
    });
    return this.remove(orphans.map((container) => container.Id));
  }

  /**
   * Removes every container this host instance owns, running or not; resolves the ids removed. `signal` bounds the
   * engine's requests (host shutdown: what the engine does not remove in time is the next host's to reap).
   */
  async removeAllOwned(signal?: AbortSignal): Promise<string[]> {
    const abort = signal ? { abortSignal: signal } : {};
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${this.owner.id}`] }, ...abort });
    return this.remove(
      containers.map((container) => container.Id),
      signal,
    );
  }

  private async remove(ids: string[], signal?: AbortSignal): Promise<string[]> {
    const abort = signal ? { abortSignal: signal } : {};
    const removed = await Promise.all(
      ids.map(async (id) => {
        try {
          await this.docker.getContainer(id).remove({ force: true, v: true, ...abort });
          return id;
        } catch (error) {
          // 404: already gone; 409: removal already in progress (the container's own exit handling).
          const status = engineStatus(error);
          if (status === 404 || status === 409) return id;
          throw error;
        }
      }),
    );
    return removed;
  }
}
