// A synthetic invocation trace shaped like the Azure Functions traces that "Serverless in the Wild" (Shahrad et al.,
// USENIX ATC 2020) characterises, for replaying keep-alive policies (simulate.ts). Deterministic from a seed.
//
// What the paper reports and how this mirrors it:
//   - invocation rates span about 8 orders of magnitude, most functions are rare (45% of applications are invoked
//     at most once an hour on average, 81% at most once a minute) and a few hot ones carry most invocations:
//     Poisson functions with a mean inter-arrival drawn log-uniformly from 10 s to 24 h, and a handful at 1-2/s;
//   - timers are the second most common trigger (about 29% of functions) and fire on cron-like periods: here
//     periods of 1 to 60 minutes with a random phase and a second or so of jitter;
//   - many functions are bursty (queues, events, storage): on/off functions with bursts of minutes hours apart;
//   - executions are short and lognormal (half average under 1 s), memory mostly small (90% of applications under
//     400 MB): sizes from {128, ..., 2048} MB weighted to the small end; cold starts 200-1500 ms.
// The mix below was set from these before any policy was run on it, and is not tuned to favour one.

export type FunctionKind = 'timer' | 'poisson' | 'hot' | 'bursty';

export interface TraceFunction {
  name: string;
  kind: FunctionKind;
  memoryMb: number;
  /** Time to start a new environment before it can serve its first invoke. */
  coldStartMs: number;
  /** Timer period, Poisson mean inter-arrival or the in-burst mean inter-arrival, for reports. */
  meanInterArrivalMs: number;
}

export interface TraceEvent {
  time: number;
  fn: string;
  durationMs: number;
}

export interface Trace {
  durationMs: number;
  functions: TraceFunction[];
  /** Sorted by time. */
  events: TraceEvent[];
}

export interface TraceOptions {
  seed?: number;
  functions?: number;
  durationMs?: number;
  /** Shares of each kind; Poisson takes the rest. */
  timerShare?: number;
  hotShare?: number;
  burstyShare?: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** mulberry32: a small, fast, seeded PRNG; good enough for workload synthesis and fully deterministic. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function generateTrace(options: TraceOptions = {}): Trace {
  const random = prng(options.seed ?? 1);
  const count = options.functions ?? 200;
  const durationMs = options.durationMs ?? 24 * HOUR;
  const hot = Math.max(1, Math.round(count * (options.hotShare ?? 0.02)));
  const timers = Math.round(count * (options.timerShare ?? 0.3));
  const bursty = Math.round(count * (options.burstyShare ?? 0.13));

  const uniform = (low: number, high: number) => low + (high - low) * random();
  const logUniform = (low: number, high: number) => Math.exp(uniform(Math.log(low), Math.log(high)));
  const exponential = (mean: number) => -mean * Math.log(1 - random());
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const pick = <T>(values: readonly T[], weights: readonly number[]): T => {
    let r = random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < values.length; i++) if ((r -= weights[i]!) < 0) return values[i]!;
    return values[values.length - 1]!;
  };

  const functions: TraceFunction[] = [];
  const events: TraceEvent[] = [];
  for (let i = 0; i < count; i++) {
    const kind: FunctionKind = i < hot ? 'hot' : i < hot + timers ? 'timer' : i < hot + timers + bursty ? 'bursty' : 'poisson';
    const name = `${kind}-${String(i).padStart(3, '0')}`;
    const memoryMb = pick([128, 256, 512, 1024, 2048], [30, 30, 20, 12, 8]);
    const coldStartMs = Math.round(uniform(200, 1500));
    // Lognormal execution time: a per-function median from 10 ms to 3 s, spread sigma 0.8 around it.
    const medianDurationMs = logUniform(10, 3 * SECOND);
    const duration = () => Math.max(1, Math.round(medianDurationMs * Math.exp(0.8 * normal())));
    const emit = (time: number) => {
      if (time >= 0 && time < durationMs) events.push({ time: Math.round(time), fn: name, durationMs: duration() });
    };

    let meanInterArrivalMs: number;
    switch (kind) {
      case 'hot': {
        meanInterArrivalMs = SECOND / uniform(1, 2);
        for (let t = exponential(meanInterArrivalMs); t < durationMs; t += exponential(meanInterArrivalMs)) emit(t);
        break;
      }
      case 'timer': {
        // Cron periods people write, the short ones most common.
        meanInterArrivalMs = pick([1, 2, 5, 10, 15, 20, 30, 60], [10, 4, 16, 12, 12, 4, 12, 14]) * MINUTE;
        for (let t = random() * meanInterArrivalMs; t < durationMs; t += meanInterArrivalMs) emit(t + Math.abs(normal()) * SECOND);
        break;
      }
      case 'bursty': {
        // Off for tens of minutes to hours, then minutes of invokes a few seconds apart.
        meanInterArrivalMs = logUniform(1 * SECOND, 30 * SECOND);
        const meanOffMs = logUniform(30 * MINUTE, 6 * HOUR);
        const meanOnMs = logUniform(2 * MINUTE, 15 * MINUTE);
        for (let t = exponential(meanOffMs); t < durationMs; t += exponential(meanOffMs)) {
          const end = t + exponential(meanOnMs);
          for (; t < end && t < durationMs; t += exponential(meanInterArrivalMs)) emit(t);
        }
        break;
      }
      case 'poisson': {
        meanInterArrivalMs = logUniform(10 * SECOND, 24 * HOUR);
        for (let t = exponential(meanInterArrivalMs); t < durationMs; t += exponential(meanInterArrivalMs)) emit(t);
        break;
      }
    }
    functions.push({ name, kind, memoryMb, coldStartMs, meanInterArrivalMs });
  }
  events.sort((a, b) => a.time - b.time || (a.fn < b.fn ? -1 : a.fn > b.fn ? 1 : 0));
  return { durationMs, functions, events };
}
