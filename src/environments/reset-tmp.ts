// /tmp across a runtime reset. On Lambda a timeout or a crash resets the environment's runtime, not the environment:
// the next invoke there runs a fresh runtime (a new init) that finds /tmp as the last one left it. In serve an
// environment is its container, and the container ends with its runtime; rather than restart a runtime inside a
// container whose PID 1 is that runtime's entrypoint, the environment's /tmp filesystem (a mount on this host,
// ephemeral-storage.ts) outlives the container, and the next container started for the same function revision
// mounts it: the same /tmp, a fresh runtime, as on Lambda. Nothing is copied, and a filesystem nobody takes goes
// after the keep-alive an idle environment would have had.
import type { EnvironmentSpec } from './backend.ts';
import { DEFAULT_EPHEMERAL_STORAGE_MB, type EphemeralVolume } from './ephemeral-storage.ts';

/** How long a reset environment's /tmp waits for the next start of its function: Lambda's ~10 minutes of keep-alive. */
export const RESET_TMP_KEPT_MS = 10 * 60_000;

interface Parked {
  volume: EphemeralVolume;
  timer: NodeJS.Timeout;
}

/** Which environments may share a /tmp: the same function, version, revision and EphemeralStorage size. */
export function resetKey(spec: EnvironmentSpec): string | undefined {
  if (spec.revision === undefined) return undefined;
  return [spec.functionName, spec.functionVersion ?? '$LATEST', spec.revision, spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB].join('\n');
}

export class ResetTmpVolumes {
  private readonly keptMs: number;
  private readonly parked = new Map<string, Parked[]>();
  private closed = false;

  constructor(keptMs = RESET_TMP_KEPT_MS) {
    this.keptMs = keptMs;
  }

  /** Keeps a reset environment's /tmp for the next start of the same key (released at once when closed). */
  park(key: string, volume: EphemeralVolume): void {
    if (this.closed) return void volume.release().catch(() => {});
    const entry: Parked = {
      volume,
      timer: setTimeout(() => {
        this.remove(key, entry);
        void volume.release().catch(() => {});
      }, this.keptMs),
    };
    entry.timer.unref();
    const stack = this.parked.get(key) ?? [];
    stack.push(entry);
    this.parked.set(key, stack);
  }

  /** The most recently parked /tmp of this key, now the caller's, or undefined. */
  take(key: string): EphemeralVolume | undefined {
    const entry = this.parked.get(key)?.at(-1);
    if (!entry) return undefined;
    this.remove(key, entry);
    clearTimeout(entry.timer);
    return entry.volume;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.parked.values()].flat();
    this.parked.clear();
    for (const entry of all) clearTimeout(entry.timer);
    await Promise.all(all.map((entry) => entry.volume.release().catch(() => {})));
  }

  private remove(key: string, entry: Parked): void {
    const stack = this.parked.get(key);
    if (!stack) return;
    stack.splice(stack.indexOf(entry), 1);
    if (stack.length === 0) this.parked.delete(key);
  }
}
