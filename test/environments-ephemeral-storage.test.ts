// /tmp as a loop-mounted ext4 filesystem per environment: real mounts, real loop devices, a real container. Needs
// root and Linux (skips otherwise, saying why); the container test needs Docker and lambkin/nodejs:24. Containers
// carry lambkin.test=1 and lambkin.test.owner=<pid>, the suite's convention (test/support/containers.ts).
import { randomUUID } from 'node:crypto';
import { readFile, readdir, stat, statfs, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopDevicesBackedUnder, mountPointsUnder, removeTree } from '../src/environments/ephemeral-filesystem.ts';
import { parseOwnerFolder } from '../src/environments/ephemeral-owners.ts';
import { EphemeralStoragePool, type EphemeralVolume } from '../src/environments/ephemeral-storage.ts';
import { requireDocker } from './support/docker.ts';

const MB = 1024 * 1024;
const supported = process.platform === 'linux' && process.getuid?.() === 0;
if (!supported) console.warn('[skipped] ephemeral storage tests: they need Linux and root (mount)');

/** A root of this file's own on disk, so the tests never touch the folders of a real host. */
const root = `/var/tmp/lambkin-ephemeral-test-${process.pid}`;

/** What is left of a volume on this machine: mounts, attached loop devices, files. */
async function leftovers(folder: string): Promise<{ mounts: string[]; loops: string[]; exists: boolean }> {
  return {
    mounts: await mountPointsUnder(folder),
    loops: await loopDevicesBackedUnder(folder),
    exists: await stat(folder).then(
      () => true,
      () => false,
    ),
  };
}

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

afterAll(async () => {
  if (!supported) return;
  await EphemeralStoragePool.reapDeadOwners({ root });
  // Never rm -r through a mount: removeTree unmounts first.
  await removeTree(root);
});

describe.skipIf(!supported)('EphemeralStoragePool', () => {
  const pools: EphemeralStoragePool[] = [];
  const newPool = (spares?: number) => {
    const pool = new EphemeralStoragePool({ root, ownerId: randomUUID(), ...(spares !== undefined ? { spares } : {}) });
    pools.push(pool);
    return pool;
  };

  beforeAll(async () => {
    await mkdir(root, { recursive: true });
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  it('hands out a mounted, empty, 1777 filesystem of the size asked, full past it, gone after release()', async () => {
    const pool = newPool();
    expect(await pool.prepare()).toBe(true);
    for (const sizeMb of [512, 1024]) {
      const volume = await pool.take(sizeMb);
      expect(volume.sizeMb).toBe(sizeMb);
      const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
      const line = mountinfo.split('\n').find((entry) => entry.split(' ')[4] === volume.hostPath);
      expect(line).toMatch(/ rw,nosuid,nodev,.* - ext4 \/dev\/loop\d+ /);
      expect(line).not.toMatch(/noexec/);
      expect(await readdir(volume.hostPath)).toEqual([]);
      expect((await stat(volume.hostPath)).mode & 0o7777).toBe(0o1777);

      // At least the size asked is free, and not much more (ext4's own metadata is paid for by the file).
      const fs = await statfs(volume.hostPath);
      const availableMb = (fs.bavail * fs.bsize) / MB;
      expect(availableMb).toBeGreaterThanOrEqual(sizeMb);
      expect(availableMb).toBeLessThan(sizeMb * 1.01 + 4);

      // Past the size: ENOSPC, as on Lambda.
      const big = Buffer.alloc(64 * MB, 1);
      let written = 0;
      let failure: NodeJS.ErrnoException | undefined;
      for (let index = 0; written <= sizeMb * MB; index++) {
        try {
          await writeFile(join(volume.hostPath, `f${index}`), big);
          written += big.length;
        } catch (error) {
          failure = error as NodeJS.ErrnoException;
          break;
        }
      }
      expect(failure?.code).toBe('ENOSPC');
      expect(written).toBeGreaterThanOrEqual((sizeMb - 64) * MB);

      const folder = join(volume.hostPath, '..');
      await volume.release();
      await volume.release(); // idempotent
      expect(await leftovers(folder)).toEqual({ mounts: [], loops: [], exists: false });
    }
  });

  it('a spare makes take() fast', async () => {
    const withSpares = newPool(2);
    const without = newPool(0);
    expect(await withSpares.prepare()).toBe(true);
    expect(await without.prepare()).toBe(true);
    await withSpares.settled();
    await without.settled();
    expect(withSpares.readySpares().get(512)).toBe(2);

    const [spare, spareMs] = await time(() => withSpares.take(512));
    const [made, madeMs] = await time(() => without.take(512));
    // Another size: made on demand the first time, then a spare of it is kept.
    const [other, otherMs] = await time(() => withSpares.take(2048));
    await withSpares.settled();
    expect(withSpares.readySpares().get(2048)).toBe(1);
    const [otherSpare, otherSpareMs] = await time(() => withSpares.take(2048));
    console.log(
      `take(): 512 MB spare ${spareMs.toFixed(1)} ms, made on demand ${madeMs.toFixed(1)} ms; ` +
        `2048 MB made on demand ${otherMs.toFixed(1)} ms, spare ${otherSpareMs.toFixed(1)} ms`,
    );
    expect(spareMs).toBeLessThan(madeMs);
    expect(spareMs).toBeLessThan(20);
    expect(otherSpareMs).toBeLessThan(20);
    await Promise.all([spare, made, other, otherSpare].map((volume) => volume.release()));
  });

  it('a burst past the spares makes more on demand, and close() leaves nothing', async () => {
    const pool = newPool(2);
    expect(await pool.prepare()).toBe(true);
    await pool.settled();
    const [volumes, burstMs] = await time(() => Promise.all(Array.from({ length: 8 }, () => pool.take(512))));
    console.log(`take(): a burst of 8 with 2 spares: ${burstMs.toFixed(0)} ms`);
    expect(new Set(volumes.map((volume) => volume.hostPath)).size).toBe(8);
    const folder = join(volumes[0]!.hostPath, '..', '..');
    expect(parseOwnerFolder(folder.split('/').pop()!)?.pid).toBe(process.pid);
    await pool.close();
    expect(await leftovers(folder)).toEqual({ mounts: [], loops: [], exists: false });
    await expect(pool.take(512)).rejects.toMatchObject({ errorType: 'ServiceException' });
  });

  it('refuses sizes Lambda refuses', async () => {
    const pool = newPool(0);
    for (const size of [511, 10_241, 600.5]) {
      await expect(pool.take(size)).rejects.toMatchObject({ errorType: 'InvalidParameterValueException' });
    }
  });

  it('reapDeadOwners() removes what a host killed with -9 left, and leaves live owners alone', async () => {
    const live = newPool(1);
    expect(await live.prepare()).toBe(true);
    const liveVolume = await live.take(512);

    const script = `
      import { EphemeralStoragePool } from ${JSON.stringify(join(process.cwd(), 'src/environments/ephemeral-storage.ts'))};
      const pool = new EphemeralStoragePool({ root: ${JSON.stringify(root)}, ownerId: 'doomed', spares: 1 });
      if (!(await pool.prepare())) throw new Error(pool.unsupportedReason);
      const volume = await pool.take(1024);
      await pool.settled();
      console.log(volume.hostPath);
      setInterval(() => {}, 1000);
    `;
    const child = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
    const hostPath = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()));
      void child.then((result) => reject(new Error(`child exited: ${result.stderr}`)));
    });
    const folder = join(hostPath, '..', '..');
    try {
      const before = await leftovers(folder);
      // The 512 MB spare, the 1024 MB volume taken and the 1024 MB spare made after it.
      expect(before.mounts.length).toBe(3);
      expect(before.loops.length).toBe(3);
    } finally {
      child.kill('SIGKILL');
      await child;
    }

    const removed = await EphemeralStoragePool.reapDeadOwners({ root });
    expect(removed).toEqual([folder]);
    expect(await leftovers(folder)).toEqual({ mounts: [], loops: [], exists: false });
    // The live pool's volume is untouched.
    expect(await mountPointsUnder(liveVolume.hostPath)).toEqual([liveVolume.hostPath]);
    await liveVolume.release();
  });
});

