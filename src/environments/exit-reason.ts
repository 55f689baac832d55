// How a container ended, in Lambda's words (src/runtime-api/exit-words.ts). Docker reports a process killed by
// signal N as exit code 128+N (and so does the init we run as PID 1), so a runtime that itself calls exit(137)
// reads as `signal: killed` too: the engine cannot tell them apart.
import { exitStatusReason, KILLED, signalReason } from '../runtime-api/exit-words.ts';

export interface ContainerExit {
  exitCode: number;
  /** The kernel's OOM killer ended it: the function went past its memory size. */
  oomKilled: boolean;
}

export function exitReason({ exitCode, oomKilled }: ContainerExit): string {
  if (oomKilled) return KILLED;
  if (exitCode > 128 && exitCode <= 128 + 64) return signalReason(exitCode - 128);
  return exitStatusReason(exitCode);
}
