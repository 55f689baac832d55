// Labels every environment container carries, so that a host can find its own containers, and those of a host
// that died without cleaning up (killed with -9), without keeping any state of its own.
import { hostname } from 'node:os';

export const OWNER_LABEL = 'lambkin.owner';
export const OWNER_PID_LABEL = 'lambkin.owner.pid';
/** Pids only mean something on the machine that owns them: the reaper judges only its own machine's owners. */
export const OWNER_HOST_LABEL = 'lambkin.owner.hostname';
export const FUNCTION_LABEL = 'lambkin.function';
export const VERSION_LABEL = 'lambkin.function.version';

/** Who owns a container: one lambkin host instance, living in one process on one machine. */
export interface OwnerIdentity {
  /** The host instance id (a fresh UUID per host). */
  id: string;
  pid: number;
  hostname: string;
}

export function currentOwner(id: string): OwnerIdentity {
  return { id, pid: process.pid, hostname: hostname() };
}

export function ownerLabels(owner: OwnerIdentity): Record<string, string> {
  return { [OWNER_LABEL]: owner.id, [OWNER_PID_LABEL]: String(owner.pid), [OWNER_HOST_LABEL]: owner.hostname };
}
