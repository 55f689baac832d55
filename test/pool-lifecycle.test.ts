// The pool's lifecycle rules against the fake backend (test/support/fake-backend.ts) on vitest's fake clock: which
// idle environment the memory budget evicts and when it throttles instead, what a pre-warm starts and when, how
// provisioned concurrency keeps its number, and what becomes of starts that fail or hang. Each test reads what a
// user of `lambkin serve` would see: which environment answered, whether the invoke paid an init (a cold start),
// how many inits ran, and which invokes were refused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HybridHistogramKeepAlive } from '../src/environments/hybrid-keep-alive.ts';
import type { KeepAliveDecision, KeepAlivePolicy } from '../src/environments/keep-alive.ts';
import { ENVIRONMENT_START_TIMEOUT_MS, EnvironmentPool, type EnvironmentPoolOptions, type PoolFunction } from '../src/environments/pool.ts';
import { FakeBackend, type FakeBackendOptions, type FakeEnvironment } from './support/fake-backend.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const INIT_MS = SECOND;

const fn = (functionName: string, memorySizeMb = 1024, revision = 'r1'): PoolFunction => ({
  functionName,
  revision,
  spec: { functionName, image: 'img', memorySizeMb, timeoutSeconds: 3 },
});

/** An invoke as DockerInvoker makes one: reserve, deliver (a cold start waits for the init), release. */
interface Served {
  environment: string;
  coldStart: boolean;
  provisioned: boolean;
}

let pool: EnvironmentPool;
let backend: FakeBackend;

function makePool(options: EnvironmentPoolOptions = {}, backendOptions: FakeBackendOptions = {}): void {
  backend = new FakeBackend({ init: { kind: 'ready', afterMs: INIT_MS }, ...backendOptions });
  pool = new EnvironmentPool(backend, options);
}

async function invoke(target: PoolFunction): Promise<Served> {
  const pooled = await pool.reserve(target);
  const served = { environment: pooled.environment.id, coldStart: pooled.isColdStart, provisioned: pooled.origin === 'provisioned' };
  try {
    const outcome = await pooled.environment.invoke({ payload: '{}' });
    expect(outcome.kind).toBe('success');
  } finally {
    pool.release(pooled);
  }
  return served;
}

/** Runs an invoke on the fake clock: advances it by `ms` (a cold start's init), then waits for the answer. */
async function invokeAdvancing(target: PoolFunction, ms = INIT_MS): Promise<Served> {
  const served = invoke(target);
  await vi.advanceTimersByTimeAsync(ms);
  return served;
}

const environment = (id: string): FakeEnvironment => backend.environments.find((candidate) => candidate.id === id)!;

/** A keep-alive policy that answers with the decisions given, in order, then keeps environments 10 minutes. */
class ScriptedKeepAlive implements KeepAlivePolicy {
  private readonly decisions: KeepAliveDecision[];
  constructor(...decisions: KeepAliveDecision[]) {
    this.decisions = decisions;
  }
  invoked(): void {}
  idle(): KeepAliveDecision {
    return this.decisions.shift() ?? { prewarmAfterMs: 0, keepAliveMs: 10 * MINUTE };
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  await pool?.close();
  vi.useRealTimers();
});

