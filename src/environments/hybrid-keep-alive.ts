// The hybrid histogram keep-alive policy of "Serverless in the Wild" (Shahrad et al., USENIX ATC 2020), per
// function instead of per application. Most functions are either invoked rarely or on a timer, so a fixed
// keep-alive is wrong both ways: it lets a 15-minute timer go cold on every tick while holding its memory 10 minutes
// each time, and keeps a function that comes back in minutes no longer than one that comes back in hours. The policy
// learns each function's idle times in a histogram and, once it is representative, stops an idle environment,
// pre-warms a fresh one just before the head of the distribution (5th percentile) and keeps it to the tail (99th,
// at most: see below).
//
// One adaptation to lambkin's pool: the paper's application instance serves concurrent invokes, a Lambda
// environment serves one. With the paper's function-level idle time (`idleTimes: 'function'`) a function that runs
// 5 environments at once learns only the idle time of the busiest one (milliseconds), so all 5 get a one-minute
// keep-alive and every concurrency peak cold-starts (the trace study measured 11x the fixed policy's cold starts on
// hot functions). So by default (`idleTimes: 'environment'`) idle times are learnt per position: the pool reuses the
// most recently idled environment first, so idle environments form a stack, and the one k places from the bottom is
// taken only when the function's concurrency climbs back to k below the most it has run; each position gets a
// histogram of its own, as if it were an application. A function that never runs two at once has one position and
// behaves exactly as in the paper.
//
// A second adaptation, for memory: the paper keeps every environment to the 99th percentile of its idle times. On a
// histogram with a peak and a thin tail that holds memory for hours to spare 1% of invokes a cold start, which on
// the trace study cost as much memory-time as the fixed policy (0.87-1.0x of it). So the window is cut where it
// stops paying for itself, each cold start priced at `coldStartCostMs` of idle memory (a break-even, ski-rental
// rule: `cheapestTailBin`); with that bound, the paper's representativeness test (CV 2) is safe to use again.
import type { KeepAliveDecision, KeepAlivePolicy } from './keep-alive.ts';

export interface HybridKeepAliveOptions {
  /** Histogram bin width. The paper's 1 minute: finer bins need more samples to be representative. */
  binMs?: number;
  /** Idle times the histogram covers; longer ones are out of bounds. The paper's 4 hours. */
  rangeMs?: number;
  /** Pre-warm at this percentile of the idle times (its bin's lower edge). The paper's 5th. */
  prewarmPercentile?: number;
  /** Keep alive to this percentile at most (its bin's upper edge; see `coldStartCostMs`). The paper's 99th. */
  keepPercentile?: number;
  /** Safety margin: pre-warm this fraction earlier, keep this fraction longer. The paper's 10%. */
  margin?: number;
  /** Idle times a histogram needs before it is trusted at all. */
  minSamples?: number;
  /**
   * A histogram is representative only if the coefficient of variation (CV) of its bin counts reaches this, the
   * paper's test and the paper's 2. With 240 bins, samples spread evenly over k bins give CV = sqrt(240/k - 1): 2
   * means within about 48 bins. Idle times spread wider (a Poisson function with a mean of tens of minutes) get the
   * fixed fallback. A stricter 6 was needed while the window ran to the 99th percentile, whatever it held (a wide
   * histogram's 99th percentile held memory for hours to spare a cold start); with the break-even window
   * (`coldStartCostMs`) a wide histogram holds only what it buys, and the paper's value gives fewer cold starts at
   * less memory-time on the trace study (bench/trace-study.ts): seeds 1-5, 0.57-0.67x the fixed policy's cold starts
   * at 0.82-0.91x its memory-time, against 0.73-0.83x at 0.77-0.84x with 6.
   */
  minBinCountCv?: number;
  /** More than this share of out-of-bounds idle times switches a histogram to the out-of-bounds rule. */
  maxOutOfBoundsShare?: number;
  /** Which idle times are learnt: per concurrency level ('environment', default) or the paper's ('function'). */
  idleTimes?: 'function' | 'environment';
  /** What a function gets while its histogram is not representative: Lambda's fixed 10 minutes. */
  fallbackKeepAliveMs?: number;
  /**
   * What a cold start is worth, in ms of one idle environment of the function: the price at which the keep-alive
   * window is cut where it stops paying for itself (see `cheapestTailBin`). It is the exchange rate between the two
   * things the policy trades, the Lagrange multiplier of a memory budget. At the fallback keep-alive itself (the
   * price the fixed policy's ski-rental reading implies) the hybrid policy spends its advantage on memory: on the trace
   * study, seeds 1-5, 0.71-0.78x the fixed policy's memory-time at 0.81-0.92x its cold starts. The default, 3x the
   * fallback (30 minutes), splits it: 0.57-0.67x the cold starts at 0.82-0.91x the memory-time, fewer cold starts
   * and less memory than the 99th-percentile window on every seed. Infinity: the paper's rule, keep to the keep
   * percentile whatever it holds.
   */
  coldStartCostMs?: number;
}

