// The containers a bench's `lambkin serve` owns (by its pid and this host, the labels serve puts on them): after a
// serve stops, those still there are counted (a figure: serve should leave none) and removed, so one section's
// leftovers do not load the next.
import Dockerode from 'dockerode';
import { hostname } from 'node:os';
import { OWNER_HOST_LABEL, OWNER_PID_LABEL } from '../src/environments/labels.ts';
import type { ServeProcess } from '../tools/serve-process.ts';

const docker = new Dockerode();

/** The ids of the containers the serve with this pid owns, running or not. */
export async function containersOf(pid: number): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${OWNER_PID_LABEL}=${pid}`, `${OWNER_HOST_LABEL}=${hostname()}`] } });
  return containers.map((container) => container.Id);
}

/** Removes these containers (force), each whether or not it is still there. */
export async function removeContainers(ids: string[]): Promise<void> {
  await Promise.all(
    ids.map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** Removes what the serve with this pid left behind: how many containers that was (0 if Docker cannot say). */
export async function sweepContainersOf(pid: number): Promise<number> {
  const left = await containersOf(pid).catch((): string[] => []);
  await removeContainers(left);
  return left.length;
}

/** Stops the serve (SIGTERM), then removes the containers it left behind: how many there were. */
export async function stopServeAndSweep(serve: ServeProcess): Promise<number> {
  await serve.stop();
  return sweepContainersOf(serve.pid);
}
