// How a container ended, in the words Lambda uses in Runtime.ExitError (`exit status 1`, `signal: killed`).
// Docker reports a process killed by signal N as exit code 128+N (and so does the init we run as PID 1), so a
// runtime that itself calls exit(137) reads as `signal: killed` too: the engine cannot tell them apart.

// Go's names for the signals, as Lambda and the RIE print them.
const SIGNAL_WORDS: Record<number, string> = {
  1: 'hangup',
  2: 'interrupt',
  3: 'quit',
  4: 'illegal instruction',
  6: 'aborted',
  7: 'bus error',
  8: 'floating point exception',
  9: 'killed',
  11: 'segmentation fault',
  13: 'broken pipe',
  15: 'terminated',
};

export interface ContainerExit {
  exitCode: number;
  /** The kernel's OOM killer ended it: the function went past its memory size. */
  oomKilled: boolean;
}

export function exitReason({ exitCode, oomKilled }: ContainerExit): string {
  if (oomKilled) return 'signal: killed';
  if (exitCode > 128 && exitCode <= 128 + 64) {
    const signal = exitCode - 128;
    return `signal: ${SIGNAL_WORDS[signal] ?? `signal ${signal}`}`;
  }
  return `exit status ${exitCode}`;
}