/** The idle times of one function at one concurrency level. */
interface Histogram {
  bins: Uint32Array;
  /** Idle times counted in `bins`. */
  inBounds: number;
  /** Sum of the squared bin counts, kept as samples come so the CV costs O(1) per decision. */
  sumOfSquares: number;
  /** The latest out-of-bounds idle times (at most OUT_OF_BOUNDS_KEPT), for the out-of-bounds rule. */
  outOfBounds: number[];
  outOfBoundsTotal: number;
}

interface FunctionState {
  /** Histograms by stack position (a single one for 'function'). */
  levels: Histogram[];
  /** Environments gone idle and not yet matched by an invoke, the latest last, with their position (from the bottom). */
  idleSince: { at: number; level: number }[];
}

/** Out-of-bounds idle times remembered: enough to tell a regular long period from noise. */
const OUT_OF_BOUNDS_KEPT = 4;
/** Stack positions with histograms of their own; higher ones share the last (the commonest concurrency). */
const MAX_LEVELS = 16;
/** Idle environments remembered per function; beyond, the oldest are forgotten (the pool has stopped them). */
const MAX_IDLE_REMEMBERED = 1_000;
/** Whole milliseconds, rounding away float noise first (1.1 × 900000 is 990000.0000000001). */
const floorMs = (ms: number) => Math.floor(ms + 1e-6);
const ceilMs = (ms: number) => Math.ceil(ms - 1e-6);

export class HybridHistogramKeepAlive implements KeepAlivePolicy {
  readonly binMs: number;
  readonly rangeMs: number;
  readonly prewarmPercentile: number;
  readonly keepPercentile: number;
  readonly margin: number;
  readonly minSamples: number;
  readonly minBinCountCv: number;
  readonly maxOutOfBoundsShare: number;
  readonly idleTimes: 'function' | 'environment';
  readonly fallbackKeepAliveMs: number;
  readonly coldStartCostMs: number;
  private readonly binCount: number;
  private readonly functions = new Map<string, FunctionState>();

  constructor(options: HybridKeepAliveOptions = {}) {
    this.binMs = options.binMs ?? 60_000;
    this.rangeMs = options.rangeMs ?? 4 * 60 * 60_000;
    this.prewarmPercentile = options.prewarmPercentile ?? 5;
    this.keepPercentile = options.keepPercentile ?? 99;
    this.margin = options.margin ?? 0.1;
    this.minSamples = options.minSamples ?? 10;
    this.minBinCountCv = options.minBinCountCv ?? 2;
    this.maxOutOfBoundsShare = options.maxOutOfBoundsShare ?? 0.5;
    this.idleTimes = options.idleTimes ?? 'environment';
    this.fallbackKeepAliveMs = options.fallbackKeepAliveMs ?? 10 * 60_000;
    this.coldStartCostMs = options.coldStartCostMs ?? 3 * this.fallbackKeepAliveMs;
    if (!(this.coldStartCostMs >= 0)) throw new RangeError('need coldStartCostMs >= 0');
    if (!(this.binMs > 0) || !(this.rangeMs >= this.binMs)) throw new RangeError('need binMs > 0 and rangeMs >= binMs');
    if (!(this.prewarmPercentile >= 0 && this.prewarmPercentile < this.keepPercentile && this.keepPercentile <= 100)) {
      throw new RangeError('need 0 <= prewarmPercentile < keepPercentile <= 100');
    }
    this.binCount = Math.ceil(this.rangeMs / this.binMs);
  }

