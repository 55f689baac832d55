// The host's side of each environment's telemetry log pipe (src/environments/telemetry-pipe.ts), without an engine:
// the FIFO a container's user can write and nobody else read, frames read in whatever pieces they come, the last
// ones drained at close, and no folder left behind: by close(), and after a host that died without closing.
import { constants, closeSync, openSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTelemetryFrame, type TelemetryRecord } from '../src/runtime-api/telemetry-frames.ts';
import { recordOutput, TELEMETRY_PIPE_NAME, TelemetryPipes, type TelemetryPipe } from '../src/environments/telemetry-pipe.ts';

const roots: string[] = [];
const pools: TelemetryPipes[] = [];
const writers: number[] = [];

afterEach(async () => {
  for (const fd of writers.splice(0)) closeSync(fd);
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function pool(): Promise<{ pipes: TelemetryPipes; root: string }> {
  const root = join(await mkdtemp(join(tmpdir(), 'lambkin-telemetry-test-')), 'pipes');
  roots.push(join(root, '..'));
  const pipes = new TelemetryPipes({ root, ownerId: 'test-host' });
  pools.push(pipes);
  return { pipes, root };
}

/** Opens the FIFO for writing as the container's entrypoint does (the host's reader is already there). */
function writerOf(pipe: TelemetryPipe): number {
  const fd = openSync(join(pipe.hostDirectory, TELEMETRY_PIPE_NAME), constants.O_WRONLY | constants.O_NONBLOCK);
  writers.push(fd);
  return fd;
}

function reading(pipe: TelemetryPipe) {
  const records: TelemetryRecord[] = [];
  const broken: Error[] = [];
  pipe.read({ onRecord: (record) => records.push(record), onBroken: (error) => broken.push(error) });
  return { records, broken };
}

describe('telemetry log pipes', () => {
  it('makes a FIFO anyone may write and only the host read, in folders anyone may pass through', async () => {
    const { pipes, root } = await pool();
    const pipe = (await pipes.take())!;
    expect(pipe).toBeDefined();
    const fifo = statSync(join(pipe.hostDirectory, TELEMETRY_PIPE_NAME));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o777).toBe(0o622);
    for (let folder = pipe.hostDirectory; folder !== join(root, '..'); folder = join(folder, '..')) {
      expect(statSync(folder).mode & 0o777, folder).toBe(0o711);
    }
  });

  it('reads frames in any pieces as records, a multi-line one as one output event with its time and level', async () => {
    const { pipes } = await pool();
    const pipe = (await pipes.take())!;
    const { records } = reading(pipe);
    const fd = writerOf(pipe);
    const frame = encodeTelemetryFrame({ format: 'text', level: 'ERROR', timestampUs: 1_795_000_000_123_456n, message: 'one\ntwo\n' });
    // Split inside the header, then inside the payload.
    for (const piece of [frame.subarray(0, 5), frame.subarray(5, 20), frame.subarray(20)]) writeSync(fd, piece);
    await expect.poll(() => records.length).toBe(1);
    expect(recordOutput(records[0]!)).toEqual({ stream: 'telemetry', line: 'one\ntwo', timestampMs: 1_795_000_000_123, level: 'ERROR' });
  });

  it('close() hands over what the runtime wrote last, though no reading came to it yet, and removes the folder', async () => {
    const { pipes } = await pool();
    const pipe = (await pipes.take())!;
    const { records } = reading(pipe);
    const fd = writerOf(pipe);
    writeSync(fd, encodeTelemetryFrame({ format: 'json', level: 'INFO', timestampUs: 1n, message: '{"last":true}' }));
    // Synchronously: the event loop has not read the pipe yet.
    const closing = pipe.close();
    expect(records.map((record) => record.message)).toEqual(['{"last":true}']);
    await closing;
    expect(() => statSync(pipe.hostDirectory)).toThrow();
  });

  it('says once when the pipe is not frames', async () => {
    const { pipes } = await pool();
    const pipe = (await pipes.take())!;
    const { records, broken } = reading(pipe);
    const fd = writerOf(pipe);
    writeSync(fd, Buffer.from('plain text, not a frame header'));
    await expect.poll(() => broken.length).toBe(1);
    writeSync(fd, encodeTelemetryFrame({ format: 'text', timestampUs: 1n, message: 'after\n' }));
    await pipe.close();
    expect(broken).toHaveLength(1);
    expect(records).toEqual([]);
  });

  it("close() of the pool removes the host's folder, spares and pipes still out included", async () => {
    const { pipes, root } = await pool();
    const out = (await pipes.take())!;
    reading(out);
    expect((await readdir(root)).length).toBe(1);
    await pipes.close();
    expect(await readdir(root)).toEqual([]);
    expect(await pipes.take()).toBeUndefined();
  });

  it("the next host removes a dead host's folders, never a live one's", async () => {
    const { pipes, root } = await pool();
    await pipes.take();
    // A pid that cannot be running (above the kernel's pid_max).
    const dead = join(root, '4194305-12345-dead-host');
    await mkdir(join(dead, '1'), { recursive: true });
    const removed = await TelemetryPipes.reapDeadOwners({ root });
    expect(removed).toEqual([dead]);
    expect(await readdir(root)).toHaveLength(1);
  });
});
