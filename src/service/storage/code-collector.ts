// Removes stored content no function or layer version uses any more: a deleted function's code and merged /opt,
// a function's previous code after UpdateFunctionCode, layer content no layer version or function names.
//
// Running environments bind-mount a function's code at /var/task and its merged layers at /opt: removing them under
// a runtime would take its files away mid-invoke. So what a function retires waits until no environment of that
// function started before the change (plus LAUNCH_MARGIN_MS, for a launch already under way) is held by the pool,
// and STOPPED_RUNTIME_MARGIN_MS more (a stopped environment leaves the pool before its runtime has exited). The pool
// retires them: idle ones at once, busy ones after their invoke, so a deleted function's code usually goes within
// seconds. Content no environment ever mounted (a layer's own tree) goes at once. Whatever a crash leaves behind is
// collected when the store next opens.
import type { EnvironmentSnapshot } from '../../environments/pool-snapshot.ts';
import { SHUTDOWN_GRACE_MS } from '../../runtime-api/lifecycle.ts';

/** What a function stopped using (DeleteFunction, or an update that replaced it). */
export interface RetiredContent {
  functionName: string;
  /** Epoch ms of the change. */
  retiredAt: number;
  /** Folders its environments may have mounted (its code, its merged /opt). */
  mounted: string[];
  /** Content stored for it that no environment mounts (its layers' trees). */
  other: string[];
}

/** The environments held now (the invoker's snapshot); none when the invoker keeps none. */
export type EnvironmentsNow = () => readonly EnvironmentSnapshot[];

export interface CollectorStorage {
  /** Removes a folder (and what belongs to it) unless a stored function or layer version still names it. */
  remove(directory: string): Promise<boolean>;
}

/** A launch that began before the change may finish this long after it (a cold start on a loaded engine). */
export const LAUNCH_MARGIN_MS = 60_000;
/** How long a stopped environment's runtime may outlive its leaving the pool: Lambda's shutdown grace and then some. */
export const STOPPED_RUNTIME_MARGIN_MS = SHUTDOWN_GRACE_MS + 1_000;
const CHECK_EVERY_MS = 1_000;

interface Pending extends RetiredContent {
  environments: EnvironmentsNow;
  /** Last time an environment that may mount it was seen. */
  lastSeenAt: number;
}

export class CodeCollector {
  private readonly storage: CollectorStorage;
  private readonly onError: (error: unknown) => void;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(storage: CollectorStorage, onError: (error: unknown) => void = () => {}) {
    this.storage = storage;
    this.onError = onError;
  }

  /**
   * Takes what a function stopped using. Call it before the function's environments are retired: the snapshot
   * then still shows the ones that mount it, and the grace starts from them.
   */
  retire(content: RetiredContent, environments: EnvironmentsNow = () => []): void {
    if (this.closed) return;
    const mounting = this.mounting(content, environments);
    this.pending.push({ ...content, other: [], environments, lastSeenAt: mounting ? Date.now() : Number.NEGATIVE_INFINITY });
    // Never mounted: due at once.
    if (content.other.length > 0) this.pending.push({ ...content, mounted: [], environments, lastSeenAt: Number.NEGATIVE_INFINITY });
    this.schedule(0);
  }

  /** Resolves once nothing is pending (tests, and a caller that wants the disk as it will stay). */
  async settled(): Promise<void> {
    while (this.pending.length > 0 && !this.closed) await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS / 4));
    await this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(afterMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.check()).catch(this.onError);
    }, afterMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const now = Date.now();
    const due: Pending[] = [];
    const waiting: Pending[] = [];
    for (const content of this.pending) {
      if (this.mounting(content, content.environments)) content.lastSeenAt = now;
      (now - content.lastSeenAt >= STOPPED_RUNTIME_MARGIN_MS ? due : waiting).push(content);
    }
    this.pending = waiting;
    for (const content of due) {
      for (const directory of [...content.mounted, ...content.other]) {
        try {
          // The references are read again for each folder, under its lock: a function created meanwhile counts.
          await this.storage.remove(directory);
        } catch (error) {
          this.onError(error);
        }
      }
    }
    if (this.pending.length > 0) this.schedule(CHECK_EVERY_MS);
  }

  /** Whether an environment of the function that may have started on the retired content is still held. */
  private mounting(content: RetiredContent, environments: EnvironmentsNow): boolean {
    if (content.mounted.length === 0) return false;
    return environments().some(
      (environment) => environment.functionName === content.functionName && environment.startedAt < content.retiredAt + LAUNCH_MARGIN_MS,
    );
  }
}
