// Max Memory Used, measured (the RIE only repeats the memory size). As a container's entrypoint (PID 1) the
// cgroup's peak covers everything the function started; elsewhere (tests, local runs, or a sandbox that is itself
// a container) the cgroup is not the function's, so the runtime process's own peak RSS is used.
import { readFileSync } from 'node:fs';
import { reportedMb } from '../runtime-api/platform-log.ts';

const CGROUP_PEAK_FILES = [
  '/sys/fs/cgroup/memory.peak', // cgroup v2
  '/sys/fs/cgroup/memory/memory.max_usage_in_bytes', // cgroup v1
];

const ownsContainer = process.pid === 1;

function readBytes(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

function processPeakBytes(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak memory in whole MB (rounded up, as Lambda reports it), or undefined when nothing could be read. */
export function maxMemoryUsedMb(runtimePid: number | undefined): number | undefined {
  let bytes: number | undefined;
  if (ownsContainer) {
    for (const file of CGROUP_PEAK_FILES) if ((bytes = readBytes(file)) !== undefined) break;
  }
  if (bytes === undefined && runtimePid !== undefined) bytes = processPeakBytes(runtimePid);
  return bytes === undefined ? undefined : reportedMb(bytes);
}