describe('the memory budget', () => {
  it('evicts the idle environment of the function invoked least, and keeps the busier one warm', async () => {
    makePool({ memoryBudgetMb: 2048 });
    const often = await invokeAdvancing(fn('often'));
    await invoke(fn('often'));
    await invoke(fn('often'));
    const rare = await invokeAdvancing(fn('rare'));

    const third = await invokeAdvancing(fn('third'));
    expect(third.coldStart).toBe(true);
    expect(environment(rare.environment).stopped).toBe(true);
    expect(environment(often.environment).isGone).toBe(false);
    expect(await invoke(fn('often'))).toMatchObject({ environment: often.environment, coldStart: false });

    // The evicted function comes back cold, and the budget makes room for it the same way.
    const rareAgain = await invokeAdvancing(fn('rare'));
    expect(rareAgain).toMatchObject({ coldStart: true });
    expect(rareAgain.environment).not.toBe(rare.environment);
    expect(environment(third.environment).stopped).toBe(true);
    expect(environment(often.environment).isGone).toBe(false);
    expect(backend.environments).toHaveLength(4);
    expect(pool.memoryInUseMb).toBe(2048);
  });

  it('throttles a cold start that only busy environments stand in the way of, and admits it once one is released', async () => {
    makePool({ memoryBudgetMb: 2048 });
    const first = pool.reserve(fn('a'));
    const second = pool.reserve(fn('b'));
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const [busyA] = await Promise.all([first, second]);

    await expect(pool.reserve(fn('c'))).rejects.toMatchObject({ errorType: 'TooManyRequestsException' });
    expect(backend.starts).toBe(2);

    pool.release(busyA);
    const third = await invokeAdvancing(fn('c'));
    expect(third.coldStart).toBe(true);
    expect(environment(busyA.environment.id).stopped).toBe(true);
  });

  it('never evicts a provisioned environment, even idle: the cold start that would need it is throttled', async () => {
    makePool({ memoryBudgetMb: 2048 });
    pool.provision(fn('kept'), 1);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(pool.provisionedStatus('kept')).toMatchObject({ status: 'READY', available: 1 });
    const busy = pool.reserve(fn('busy'));
    await vi.advanceTimersByTimeAsync(INIT_MS);
    await busy;

    await expect(pool.reserve(fn('other'))).rejects.toMatchObject({ errorType: 'TooManyRequestsException' });
    expect(backend.of('kept')[0]!.isGone).toBe(false);
  });

  it('counts an environment still being started: a second cold start that would not fit beside it is throttled at once', async () => {
    makePool({ memoryBudgetMb: 1024 });
    backend.plan({ kind: 'hang' });
    const slow = pool.reserve(fn('slow'));
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.pending).toHaveLength(1);

    await expect(pool.reserve(fn('other'))).rejects.toMatchObject({ errorType: 'TooManyRequestsException' });
    expect(backend.starts).toBe(1);
    backend.pending[0]!.answer();
    await expect(slow).resolves.toMatchObject({ functionName: 'slow' });
  });
});

describe('starts that fail or hang', () => {
  it('hands the engine error to the invoke, frees its memory, and starts afresh for the next invoke', async () => {
    makePool({ memoryBudgetMb: 1024 });
    backend.plan({ kind: 'fail' });
    await expect(pool.reserve(fn('f'))).rejects.toMatchObject({ errorType: 'ServiceException' });
    expect(pool.memoryInUseMb).toBe(0);
    expect(await invokeAdvancing(fn('f'))).toMatchObject({ coldStart: true });
    expect(backend.starts).toBe(2);
  });

  it('gives up on a start the engine does not answer in time, and stops the environment the engine makes later', async () => {
    makePool();
    backend.plan({ kind: 'hang' });
    const reserve = pool.reserve(fn('f'));
    const failure = expect(reserve).rejects.toMatchObject({ errorType: 'ServiceException', message: expect.stringContaining('did not start an environment') });
    await vi.advanceTimersByTimeAsync(ENVIRONMENT_START_TIMEOUT_MS - 1);
    expect(backend.pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await failure;

    const late = backend.pending[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(late.stopped).toBe(true);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });
    expect(pool.memoryInUseMb).toBe(0);
  });
});

