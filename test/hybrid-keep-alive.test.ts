// HybridHistogramKeepAlive ("Serverless in the Wild"'s hybrid histogram policy): the decisions it hands the pool for
// a timer, a function it knows too little about, a hot function, a function with no regular idle time, and a
// function that now and then needs a second environment.
import { describe, expect, it } from 'vitest';
import { HybridHistogramKeepAlive } from '../src/environments/hybrid-keep-alive.ts';
import { FixedKeepAlive } from '../src/environments/keep-alive.ts';
import { simulate, type SimEvent } from '../tools/trace/simulate.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** Drives the policy as the pool does for a function with one environment: invoked at each time, idle after `busyMs`. */
function replay(policy: HybridHistogramKeepAlive, fn: string, times: number[], busyMs: number) {
  let decision = { prewarmAfterMs: -1, keepAliveMs: -1 };
  for (const time of times) {
    policy.invoked(fn, time);
    decision = policy.idle(fn, time + busyMs);
  }
  return decision;
}

describe('HybridHistogramKeepAlive', () => {
  it('pre-warms a 15-minute timer just before its next tick and keeps it only around the tick', () => {
    const policy = new HybridHistogramKeepAlive();
    const ticks = Array.from({ length: 12 }, (_, i) => i * 15 * MINUTE);
    const decision = replay(policy, 'timer', ticks, 2 * SECOND);
    // Idle time 14 min 58 s: bin 14 (1-minute bins). Pre-warm at its lower edge less 10%, keep to its upper edge plus 10%.
    expect(decision).toEqual({ prewarmAfterMs: 0.9 * 14 * MINUTE, keepAliveMs: 1.1 * 15 * MINUTE - 0.9 * 14 * MINUTE });
    const nextTickAfterIdle = 15 * MINUTE - 2 * SECOND;
    expect(decision.prewarmAfterMs).toBeLessThan(nextTickAfterIdle);
    expect(decision.prewarmAfterMs + decision.keepAliveMs).toBeGreaterThan(nextTickAfterIdle);
    // Far less than a fixed 10-minute keep-alive, which would let every tick go cold anyway.
    expect(decision.keepAliveMs).toBeLessThan(5 * MINUTE);
  });

  it('falls back to the fixed keep-alive while it has few idle times', () => {
    const policy = new HybridHistogramKeepAlive({ fallbackKeepAliveMs: 7 * MINUTE, minSamples: 10 });
    expect(policy.idle('new', 0)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 7 * MINUTE });
    const ticks = Array.from({ length: 9 }, (_, i) => (i + 1) * 15 * MINUTE);
    expect(replay(policy, 'new', ticks, SECOND)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 7 * MINUTE }); // 9 samples
    policy.invoked('new', 10 * 15 * MINUTE);
    expect(policy.idle('new', 10 * 15 * MINUTE + SECOND).prewarmAfterMs).toBeGreaterThan(0); // the 10th
  });

  it('gives a hot function a short keep-alive and no pre-warm', () => {
    const policy = new HybridHistogramKeepAlive();
    const times = Array.from({ length: 500 }, (_, i) => i * 2 * SECOND);
    const decision = replay(policy, 'hot', times, 100);
    expect(decision).toEqual({ prewarmAfterMs: 0, keepAliveMs: 1.1 * MINUTE }); // all idle times in the first bin
  });

  it('falls back to the fixed keep-alive when idle times are spread flat over the range', () => {
    const policy = new HybridHistogramKeepAlive({ fallbackKeepAliveMs: 10 * MINUTE });
    let time = 0;
    const times: number[] = [];
    for (let i = 0; i < 200; i++) times.push((time += ((i * 37) % 200) * MINUTE + SECOND)); // 0..199 min, evenly
    expect(replay(policy, 'flat', times, 0)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 10 * MINUTE });
    // The same number of idle times on a 15-minute period is representative.
    expect(
      replay(
        policy,
        'peaked',
        Array.from({ length: 200 }, (_, i) => i * 15 * MINUTE),
        0,
      ).prewarmAfterMs,
    ).toBeGreaterThan(0);
  });

  it('cuts the window where it stops paying for itself, not at the 99th percentile of a thin tail', () => {
    // A bursty function: 94 idle times of 10 s within bursts, 5 of 199.5 minutes between them.
    let time = 0;
    const times = Array.from({ length: 100 }, (_, i) => (time += i % 20 === 19 ? 199.5 * MINUTE : 10 * SECOND));
    // The paper's rule keeps every environment to the 99th percentile, 200 minutes plus the margin, after every invoke.
    expect(replay(new HybridHistogramKeepAlive({ coldStartCostMs: Infinity }), 'bursty', times, 0)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 220 * MINUTE });
    // Holding 3 hours for a 5% chance of sparing a cold start worth 30 minutes of memory does not pay: the first bin only.
    expect(replay(new HybridHistogramKeepAlive(), 'bursty', times, 0)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 1.1 * MINUTE });
    // Priced at 5 hours of memory, the 5% chance is worth the wait.
    expect(replay(new HybridHistogramKeepAlive({ coldStartCostMs: 300 * MINUTE }), 'bursty', times, 0).keepAliveMs).toBe(220 * MINUTE);
  });

  it('still reaches a later peak that holds enough of the idle times', () => {
    // Half the idle times are seconds, half are 14.5 minutes: the window runs through the gap to the second peak.
    let time = 0;
    const times = Array.from({ length: 100 }, (_, i) => (time += i % 2 === 0 ? 10 * SECOND : 14.5 * MINUTE));
    expect(replay(new HybridHistogramKeepAlive(), 'two-peaks', times, 0)).toEqual({ prewarmAfterMs: 0, keepAliveMs: 1.1 * 15 * MINUTE });
  });

  it('stops at once a function whose idle times are mostly longer than the range and irregular', () => {
    const policy = new HybridHistogramKeepAlive({ minSamples: 5 });
    const gaps = [5, 9, 6, 12, 7, 8].map((hours) => hours * 60 * MINUTE);
    let time = 0;
    const decision = replay(
      policy,
      'rare',
      gaps.map((gap) => (time += gap)),
      SECOND,
    );
    expect(decision).toEqual({ prewarmAfterMs: 0, keepAliveMs: 0 });
  });

  it('keeps a function that needs a second environment every 10 minutes warm at both concurrency levels', () => {
    // One invoke every 2 s, and every 10 minutes a second one overlapping it.
    const events: SimEvent[] = [];
    for (let t = 0; t < 6 * 60 * MINUTE; t += 2 * SECOND) {
      events.push({ time: t, fn: 'f', durationMs: 500 });
      if (t % (10 * MINUTE) === 0) events.push({ time: t + 100, fn: 'f', durationMs: 500 });
    }
    const trace = { durationMs: 6 * 60 * MINUTE, functions: [{ name: 'f', memoryMb: 128, coldStartMs: 300 }], events };
    const perPosition = simulate(trace, new HybridHistogramKeepAlive());
    const paperRule = simulate(trace, new HybridHistogramKeepAlive({ idleTimes: 'function' }));
    const fixed = simulate(trace, new FixedKeepAlive(10 * MINUTE));
    // The paper's function-level idle times are all 1.5 s: the second environment goes after 66 s, cold every time.
    expect(paperRule.coldStarts).toBeGreaterThan(30);
    // Per position, the second environment learns its own 10-minute idle time and is pre-warmed for it.
    expect(perPosition.coldStarts).toBeLessThan(15);
    expect(perPosition.memoryGbSeconds).toBeLessThan(fixed.memoryGbSeconds);
  });
});
