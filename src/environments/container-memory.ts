// Max Memory Used, measured: the peak of the container's memory cgroup (everything the function started, as
// Lambda counts it). Read straight from the cgroup file when the engine runs on this machine (no round trip),
// else from the engine's stats (cgroup v1 only: v2's stats carry no peak).
import { closeSync, openSync, readSync } from 'node:fs';
import type Dockerode from 'dockerode';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The index in peakFiles of the file that held the last peak read (one layout per host). */
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

/** The number a cgroup file holds, or undefined. */
function bytesIn(text: string): number | undefined {
  const value = Number(text.trim());
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * One container's peak, read from its cgroup file through a descriptor kept open: a cgroup file is the kernel's
 * counter, produced afresh by each read from offset 0 and answered without touching a disk, so a synchronous pread is
 * one system call per invoke where a readFile was four trips through the thread pool. Closed with the container.
 */
export class CgroupPeak {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(32);
  private closed = false;
  private readonly containerId: string;
  private readonly cgroupParent: string | undefined;

  constructor(containerId: string, cgroupParent: string | undefined) {
    this.containerId = containerId;
    this.cgroupParent = cgroupParent;
  }

  /** The peak in bytes, or undefined when no cgroup file of the container answers (not local, or gone). */
  read(): number | undefined {
    if (this.closed) return undefined;
    if (this.fd !== undefined) {
      try {
        const length = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
        const bytes = bytesIn(this.buffer.toString('latin1', 0, length));
        if (bytes !== undefined) return bytes;
      } catch {
        // The cgroup went with its container: look again below (it answers undefined).
      }
      this.close();
      this.closed = false;
    }
    const paths = peakFiles(this.containerId, this.cgroupParent);
    // The layout that answered last is tried first: the others would fail, each with an exception.
    const order = layoutThatAnswered === undefined ? paths.keys() : [layoutThatAnswered, ...paths.keys()];
    for (const layout of order) {
      let fd: number | undefined;
      try {
        fd = openSync(paths[layout]!, 'r');
        const length = readSync(fd, this.buffer, 0, this.buffer.length, 0);
        const bytes = bytesIn(this.buffer.toString('latin1', 0, length));
        if (bytes === undefined) continue;
        layoutThatAnswered = layout;
        this.fd = fd;
        fd = undefined;
        return bytes;
      } catch {
        // Not this layout.
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
    this.fd = undefined;
  }
}

/**
 * The container's peak memory in bytes, or undefined when neither the cgroup nor the engine tells. `engine` gives the
 * bound for the engine's part (called only when the cgroup did not answer; an aborted signal skips it).
 */
export async function containerPeakBytes(container: Dockerode.Container, cgroup: CgroupPeak, engine?: () => AbortSignal): Promise<number | undefined> {
  const local = cgroup.read();
  if (local !== undefined) return local;
  const signal = engine?.();
  if (signal?.aborted) return undefined;
  try {
    const stats = await container.stats({ stream: false, 'one-shot': true, ...(signal ? { abortSignal: signal } : {}) });
    const peak = stats.memory_stats?.max_usage;
    return typeof peak === 'number' && peak > 0 ? peak : undefined;
  } catch {
    return undefined;
  }
}