  invoked(functionKey: string, now: number): void {
    // The invoke ends the idle time of the latest environment to go idle that no invoke has taken yet. An invoke
    // that finds none (all busy) records nothing: the function was not idle at that level.
    const state = this.functions.get(functionKey);
    const since = state?.idleSince.pop();
    if (state === undefined || since === undefined) return;
    this.record(this.histogram(state, since.level), Math.max(0, now - since.at));
  }

  idle(functionKey: string, now: number): KeepAliveDecision {
    const state = this.state(functionKey);
    let level = 0;
    if (this.idleTimes === 'function') {
      state.idleSince[0] = { at: now, level }; // the paper's rule: only the latest idle moment counts
    } else {
      level = Math.min(state.idleSince.length, MAX_LEVELS - 1);
      state.idleSince.push({ at: now, level });
      if (state.idleSince.length > MAX_IDLE_REMEMBERED) state.idleSince.shift();
    }
    return this.decide(this.histogram(state, level));
  }

  /** The decision an environment going idle at `level` (the number of idle ones below it) would get now. */
  decisionFor(functionKey: string, level = 0): KeepAliveDecision {
    return this.decide(this.histogram(this.state(functionKey), level));
  }

  private state(functionKey: string): FunctionState {
    let state = this.functions.get(functionKey);
    if (state === undefined) {
      state = { levels: [], idleSince: [] };
      this.functions.set(functionKey, state);
    }
    return state;
  }

  private histogram(state: FunctionState, level: number): Histogram {
    while (state.levels.length <= level) {
      state.levels.push({ bins: new Uint32Array(this.binCount), inBounds: 0, sumOfSquares: 0, outOfBounds: [], outOfBoundsTotal: 0 });
    }
    return state.levels[level]!;
  }

  private record(histogram: Histogram, idleMs: number): void {
    if (idleMs >= this.rangeMs) {
      histogram.outOfBoundsTotal++;
      histogram.outOfBounds.push(idleMs);
      if (histogram.outOfBounds.length > OUT_OF_BOUNDS_KEPT) histogram.outOfBounds.shift();
      return;
    }
    const bin = Math.floor(idleMs / this.binMs);
    histogram.sumOfSquares += 2 * histogram.bins[bin]! + 1; // (c + 1)² − c²
    histogram.bins[bin]!++;
    histogram.inBounds++;
  }

  private decide(histogram: Histogram): KeepAliveDecision {
    const total = histogram.inBounds + histogram.outOfBoundsTotal;
    if (total >= this.minSamples && histogram.outOfBoundsTotal > this.maxOutOfBoundsShare * total) {
      return this.outOfBoundsDecision(histogram);
    }
    if (histogram.inBounds < this.minSamples || this.binCountCv(histogram) < this.minBinCountCv) {
      return { prewarmAfterMs: 0, keepAliveMs: this.fallbackKeepAliveMs };
    }
    const headBin = this.percentileBin(histogram, this.prewarmPercentile);
    const tailBin = this.cheapestTailBin(histogram, headBin, this.percentileBin(histogram, this.keepPercentile));
    const head = headBin * this.binMs; // its bin's lower edge
    const tail = (tailBin + 1) * this.binMs; // its bin's upper edge
    // A head in the first bin gives 0: the next invoke may come at once, so keep this environment, no pre-warm.
    const prewarmAfterMs = floorMs(head * (1 - this.margin));
    return { prewarmAfterMs, keepAliveMs: ceilMs(tail * (1 + this.margin)) - prewarmAfterMs };
  }

