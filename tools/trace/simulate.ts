// A discrete-event simulation of lambkin's environment pool replaying a trace (generate.ts) under a KeepAlivePolicy,
// the same policy objects `lambkin serve` runs (src/environments/keep-alive.ts, hybrid-keep-alive.ts), applied with
// the pool's semantics:
//   - an invoke takes the most recently used idle environment of its function; with none, it starts a new one
//     (a cold start) that is busy for coldStartMs + durationMs; an environment serves one invoke at a time;
//   - the policy hears `invoked` at each invoke and `idle` each time an environment finishes one, and answers:
//       prewarmAfterMs 0: keep the environment idle keepAliveMs (0: stop it now), then stop it;
//       prewarmAfterMs > 0: stop it now and start a fresh one prewarmAfterMs later, kept idle keepAliveMs once it
//       is up; at most one pending pre-warm per function: a newer pre-warm decision replaces a pending one;
//   - a pre-warm timer that fires while an idle environment of the function exists is skipped (the pool starts one
//     only when none is idle); a keep-only decision or an invoke leaves a pending pre-warm pending;
//   - a pre-warmed environment holds memory from its start and is idle only once up, coldStartMs later: an invoke
//     never takes one still starting, it cold-starts an environment of its own (counted in coldStartsOnPrewarming);
//   - a pre-warmed environment, once up, joins the bottom of the idle stack (the least recently used place: it was
//     never used), and reuse takes the top (the most recently released).
// Memory-time is memoryMb × (stop − start) summed over environments: what the host holds, busy or idle. The
// simulation ends at the trace's end; whatever is still alive then is charged up to it. At equal times, pool events
// (an invoke ending, a keep-alive expiring, a pre-warm) happen before an arriving invoke.
import type { KeepAlivePolicy } from '../../src/environments/keep-alive.ts';
import { MinHeap } from '../../src/scheduling/min-heap.ts';

export interface SimFunction {
  name: string;
  memoryMb: number;
  coldStartMs: number;
}

export interface SimEvent {
  time: number;
  fn: string;
  durationMs: number;
}

export interface SimTrace {
  durationMs: number;
  functions: readonly SimFunction[];
  /** Sorted by time. */
  events: readonly SimEvent[];
}

export interface FunctionResult {
  invocations: number;
  coldStarts: number;
  /** memoryMb × time alive of the function's environments, in GB·s. */
  memoryGbSeconds: number;
}

export interface SimulationResult {
  invocations: number;
  coldStarts: number;
  coldStartShare: number;
  /** Of the cold starts, those that came while a pre-warmed environment of the function was still starting (the pool
   *  does not hand out one still initialising, so the invoke started its own). */
  coldStartsOnPrewarming: number;
  environmentsStarted: number;
  prewarms: number;
  /** memoryMb × time alive, summed over environments, in GB·s (1 GB = 1024 MB). */
  memoryGbSeconds: number;
  /** The part of it spent neither starting for an invoke nor running one: idle, or pre-warming. */
  idleGbSeconds: number;
  peakMemoryMb: number;
  /** Functions invoked at least once, and those whose invokes were mostly (more than half) cold. */
  functionsInvoked: number;
  functionsMostlyCold: number;
  perFunction: Map<string, FunctionResult>;
}

type State = 'starting' | 'busy' | 'idle' | 'stopped';

interface Env {
  fn: FunctionState;
  startedAt: number;
  state: State;
  /** Bumped each time the environment is taken, so a stale keep-alive expiry is ignored. */
  generation: number;
  /** For a pre-warmed environment: when it is up, and how long it is then kept idle. */
  readyAt: number;
  prewarmKeepAliveMs: number;
  busySince: number;
}

interface FunctionState {
  spec: SimFunction;
  /** Idle environments, the most recently used last. */
  idle: Env[];
  /** Pre-warmed environments still starting. */
  starting: Env[];
  /** The pending pre-warm's token (undefined: none pending), and the keep-alive it carries. */
  pendingPrewarm: number | undefined;
  pendingKeepAliveMs: number;
  result: FunctionResult;
}

type PoolEvent =
  | { time: number; seq: number; kind: 'finish'; env: Env }
  | { time: number; seq: number; kind: 'expire'; env: Env; generation: number }
  | { time: number; seq: number; kind: 'ready'; env: Env }
  | { time: number; seq: number; kind: 'prewarm'; fn: FunctionState; token: number };

/** The simulation's pending events, soonest first (equal times in the order they were scheduled). */
class EventQueue {
  private readonly heap = new MinHeap<PoolEvent>(before);
  private seq = 0;

  get size(): number {
    return this.heap.size;
  }

  peekTime(): number {
    return this.heap.peek()?.time ?? Infinity;
  }

  push(event: DistributiveOmit<PoolEvent, 'seq'>): void {
    this.heap.push({ ...event, seq: this.seq++ } as PoolEvent);
  }