describe('pre-warming', () => {
  it('stops an environment the policy expects no invoke for soon, and pre-warms a fresh one just before it', async () => {
    makePool({ keepAlivePolicy: new ScriptedKeepAlive({ prewarmAfterMs: MINUTE, keepAliveMs: 30 * SECOND }) });
    const first = await invokeAdvancing(fn('f'));
    expect(environment(first.environment).stopped).toBe(true);

    await vi.advanceTimersByTimeAsync(MINUTE - 1);
    expect(backend.starts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(backend.starts).toBe(2);
    await vi.advanceTimersByTimeAsync(INIT_MS);

    const next = await invoke(fn('f'));
    expect(next).toMatchObject({ environment: backend.environments[1]!.id, coldStart: false });
    expect(backend.environments).toHaveLength(2);
  });

  it('stops a pre-warmed environment nobody invoked once its keep-alive is over', async () => {
    makePool({ keepAlivePolicy: new ScriptedKeepAlive({ prewarmAfterMs: MINUTE, keepAliveMs: 30 * SECOND }) });
    await invokeAdvancing(fn('f'));
    await vi.advanceTimersByTimeAsync(MINUTE + INIT_MS);
    const prewarmed = backend.environments[1]!;
    expect(pool.count('f')).toEqual({ busy: 0, idle: 1 });

    await vi.advanceTimersByTimeAsync(30 * SECOND - 1);
    expect(prewarmed.isGone).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(prewarmed.stopped).toBe(true);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });
  });

  it('cold-starts an invoke that comes while the pre-warm is still initialising, and keeps the pre-warm as a backup', async () => {
    makePool({ keepAlivePolicy: new ScriptedKeepAlive({ prewarmAfterMs: MINUTE, keepAliveMs: 10 * MINUTE }) });
    backend.plan({ kind: 'succeed' }, { kind: 'succeed', init: { kind: 'ready', afterMs: 5 * INIT_MS } });
    await invokeAdvancing(fn('f'));
    await vi.advanceTimersByTimeAsync(MINUTE + INIT_MS);
    const prewarming = backend.environments[1]!;

    const early = await invokeAdvancing(fn('f'));
    expect(early.coldStart).toBe(true);
    expect(early.environment).not.toBe(prewarming.id);
    await vi.advanceTimersByTimeAsync(5 * INIT_MS);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 2 });
    // The pre-warm became ready after the early invoke ended, yet the environment an invoke last used is taken
    // first: the pre-warmed one, never used, backs it up.
    expect(await invoke(fn('f'))).toMatchObject({ environment: early.environment, coldStart: false });
    const [a, b] = await Promise.all([invoke(fn('f')), invoke(fn('f'))]);
    expect([a.environment, b.environment].sort()).toEqual([early.environment, prewarming.id].sort());
    expect(backend.environments).toHaveLength(3);
  });

  it('does not pre-warm while an idle environment of the function is there', async () => {
    makePool({ keepAlivePolicy: new ScriptedKeepAlive({ prewarmAfterMs: 0, keepAliveMs: 10 * MINUTE }, { prewarmAfterMs: MINUTE, keepAliveMs: MINUTE }) });
    const first = pool.reserve(fn('f'));
    const second = pool.reserve(fn('f'));
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const [kept, stopped] = await Promise.all([first, second]);
    pool.release(kept);
    pool.release(stopped);
    expect(environment(stopped.environment.id).stopped).toBe(true);

    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(backend.starts).toBe(2);
    expect(await invoke(fn('f'))).toMatchObject({ environment: kept.environment.id, coldStart: false });
  });

  it('drops a pre-warm whose init fails: the next invoke is a cold start', async () => {
    makePool({ keepAlivePolicy: new ScriptedKeepAlive({ prewarmAfterMs: MINUTE, keepAliveMs: 10 * MINUTE }) });
    backend.plan({ kind: 'succeed' }, { kind: 'succeed', init: { kind: 'init-error', afterMs: INIT_MS } });
    await invokeAdvancing(fn('f'));
    await vi.advanceTimersByTimeAsync(MINUTE + INIT_MS);
    expect(backend.environments[1]!.stopped).toBe(true);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });

    const next = await invokeAdvancing(fn('f'));
    expect(next.coldStart).toBe(true);
    expect(backend.environments).toHaveLength(3);
  });

  it('serves a 15-minute timer warm once the hybrid policy has learnt it, holding nothing between ticks', async () => {
    makePool({ keepAlivePolicy: new HybridHistogramKeepAlive() }, { init: { kind: 'ready' }, invokeMs: 2 * SECOND });
    const ticks: Served[] = [];
    for (let tick = 0; tick < 14; tick++) {
      ticks.push(await invokeAdvancing(fn('timer'), 2 * SECOND));
      await vi.advanceTimersByTimeAsync(15 * MINUTE - 2 * SECOND);
    }
    // Ten idle times make its histogram representative: every tick after the 11th is served by a pre-warm.
    expect(ticks.map((served) => served.coldStart)).toEqual([...Array(11).fill(true), false, false, false]);
    expect(new Set(ticks.map((served) => served.environment)).size).toBe(14);
    // Between ticks nothing is held for long: the pre-warm comes 12.6 minutes after the tick's end, for 3.9 minutes.
    await invokeAdvancing(fn('timer'), 2 * SECOND);
    await vi.advanceTimersByTimeAsync(12 * MINUTE);
    expect(pool.count('timer')).toEqual({ busy: 0, idle: 0 });
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(pool.count('timer')).toEqual({ busy: 0, idle: 1 });
    await vi.advanceTimersByTimeAsync(4 * MINUTE);
    expect(pool.count('timer')).toEqual({ busy: 0, idle: 0 });
  });
});

