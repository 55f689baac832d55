// The keep-alive trace simulation (tools/trace/simulate.ts) on tiny hand-made traces: what counts as a cold start,
// how pre-warm decisions are applied, and the memory-time arithmetic; and the trace generator's determinism.
import { describe, expect, it } from 'vitest';
import { FixedKeepAlive, type KeepAliveDecision, type KeepAlivePolicy } from '../src/environments/keep-alive.ts';
import { simulate, type SimEvent } from '../tools/trace/simulate.ts';
import { generateTrace } from '../tools/trace/generate.ts';

const SECOND = 1_000;
const fn = { name: 'f', memoryMb: 1024, coldStartMs: 500 };
const trace = (durationMs: number, events: [time: number, durationMs: number][]) => ({
  durationMs,
  functions: [fn],
  events: events.map(([time, durationMs]): SimEvent => ({ time, fn: 'f', durationMs })),
});

/** A policy that answers the given decisions in turn (the last one repeated), and logs what it heard. */
class Scripted implements KeepAlivePolicy {
  readonly heard: string[] = [];
  private readonly decisions: KeepAliveDecision[];
  constructor(decisions: KeepAliveDecision[]) {
    this.decisions = decisions;
  }
  invoked(key: string, now: number): void {
    this.heard.push(`invoked ${key} ${now}`);
  }
  idle(key: string, now: number): KeepAliveDecision {
    this.heard.push(`idle ${key} ${now}`);
    return this.decisions.length > 1 ? this.decisions.shift()! : this.decisions[0]!;
  }
}

