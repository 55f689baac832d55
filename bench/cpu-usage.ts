// CPU time as Linux's /proc counts it: one process's (user + system, all of its threads) and the whole machine's
// busy time (every CPU, every process, the kernel's interrupt work included), over a window. A section uses it to say
// where the CPU went while it measured a rate, and whether the machine was saturated: a rate bounded by the CPU moves
// only with less work per item, not with more concurrency.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second on every architecture Node runs on. */
const MS_PER_TICK = 10;

function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so it is skipped by its closing parenthesis): utime is the
  // 14th field of the line, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

function machineBusyMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) * MS_PER_TICK;
}

export interface CpuUsage {
  wallMs: number;
  /** CPU time of the process watched. */
  processMs: number;
  /** CPU time of the whole machine. */
  machineBusyMs: number;
  /** machineBusyMs over what the machine's CPUs could give in wallMs (1 = saturated). */
  machineBusyShare: number;
}

/** Starts counting; `stop()` answers what was used since. */
export function cpuWindow(pid: number): { stop(): CpuUsage } {
  const started = performance.now();
  const process0 = processCpuMs(pid);
  const machine0 = machineBusyMs();
  return {
    stop: () => {
      const wallMs = performance.now() - started;
      const busy = machineBusyMs() - machine0;
      return {
        wallMs,
        processMs: processCpuMs(pid) - process0,
        machineBusyMs: busy,
        machineBusyShare: busy / (wallMs * availableParallelism()),
      };
    },
  };
}
