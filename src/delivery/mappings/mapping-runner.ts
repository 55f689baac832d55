// Keeps exactly one poller per enabled event source mapping, and moves each mapping through its transitions: the
// control plane (src/service/handlers/event-source-mappings.ts) stores a mapping in a passing state (Creating,
// Enabling, Updating, Disabling, Deleting) and calls changed(); the runner stops the mapping's poller, starts a new one
// when the mapping is to be enabled, and then settles the state (Enabled or Disabled), or removes a Deleting mapping.
// Work on one mapping is serialized; mappings are independent of each other.
import type { InvocationHome } from '../../invocation/invoke-function.ts';
import type { MappingStore, StoredMapping } from '../../service/storage/mapping-store.ts';
import { compileFilterCriteria } from './filter-criteria.ts';
import { kinesisPoller } from './kinesis-poller.ts';
import { sqsPoller } from './sqs-poller.ts';
import type { CheckpointStore, MappingSource, MappingState, Poller, PollerDeps, PollerFactory, PollerStats } from './mapping.ts';

/** The poller of each source lambkin polls. */
export const DEFAULT_POLLERS: Partial<Record<MappingSource, PollerFactory>> = { sqs: sqsPoller, kinesis: kinesisPoller };

/** The states a mapping passes through; the runner settles each. */
const PASSING: ReadonlySet<MappingState> = new Set(['Creating', 'Enabling', 'Updating', 'Disabling', 'Deleting']);

export const isPassingState = (state: MappingState) => PASSING.has(state);

export interface MappingRunnerOptions {
  mappings: MappingStore;
  checkpoints: CheckpointStore;
  /** Where batches run: the service's own invocation path. */
  home: InvocationHome;
  /** The poller for each source; DEFAULT_POLLERS by default. */
  pollers?: Partial<Record<MappingSource, PollerFactory>>;
  /** Streams' on-failure destinations. */
  destinations?: PollerDeps['destinations'];
  /**
   * How long a mapping stays in a passing state (Creating, Updating, ...) after its poller changed: 0 by default
   * (settled as soon as the poller has started or stopped). AWS takes seconds; tests hold it to see the states.
   */
  settleMs?: number;
  /** Told about failures of lambkin's own (a poller that would not stop, a store that would not write). */
  onError?: (error: unknown) => void;
}

/** One mapping as `lambkin status` and /metrics show it. */
export interface MappingStatus extends PollerStats {
  uuid: string;
  functionArn: string;
  eventSourceArn: string;
  state: MappingState;
  lastProcessingResult: string;
  /** Whether a poller runs for it now. */
  polling: boolean;
}

const NO_STATS: PollerStats = { lag: 0, polled: 0, delivered: 0, failed: 0 };

export class MappingRunner {
  private readonly options: MappingRunnerOptions;
  private readonly pollers = new Map<string, Poller>();
  /** Each mapping's work so far: the next change waits for it. */
  private readonly work = new Map<string, Promise<void>>();
  /** Pauses under way, each with what ends it early (stop). */
  private readonly pauses = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;

  constructor(options: MappingRunnerOptions) {
    this.options = options;
  }

  /** Starts a poller for every enabled mapping, and settles the ones a previous run left passing. */
  start(): void {
    this.stopped = false;
    let after: string | undefined;
    for (;;) {
      const page = this.options.mappings.list(after, 100);
      for (const mapping of page) {
        if (isPassingState(mapping.state) || mapping.state === 'Enabled') this.changed(mapping.uuid);
      }
      if (page.length < 100) break;
      after = page.at(-1)!.uuid;
    }
  }

  /** The mapping was created, updated or marked for deletion: its poller follows, then its state settles. */
  changed(uuid: string): void {
    if (this.stopped) return;
    const previous = this.work.get(uuid) ?? Promise.resolve();
    const next = previous.then(() => this.apply(uuid)).catch((error: unknown) => this.options.onError?.(error));
    this.work.set(uuid, next);
    void next.then(() => {
      if (this.work.get(uuid) === next) this.work.delete(uuid);
    });
  }