describe('simulate', () => {
  it('counts a cold start for the first invoke and after the keep-alive expired, not for a warm reuse', () => {
    // Keep-alive 60 s. 0: cold, busy to 1.5 s. 10 s: warm, idle at 11 s. 100 s: the environment went at 71 s, cold.
    const result = simulate(
      trace(200 * SECOND, [
        [0, 1000],
        [10 * SECOND, 1000],
        [100 * SECOND, 1000],
      ]),
      new FixedKeepAlive(60 * SECOND),
    );
    expect(result.invocations).toBe(3);
    expect(result.coldStarts).toBe(2);
    expect(result.environmentsStarted).toBe(2);
    expect(result.perFunction.get('f')).toMatchObject({ invocations: 3, coldStarts: 2 });
    expect(result.coldStartShare).toBeCloseTo(2 / 3);
  });

  it('starts a second environment for an invoke that overlaps a busy one', () => {
    const result = simulate(
      trace(10 * SECOND, [
        [0, 2000],
        [1000, 100],
        [3000, 100],
      ]),
      new FixedKeepAlive(60 * SECOND),
    );
    expect(result.coldStarts).toBe(2); // the third finds both idle: warm
    expect(result.peakMemoryMb).toBe(2048);
  });

  it('charges memoryMb × time alive, busy or idle, up to the end of the trace', () => {
    // 0: cold, busy 0.5 + 1.5 s to 2 s, idle to 62 s: 62 s. 100 s: cold, busy to 102 s, kept past the end at 150 s: 50 s.
    const result = simulate(
      trace(150 * SECOND, [
        [0, 1500],
        [100 * SECOND, 1500],
      ]),
      new FixedKeepAlive(60 * SECOND),
    );
    expect(result.memoryGbSeconds).toBeCloseTo(1 * (62 + 50), 9); // 1024 MB = 1 GB
    expect(result.idleGbSeconds).toBeCloseTo(112 - 4, 9);
    expect(result.peakMemoryMb).toBe(1024);
  });

  it('applies a pre-warm: stops the environment, starts a fresh one later, keeps it its keep-alive once up', () => {
    // Idle at 1.5 s: stop now, pre-warm at 51.5 s (up at 52 s), keep 20 s. The invoke at 60 s is warm; after it, stop.
    const policy = new Scripted([
      { prewarmAfterMs: 50 * SECOND, keepAliveMs: 20 * SECOND },
      { prewarmAfterMs: 0, keepAliveMs: 0 },
    ]);
    const result = simulate(
      trace(200 * SECOND, [
        [0, 1000],
        [60 * SECOND, 1000],
      ]),
      policy,
    );
    expect(result.coldStarts).toBe(1);
    expect(result.prewarms).toBe(1);
    expect(result.memoryGbSeconds).toBeCloseTo(1.5 + (61 - 51.5), 9);
    expect(policy.heard).toEqual(['invoked f 0', 'idle f 1500', 'invoked f 60000', 'idle f 61000']);
  });

  it('lets a pre-warmed environment expire, and cold-starts an invoke that comes while one is still starting', () => {
    // Pre-warm up at 52 s, kept to 72 s: the invoke at 100 s is cold. Another pre-warm at 100.5+1+50 = 151.5 s,
    // up at 152 s: the invoke at 151.7 s does not take it while it starts (the pool never hands out one still
    // initialising) but cold-starts its own; the pre-warmed one goes idle at 152 s. The invoke's environment ends at
    // 153.2 s and gets a third pre-warm at 203.2 s, which starts: the second pre-warm expired at 172 s.
    const policy = new Scripted([{ prewarmAfterMs: 50 * SECOND, keepAliveMs: 20 * SECOND }]);
    const result = simulate(
      trace(300 * SECOND, [
        [0, 1000],
        [100 * SECOND, 1000],
        [151_700, 1000],
      ]),
      policy,
    );
    expect(result.coldStarts).toBe(3);
    expect(result.coldStartsOnPrewarming).toBe(1);
    expect(result.environmentsStarted).toBe(6); // 3 on demand, 3 pre-warms
    expect(result.prewarms).toBe(3);
    // 1.5 + 1.5 + 1.5 s on demand; pre-warms 51.5-72, 151.5-172 and 203.2-223.7 s.
    expect(result.memoryGbSeconds).toBeCloseTo(4.5 + 3 * 20.5, 9);
  });

  it('skips a pre-warm that fires while an environment is idle; a keep-only decision or an invoke leaves it pending', () => {
    // Two environments: A 0-1.5 s, B 1-2.5 s. A's decision: pre-warm 5 s later (6.5 s). B's: keep it idle.
    const prewarmThenKeep = (keepAliveMs: number) =>
      new Scripted([
        { prewarmAfterMs: 5 * SECOND, keepAliveMs: 60 * SECOND },
        { prewarmAfterMs: 0, keepAliveMs },
      ]);
    // B kept 60 s: idle when the pre-warm fires, which is skipped.
    const skipped = simulate(
      trace(100 * SECOND, [
        [0, 1000],
        [1000, 1000],
      ]),
      prewarmThenKeep(60 * SECOND),
    );
    expect(skipped.prewarms).toBe(0);
    expect(skipped.memoryGbSeconds).toBeCloseTo(1.5 + 61.5, 9);
    // B kept 3 s, gone at 5.5 s: the pre-warm, still pending after B's keep-only decision, starts at 6.5 s.
    const started = simulate(
      trace(100 * SECOND, [
        [0, 1000],
        [1000, 1000],
      ]),
      prewarmThenKeep(3 * SECOND),
    );
    expect(started.prewarms).toBe(1);
    expect(started.memoryGbSeconds).toBeCloseTo(1.5 + 4.5 + (67 - 6.5), 9);
    // An invoke between the decision and the pre-warm (cold at 3 s, then stopped) leaves it pending too.
    const policy = new Scripted([
      { prewarmAfterMs: 5 * SECOND, keepAliveMs: 60 * SECOND },
      { prewarmAfterMs: 0, keepAliveMs: 0 },
    ]);
    const afterInvoke = simulate(
      trace(100 * SECOND, [
        [0, 1000],
        [3 * SECOND, 1000],
      ]),
      policy,
    );
    expect(afterInvoke.coldStarts).toBe(2);
    expect(afterInvoke.prewarms).toBe(1);
  });

  it('puts a pre-warmed environment at the bottom of the idle stack: reuse takes the most recently released', () => {
    // A 0-1.5 s: pre-warm at 6.5 s (up at 7 s), kept 100 s. B 1-11.5 s busy, then kept 10 s (to 21.5 s). The invoke at
    // 20 s takes B (released last), which is then stopped at 21 s; the pre-warmed one stays to 107 s.
    const policy = new Scripted([
      { prewarmAfterMs: 5 * SECOND, keepAliveMs: 100 * SECOND },
      { prewarmAfterMs: 0, keepAliveMs: 10 * SECOND },
      { prewarmAfterMs: 0, keepAliveMs: 0 },
    ]);
    const result = simulate(
      trace(200 * SECOND, [
        [0, 1000],
        [1000, 10 * SECOND],
        [20 * SECOND, 1000],
      ]),
      policy,
    );
    expect(result.coldStarts).toBe(2);
    expect(result.prewarms).toBe(1);
    expect(result.memoryGbSeconds).toBeCloseTo(1.5 + (21 - 1) + (107 - 6.5), 9);
  });

  it('lets a newer pre-warm decision replace a pending one', () => {
    // Two environments (0-1.5 s, 1-2.5 s) go idle at 1.5 s and 2.5 s; the second decision (pre-warm at 2.5 + 5 s, up
    // at 8 s, kept 1 s) replaces the first (1.5 + 50 s).
    const policy = new Scripted([
      { prewarmAfterMs: 50 * SECOND, keepAliveMs: 60 * SECOND },
      { prewarmAfterMs: 5 * SECOND, keepAliveMs: 1 * SECOND },
      { prewarmAfterMs: 0, keepAliveMs: 0 },
    ]);
    const result = simulate(
      trace(100 * SECOND, [
        [0, 1000],
        [1000, 1000],
      ]),
      policy,
    );
    expect(result.prewarms).toBe(1);
    expect(result.memoryGbSeconds).toBeCloseTo(1.5 + 1.5 + (9 - 7.5), 9); // the pre-warm lives 7.5 s to 9 s
  });
});

describe('generateTrace', () => {
  it('is deterministic for a seed, sorted, and mixes rare and hot functions', () => {
    const a = generateTrace({ seed: 7, functions: 50, durationMs: 2 * 3_600_000 });
    const b = generateTrace({ seed: 7, functions: 50, durationMs: 2 * 3_600_000 });
    expect(b.events).toEqual(a.events);
    expect(generateTrace({ seed: 8, functions: 50, durationMs: 2 * 3_600_000 }).events).not.toEqual(a.events);
    expect(a.events.every((event, i) => i === 0 || a.events[i - 1]!.time <= event.time)).toBe(true);
    const kinds = new Set(a.functions.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(['bursty', 'hot', 'poisson', 'timer']);
    const hot = a.functions.find((f) => f.kind === 'hot')!;
    expect(a.events.filter((event) => event.fn === hot.name).length).toBeGreaterThan(2 * 3_600);
  });
});
