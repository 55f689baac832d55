// EnvironmentPool's bookkeeping against the fake backend (test/support/fake-backend.ts, no Docker): which environment
// a reserve gets, and when environments are stopped. test/pool-lifecycle.test.ts covers eviction, pre-warms and
// provisioned concurrency; test/pool-docker.test.ts the same through real containers and the SDK.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Environment } from '../src/environments/backend.ts';
import { EnvironmentPool, type PoolFunction } from '../src/environments/pool.ts';
import { FakeBackend, type FakeEnvironment } from './support/fake-backend.ts';

const fn = (revision = 'r1', functionName = 'f'): PoolFunction => ({
  functionName,
  revision,
  spec: { functionName, image: 'img', memorySizeMb: 1024, timeoutSeconds: 3 },
});
const fake = (environment: Environment) => environment as FakeEnvironment;

afterEach(() => {
  vi.useRealTimers();
});

describe('EnvironmentPool', () => {
  it('reuses the most recently released idle environment, and starts new ones for concurrent reserves', async () => {
    const backend = new FakeBackend();
    const pool = new EnvironmentPool(backend);
    const [a, b] = await Promise.all([pool.reserve(fn()), pool.reserve(fn())]);
    expect(a.environment).not.toBe(b.environment);
    expect(a.isColdStart).toBe(true);
    pool.release(a);
    pool.release(b);
    const again = await pool.reserve(fn());
    expect(again).toBe(b);
    expect(again.isColdStart).toBe(false);
    expect(backend.environments).toHaveLength(2);
    await pool.close();
  });

  it('stops idle environments after the keep-alive, and any environment after its lifetime once it is free', async () => {
    vi.useFakeTimers();
    const pool = new EnvironmentPool(new FakeBackend(), { keepAliveMs: 1_000, maxLifetimeMs: 5_000 });
    const idle = await pool.reserve(fn());
    pool.release(idle);
    vi.advanceTimersByTime(999);
    expect(fake(idle.environment).stopped).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fake(idle.environment).stopped).toBe(true);

    const busy = await pool.reserve(fn());
    expect(busy).not.toBe(idle);
    vi.advanceTimersByTime(5_000);
    expect(fake(busy.environment).stopped).toBe(false); // busy: it finishes its invoke first
    pool.release(busy);
    expect(fake(busy.environment).stopped).toBe(true);
    await pool.close();
  });

  it('retires stale revisions: idle ones at once, busy ones on release', async () => {
    const pool = new EnvironmentPool(new FakeBackend());
    const idle = await pool.reserve(fn('r1'));
    const busy = await pool.reserve(fn('r1'));
    pool.release(idle);
    const current = await pool.reserve(fn('r2'));
    expect(current).not.toBe(idle);
    expect(fake(idle.environment).stopped).toBe(true);
    expect(fake(busy.environment).stopped).toBe(false);
    pool.release(busy);
    expect(fake(busy.environment).stopped).toBe(true);
    pool.release(current);
    pool.retire('f');
    expect(fake(current.environment).stopped).toBe(true);
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });
  });

  it('never hands out a dead environment', async () => {
    const pool = new EnvironmentPool(new FakeBackend());
    const crashedWhileIdle = await pool.reserve(fn());
    pool.release(crashedWhileIdle);
    fake(crashedWhileIdle.environment).die();
    await crashedWhileIdle.environment.exited;
    expect(pool.count('f')).toEqual({ busy: 0, idle: 0 });

    const timedOut = await pool.reserve(fn());
    expect(timedOut).not.toBe(crashedWhileIdle);
    fake(timedOut.environment).markDead(); // a timed-out invoke: dead before its kill lands
    pool.release(timedOut);
    expect(fake(timedOut.environment).stopped).toBe(true);
    expect((await pool.reserve(fn())).environment).not.toBe(timedOut.environment);
    await pool.close();
  });

  it('close() stops everything, including a cold start still in progress, and refuses new reserves', async () => {
    const backend = new FakeBackend();
    const pool = new EnvironmentPool(backend);
    const idle = await pool.reserve(fn());
    pool.release(idle);
    const starting = pool.reserve(fn('r1', 'other'));
    await pool.close();
    await expect(starting).rejects.toMatchObject({ errorType: 'ServiceException' });
    expect(backend.environments.every((environment) => environment.stopped)).toBe(true);
    await expect(pool.reserve(fn())).rejects.toMatchObject({ errorType: 'ServiceException' });
  });
});