  /** Resolves once every change asked for so far has been applied (tests, and close). */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work.values()]);
  }

  /** Stops every poller (their batches in flight end or go back to their source); the mappings stay as stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [timer, end] of this.pauses) {
      clearTimeout(timer);
      end();
    }
    this.pauses.clear();
    await Promise.allSettled([...this.work.values()]);
    const pollers = [...this.pollers.values()];
    this.pollers.clear();
    await Promise.allSettled(pollers.map((poller) => poller.stop()));
  }

  /** Every stored mapping with its poller's counts, in UUID order. */
  status(): MappingStatus[] {
    const statuses: MappingStatus[] = [];
    let after: string | undefined;
    for (;;) {
      const page = this.options.mappings.list(after, 100);
      for (const mapping of page) {
        const poller = this.pollers.get(mapping.uuid);
        statuses.push({
          uuid: mapping.uuid,
          functionArn: mapping.functionArn,
          eventSourceArn: mapping.eventSourceArn,
          state: mapping.state,
          lastProcessingResult: mapping.lastProcessingResult,
          polling: poller !== undefined,
          ...(poller?.stats() ?? NO_STATS),
        });
      }
      if (page.length < 100) break;
      after = page.at(-1)!.uuid;
    }
    return statuses;
  }

  private async apply(uuid: string): Promise<void> {
    const mapping = this.options.mappings.get(uuid);
    await this.stopPoller(uuid);
    if (!mapping || this.stopped) return;
    if (mapping.state === 'Deleting') {
      await this.pause();
      this.options.mappings.delete(uuid);
      return;
    }
    if (mapping.enabled) this.startPoller(mapping);
    if (!isPassingState(mapping.state)) return;
    await this.pause();
    if (this.stopped) return;
    // Settled only if nobody changed the mapping meanwhile (then that change settles it); what a poller reported
    // meanwhile is kept.
    const current = this.options.mappings.get(uuid);
    if (current?.lastModified !== mapping.lastModified) return;
    this.options.mappings.update({ ...current, state: current.enabled ? 'Enabled' : 'Disabled' }, mapping.lastModified);
  }

  private startPoller(mapping: StoredMapping): void {
    const factory = (this.options.pollers ?? DEFAULT_POLLERS)[mapping.source];
    if (!factory) {
      this.report(mapping.uuid, `PROBLEM: lambkin has no poller for ${mapping.source} event sources yet`);
      return;
    }
    const deps: PollerDeps = {
      mapping,
      home: this.options.home,
      checkpoints: this.options.checkpoints,
      ...(this.options.destinations ? { destinations: this.options.destinations } : {}),
      report: (lastProcessingResult) => this.report(mapping.uuid, lastProcessingResult),
      ...(mapping.filterCriteria ? { matches: compileFilterCriteria(mapping.filterCriteria) } : {}),
    };
    const poller = factory(deps);
    this.pollers.set(mapping.uuid, poller);
    poller.start();
  }

  private async stopPoller(uuid: string): Promise<void> {
    const poller = this.pollers.get(uuid);
    if (!poller) return;
    this.pollers.delete(uuid);
    await poller.stop();
  }

  /** Stores what a poller says about its last batch; a mapping gone or changed meanwhile is left alone. */
  private report(uuid: string, lastProcessingResult: string): void {
    try {
      const current = this.options.mappings.get(uuid);
      if (!current || current.lastProcessingResult === lastProcessingResult) return;
      this.options.mappings.update({ ...current, lastProcessingResult }, current.lastModified);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private pause(): Promise<void> {
    const ms = this.options.settleMs ?? 0;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pauses.delete(timer);
        resolve();
      }, ms);
      this.pauses.set(timer, resolve);
    });
  }
}
