// How a runtime ended, in the words Lambda uses in Runtime.ExitError (`exit status 1`, `signal: killed`): Go's, as
// Lambda and the RIE print them. One table for the emulator (a child process's exit) and the host's environments
// (a container's exit code), so both say the same thing about the same end.
import { constants } from 'node:os';

// Go's names for the signals (syscall.Signal's String()).
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

/** What a runtime that was killed (a timeout, an out-of-memory kill, a removed sandbox) ended with. */
export const KILLED = 'signal: killed';

/**
 * A process ended by a signal, given by number or by name (`SIGKILL`). One the table does not name reads as given:
 * `signal: SIGUSR1` by name, `signal: signal 10` by number (Go's words for a number it has no name for).
 */
export function signalReason(signal: number | string): string {
  const number = typeof signal === 'number' ? signal : constants.signals[signal as NodeJS.Signals];
  const words = number === undefined ? undefined : SIGNAL_WORDS[number];
  return `signal: ${words ?? (typeof signal === 'number' ? `signal ${signal}` : signal)}`;
}

/** A process that exited on its own, with this code. */
export function exitStatusReason(exitCode: number): string {
  return `exit status ${exitCode}`;
}