describe.skipIf(!supported || !(await requireDocker()))('/tmp in a container', () => {
  const docker = new Dockerode();
  const image = 'lambkin/nodejs:24';
  const pool = new EphemeralStoragePool({ root, ownerId: randomUUID(), spares: 0 });

  afterAll(async () => {
    const containers = await docker.listContainers({ all: true, filters: { label: ['lambkin.test=1', `lambkin.test.owner=${process.pid}`] } });
    await Promise.all(containers.map((container) => docker.getContainer(container.Id).remove({ force: true })));
    await pool.close();
  });

  async function runWithTmp(volume: EphemeralVolume, script: string): Promise<{ exitCode: number; oomKilled: boolean; output: string }> {
    const memory = 256 * MB;
    const container = await docker.createContainer({
      Image: image,
      Entrypoint: ['/bin/sh', '-c', script],
      User: '993:990',
      Labels: { 'lambkin.test': '1', 'lambkin.test.owner': String(process.pid) },
      HostConfig: {
        Memory: memory,
        MemorySwap: memory,
        ReadonlyRootfs: true,
        Mounts: [{ Type: 'bind', Source: volume.hostPath, Target: '/tmp' }],
      },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const info = await container.inspect();
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('latin1');
      return { exitCode: StatusCode, oomKilled: info.State.OOMKilled, output: logs };
    } finally {
      await container.remove({ force: true });
    }
  }

  it('a 256 MB function writes 600 MB to /tmp without being OOM-killed', { timeout: 120_000 }, async () => {
    expect(await pool.prepare()).toBe(true);
    const volume = await pool.take(1024);
    const result = await runWithTmp(volume, 'dd if=/dev/zero of=/tmp/big bs=1M count=600 2>&1 && ls -ln /tmp && echo ok');
    console.log(`container with 256 MB writing 600 MB to /tmp: exit ${result.exitCode}, OOMKilled ${result.oomKilled}`);
    expect(result).toMatchObject({ exitCode: 0, oomKilled: false });
    expect(result.output).toMatch(/ 993 +990 +629145600 .*big/);
    expect(result.output).toContain('ok');
    await volume.release();
    expect(await leftovers(join(volume.hostPath, '..'))).toEqual({ mounts: [], loops: [], exists: false });
  });

  it('past EphemeralStorage the write fails with ENOSPC, not an OOM kill', { timeout: 120_000 }, async () => {
    const volume = await pool.take(512);
    const result = await runWithTmp(volume, 'dd if=/dev/zero of=/tmp/big bs=1M count=600 2>&1; echo "dd exit $?"');
    expect(result.oomKilled).toBe(false);
    expect(result.output).toMatch(/No space left on device/);
    expect(result.output).toMatch(/dd exit 1/);
    await volume.release();
  });
});
