// Max Memory Used, measured: the peak of the container's memory cgroup (everything the function started, as
// Lambda counts it). Read straight from the cgroup file when the engine runs on this machine (no round trip),
// else from the engine's stats (cgroup v1 only: v2's stats carry no peak).
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The index in peakFiles of the file that held the last peak read. */
let layoutThatAnswered: number | undefined;

/** Where the peak lives for a container, by cgroup version and driver (cgroupfs or systemd). */
function peakFiles(containerId: string, cgroupParent: string | undefined): string[] {
  const parent = cgroupParent || 'docker';
  return [
    `${CGROUP_ROOT}/memory/${parent}/${containerId}/memory.max_usage_in_bytes`, // v1, cgroupfs
    `${CGROUP_ROOT}/memory/system.slice/docker-${containerId}.scope/memory.max_usage_in_bytes`, // v1, systemd
    `${CGROUP_ROOT}/${parent}/${containerId}/memory.peak`, // v2, cgroupfs
    `${CGROUP_ROOT}/system.slice/docker-${containerId}.scope/memory.peak`, // v2, systemd
  ];
}

/**
 * Read synchronously: a cgroup file is the kernel's counter, answered without touching a disk, and this runs once per
 * invoke, where an asynchronous open-read-close cost three trips through the thread pool.
 */
function readBytes(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The container's peak memory in bytes, or undefined when neither the cgroup nor the engine tells. `engine` bounds
 * the engine's part (an aborted signal skips it).
 */
export async function containerPeakBytes(container: Dockerode.Container, cgroupParent: string | undefined, engine?: AbortSignal): Promise<number | undefined> {
  const paths = peakFiles(container.id, cgroupParent);
  // The layout that answered last (one per host) is tried first: the others would fail, each with an exception.
  const order = layoutThatAnswered === undefined ? paths.keys() : [layoutThatAnswered, ...paths.keys()];
  for (const layout of order) {
    const bytes = readBytes(paths[layout]!);
    if (bytes !== undefined) {
      layoutThatAnswered = layout;
      return bytes;
    }
  }
  if (engine?.aborted) return undefined;
  try {
    const stats = await container.stats({ stream: false, 'one-shot': true, ...(engine ? { abortSignal: engine } : {}) });
    const peak = stats.memory_stats?.max_usage;
    return typeof peak === 'number' && peak > 0 ? peak : undefined;
  } catch {
    return undefined;
  }
}