  /**
   * Where to end the keep-alive window. The paper keeps to the 99th percentile, right for a peaked histogram but
   * not for one with a peak and a thin tail (a bursty function: idle seconds within a burst, hours between bursts,
   * at every concurrency level): its 99th percentile can be hours, held after every burst to spare the 1% of
   * invokes that come that late. Instead the window ends where the expected cost of an idle time is least, memory
   * held plus cold starts, each cold start priced at `coldStartCostMs` of idle memory: keep-alive as rent-or-buy
   * (ski rental), the trade-off FaasCache (ASPLOS 2021) also prices, cold-start cost against memory. With a known
   * distribution it amounts to keeping the environment through the next minute only while the chance that the
   * invoke comes in it, given it has not come yet (the hazard), times the price of a cold start outweighs a minute
   * of memory, summed over the rest of the window so that a later peak (a timer behind a gap) is still reached.
   * The window never goes past the 99th percentile. Idle times are taken at their bin's middle; an out-of-bounds
   * one is a miss for every window.
   */
  private cheapestTailBin(histogram: Histogram, headBin: number, maxTailBin: number): number {
    if (!Number.isFinite(this.coldStartCostMs)) return maxTailBin;
    const prewarmAt = headBin * this.binMs * (1 - this.margin);
    let misses = histogram.inBounds + histogram.outOfBoundsTotal;
    for (let bin = 0; bin < headBin; bin++) misses -= histogram.bins[bin]!;
    let heldByHits = 0; // ms idle held for the invokes the window catches
    let best = maxTailBin;
    let bestCost = Infinity;
    for (let bin = headBin; bin <= maxTailBin; bin++) {
      const count = histogram.bins[bin]!;
      misses -= count;
      heldByHits += count * Math.max(0, (bin + 0.5) * this.binMs - prewarmAt);
      const windowMs = (bin + 1) * this.binMs * (1 + this.margin) - prewarmAt;
      const cost = heldByHits + misses * (windowMs + this.coldStartCostMs);
      if (cost < bestCost) {
        bestCost = cost;
        best = bin;
      }
    }
    return best;
  }

  /**
   * Most idle times are longer than the histogram's range. The paper forecasts the next one with ARIMA; we do not
   * carry a time-series model for functions invoked a few times a day. If the latest long idle times agree within
   * the margin (a long timer, e.g. every 6 hours), pre-warm within the margin of them, which is what a forecast of
   * such a series amounts to. Otherwise keep nothing: the next invoke is hours away at an unknown time, and a fixed
   * keep-alive would only hold memory for minutes and cold-start it anyway.
   */
  private outOfBoundsDecision(histogram: Histogram): KeepAliveDecision {
    const recent = histogram.outOfBounds;
    const low = Math.min(...recent);
    const high = Math.max(...recent);
    if (recent.length < 2 || high > low * (1 + this.margin)) return { prewarmAfterMs: 0, keepAliveMs: 0 };
    const prewarmAfterMs = floorMs(low * (1 - this.margin));
    return { prewarmAfterMs, keepAliveMs: ceilMs(high * (1 + this.margin)) - prewarmAfterMs };
  }

  /** The index of the bin holding the given percentile of the in-bounds idle times. */
  private percentileBin(histogram: Histogram, percentile: number): number {
    const rank = Math.max(1, Math.ceil((percentile / 100) * histogram.inBounds));
    let seen = 0;
    for (let bin = 0; bin < this.binCount; bin++) {
      seen += histogram.bins[bin]!;
      if (seen >= rank) return bin;
    }
    return this.binCount - 1;
  }

  private binCountCv(histogram: Histogram): number {
    const mean = histogram.inBounds / this.binCount;
    const variance = Math.max(0, histogram.sumOfSquares / this.binCount - mean * mean);
    return Math.sqrt(variance) / mean;
  }
}