  pop(): PoolEvent {
    return this.heap.pop()!;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const before = (a: PoolEvent, b: PoolEvent) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

export function simulate(trace: SimTrace, policy: KeepAlivePolicy): SimulationResult {
  const functions = new Map<string, FunctionState>();
  for (const spec of trace.functions) {
    functions.set(spec.name, {
      spec,
      idle: [],
      starting: [],
      pendingPrewarm: undefined,
      pendingKeepAliveMs: 0,
      result: { invocations: 0, coldStarts: 0, memoryGbSeconds: 0 },
    });
  }
  const horizon = trace.durationMs;
  const queue = new EventQueue();
  const alive = new Set<Env>();
  let memoryMbMs = 0;
  let busyMbMs = 0;
  let currentMb = 0;
  let peakMemoryMb = 0;
  let invocations = 0;
  let coldStarts = 0;
  let coldStartsOnPrewarming = 0;
  let environmentsStarted = 0;
  let prewarms = 0;
  let prewarmToken = 0;

  const start = (fn: FunctionState, now: number, state: State): Env => {
    const env: Env = { fn, startedAt: now, state, generation: 0, readyAt: now, prewarmKeepAliveMs: 0, busySince: now };
    alive.add(env);
    environmentsStarted++;
    currentMb += fn.spec.memoryMb;
    if (currentMb > peakMemoryMb) peakMemoryMb = currentMb;
    return env;
  };
  const stop = (env: Env, now: number) => {
    env.state = 'stopped';
    alive.delete(env);
    currentMb -= env.fn.spec.memoryMb;
    const mbMs = env.fn.spec.memoryMb * (now - env.startedAt);
    memoryMbMs += mbMs;
    env.fn.result.memoryGbSeconds += mbMs / 1024 / 1000;
  };
  const keepIdle = (env: Env, now: number, keepAliveMs: number, neverUsed = false) => {
    if (keepAliveMs <= 0) return stop(env, now);
    env.state = 'idle';
    if (neverUsed) env.fn.idle.unshift(env);
    else env.fn.idle.push(env);
    queue.push({ time: now + keepAliveMs, kind: 'expire', env, generation: env.generation });
  };
  const remove = (list: Env[], env: Env) => {
    const i = list.lastIndexOf(env);
    if (i >= 0) list.splice(i, 1);
  };

  const handle = (event: PoolEvent) => {
    const now = event.time;
    switch (event.kind) {
      case 'finish': {
        const { env } = event;
        busyMbMs += env.fn.spec.memoryMb * (now - env.busySince);
        const decision = policy.idle(env.fn.spec.name, now);
        if (decision.prewarmAfterMs > 0) {
          stop(env, now);
          const fn = env.fn;
          fn.pendingPrewarm = ++prewarmToken; // replaces any pending one
          fn.pendingKeepAliveMs = decision.keepAliveMs;
          queue.push({ time: now + decision.prewarmAfterMs, kind: 'prewarm', fn, token: fn.pendingPrewarm });
        } else {
          keepIdle(env, now, decision.keepAliveMs);
        }
        break;
      }
      case 'expire': {
        const { env } = event;
        if (env.state !== 'idle' || env.generation !== event.generation) break;
        remove(env.fn.idle, env);
        stop(env, now);
        break;
      }
      case 'prewarm': {
        const { fn } = event;
        if (fn.pendingPrewarm !== event.token) break; // replaced by a newer decision
        fn.pendingPrewarm = undefined;
        if (fn.idle.length > 0) break; // the pool skips a pre-warm while an environment is idle already
        prewarms++;
        const env = start(fn, now, 'starting');
        env.readyAt = now + fn.spec.coldStartMs;
        env.prewarmKeepAliveMs = fn.pendingKeepAliveMs;
        fn.starting.push(env);
        queue.push({ time: env.readyAt, kind: 'ready', env });
        break;
      }
      case 'ready': {
        const { env } = event;
        remove(env.fn.starting, env);
        keepIdle(env, now, env.prewarmKeepAliveMs, true);
        break;
      }
    }
  };

  const invoke = (event: SimEvent) => {
    const fn = functions.get(event.fn);
    if (fn === undefined) throw new Error(`trace event for unknown function ${event.fn}`);
    const now = event.time;
    invocations++;
    fn.result.invocations++;
    policy.invoked(fn.spec.name, now);
    let env = fn.idle.pop();
    let busyUntil: number;
    if (env !== undefined) {
      busyUntil = now + event.durationMs; // warm
    } else {
      coldStarts++;
      fn.result.coldStarts++;
      if (fn.starting.length > 0) coldStartsOnPrewarming++;
      env = start(fn, now, 'busy');
      busyUntil = now + fn.spec.coldStartMs + event.durationMs;
    }
    env.state = 'busy';
    env.generation++;
    env.busySince = now;
    queue.push({ time: busyUntil, kind: 'finish', env });
  };

  const events = trace.events;
  let next = 0;
  for (;;) {
    const nextInvoke = next < events.length ? events[next]!.time : Infinity;
    const nextPool = queue.peekTime();
    if (Math.min(nextInvoke, nextPool) >= horizon) break;
    if (nextPool <= nextInvoke) handle(queue.pop());
    else invoke(events[next++]!);
  }
  for (const env of alive) {
    if (env.state === 'busy') busyMbMs += env.fn.spec.memoryMb * (horizon - env.busySince);
    stop(env, horizon);
  }

  let functionsInvoked = 0;
  let functionsMostlyCold = 0;
  const perFunction = new Map<string, FunctionResult>();
  for (const [name, fn] of functions) {
    perFunction.set(name, fn.result);
    if (fn.result.invocations === 0) continue;
    functionsInvoked++;
    if (fn.result.coldStarts > fn.result.invocations / 2) functionsMostlyCold++;
  }
  const gbSeconds = (mbMs: number) => mbMs / 1024 / 1000;
  return {
    invocations,
    coldStarts,
    coldStartShare: invocations === 0 ? 0 : coldStarts / invocations,
    coldStartsOnPrewarming,
    environmentsStarted,
    prewarms,
    memoryGbSeconds: gbSeconds(memoryMbMs),
    idleGbSeconds: gbSeconds(memoryMbMs - busyMbMs),
    peakMemoryMb,
    functionsInvoked,
    functionsMostlyCold,
    perFunction,
  };
}