describe('provisioned concurrency', () => {
  it('initialises the number asked ahead of any invoke, and serves from them before starting on demand', async () => {
    makePool();
    pool.provision(fn('f'), 2);
    expect(pool.provisionedStatus('f')).toMatchObject({ requested: 2, allocated: 0, status: 'IN_PROGRESS' });
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(pool.provisionedStatus('f')).toMatchObject({ requested: 2, allocated: 2, available: 2, status: 'READY' });
    expect(backend.environments.map((environment) => environment.provisioned)).toEqual([true, true]);

    const held = await Promise.all([pool.reserve(fn('f')), pool.reserve(fn('f'))]);
    expect(held.map((pooled) => [pooled.origin, pooled.isColdStart])).toEqual([
      ['provisioned', false],
      ['provisioned', false],
    ]);
    const reserving = pool.reserve(fn('f'));
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const overflow = await reserving;
    expect([overflow.origin, overflow.isColdStart]).toEqual(['on-demand', true]);
    for (const pooled of held) pool.release(pooled);
    pool.release(overflow);
    // The on-demand environment was released last, but the provisioned ones are taken first.
    expect(await invoke(fn('f'))).toMatchObject({ provisioned: true, coldStart: false });
    expect(await invoke(fn('f'))).toMatchObject({ provisioned: true, coldStart: false });
  });

  it('replaces an environment that dies, and is READY again once the replacement has initialised', async () => {
    makePool();
    pool.provision(fn('f'), 2);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    backend.environments[0]!.die('signal: killed');
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.provisionedStatus('f')).toMatchObject({ allocated: 1, status: 'IN_PROGRESS' });
    expect(backend.starts).toBe(3);
    expect(backend.environments[2]!.provisioned).toBe(true);

    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(pool.provisionedStatus('f')).toMatchObject({ allocated: 2, available: 2, status: 'READY' });
    const served = await Promise.all([invoke(fn('f')), invoke(fn('f'))]);
    expect(served.map((s) => s.environment).sort()).toEqual([backend.environments[1]!.id, backend.environments[2]!.id].sort());
  });

  it('replaces one at its maximum lifetime: the replacement starts then, the old one stops after its invoke', async () => {
    makePool({ maxLifetimeMs: 60 * MINUTE });
    pool.provision(fn('f'), 1);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const old = await pool.reserve(fn('f'));

    await vi.advanceTimersByTimeAsync(60 * MINUTE - INIT_MS);
    expect(backend.starts).toBe(2);
    expect(environment(old.environment.id).isGone).toBe(false);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    pool.release(old);
    expect(environment(old.environment.id).stopped).toBe(true);
    expect(await invoke(fn('f'))).toMatchObject({ environment: backend.environments[1]!.id, provisioned: true, coldStart: false });
  });

  it('reports FAILED when the init fails, and does not retry in a loop', async () => {
    makePool();
    backend.plan({ kind: 'succeed', init: { kind: 'init-error', afterMs: INIT_MS } });
    pool.provision(fn('f'), 1);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(pool.provisionedStatus('f')).toMatchObject({ status: 'FAILED', statusReason: 'FUNCTION_ERROR_INIT_FAILURE' });
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(backend.starts).toBe(1);
    expect(backend.running).toHaveLength(0);
  });

  it('a delete while the engine is still making the provisioned environments leaves none running once it answers', async () => {
    makePool();
    backend.plan({ kind: 'hang' }, { kind: 'hang' });
    pool.provision(fn('f'), 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.pending).toHaveLength(2);
    expect(pool.provisionedStatus('f')).toMatchObject({ status: 'IN_PROGRESS' });

    pool.retire('f'); // DeleteFunction
    for (const start of [...backend.pending]) start.answer();
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(backend.environments).toHaveLength(2);
    expect(backend.running).toHaveLength(0);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });
    expect(pool.snapshot().environments).toEqual([]);
  });

  it('an update while the provisioned environments initialise stops them at once and provisions the new revision only', async () => {
    makePool({}, { init: { kind: 'ready', afterMs: 5 * INIT_MS } });
    pool.provision(fn('f'), 2);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(backend.running).toHaveLength(2);

    // UpdateFunctionConfiguration: the service retires the function, then provisions its new revision.
    pool.retire('f');
    pool.provision(fn('f', 1024, 'r2'), 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.environments.slice(0, 2).every((environment) => environment.stopped)).toBe(true);
    await vi.advanceTimersByTimeAsync(5 * INIT_MS);
    expect(pool.provisionedStatus('f')).toMatchObject({ allocated: 2, status: 'READY' });
    expect(backend.running.map((environment) => environment.spec)).toHaveLength(2);
    expect(backend.running).toEqual(backend.environments.slice(2));
  });

  it('a new revision cancels the starts of the old one the engine has not answered yet', async () => {
    makePool();
    backend.plan({ kind: 'hang' });
    pool.provision(fn('f'), 1);
    await vi.advanceTimersByTimeAsync(0);
    pool.provision(fn('f', 1024, 'r2'), 1);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const late = backend.pending[0]!.answer();
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(late.spec.functionName).toBe('f');
    expect(late.stopped).toBe(true);
    expect(backend.running).toEqual([backend.environments[0]]);
    expect(pool.provisionedStatus('f')).toMatchObject({ requested: 1, allocated: 1, status: 'READY' });
  });

  it('an on-demand start cancelled by an update still serves the invoke that asked, then stops', async () => {
    makePool();
    backend.plan({ kind: 'hang' });
    const reserving = pool.reserve(fn('f'));
    await vi.advanceTimersByTimeAsync(0);
    pool.retire('f');
    backend.pending[0]!.answer();
    const pooled = await reserving;
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect((await pooled.environment.invoke({ payload: '{}' })).kind).toBe('success');
    pool.release(pooled);
    expect(backend.running).toHaveLength(0);
  });

  it('resizes by the difference only: idle ones stop first, the busy one and the rest stay', async () => {
    makePool();
    pool.provision(fn('f'), 3);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    const busy = await pool.reserve(fn('f'));

    pool.provision(fn('f'), 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.running.map((environment) => environment.id)).toEqual([busy.environment.id]);
    expect(pool.provisionedStatus('f')).toMatchObject({ requested: 1, allocated: 1, available: 0 });

    pool.provision(fn('f'), 2);
    await vi.advanceTimersByTimeAsync(INIT_MS);
    expect(backend.starts).toBe(4);
    expect(backend.running.map((environment) => environment.id)).toEqual([busy.environment.id, backend.environments[3]!.id]);
    expect(pool.provisionedStatus('f')).toMatchObject({ allocated: 2, status: 'READY' });
    pool.release(busy);
  });
});
