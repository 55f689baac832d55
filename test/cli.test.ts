// The `lambkin` command as a user runs it (bin/lambkin, built by npm run build).
import { join } from 'node:path';
import { execa } from 'execa';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeRuntimeBootstrap, repoRoot, startEmulator, stopAllEmulators } from './support/emulator-process.ts';

const lambkin = join(repoRoot, 'bin', 'lambkin');
const fixtures = join(repoRoot, 'test', 'fixtures', 'emulator');
const withNode24 = { PATH: `${join(process.execPath, '..')}:${process.env.PATH}` };

afterEach(stopAllEmulators);

describe('lambkin', () => {
  it('emulate runs a function on this machine, invoked on the RIE path', async () => {
    const emulator = await startEmulator({
      launcher: [lambkin, 'emulate'],
      args: [nodeRuntimeBootstrap, 'index.echo'],
      env: { LAMBDA_TASK_ROOT: fixtures },
      cwd: fixtures,
    });
    const res = await request(emulator.invokeUrl, { method: 'POST', body: '{"from":"cli"}' });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { event: unknown }).event).toEqual({ from: 'cli' });
  });

  it('prints its usage with no command, and refuses an unknown one with exit code 2', async () => {
    const help = await execa(lambkin, [], { env: withNode24 });
    expect(help.stdout).toContain('usage: lambkin <command>');
    const wrong = await execa(lambkin, ['fly'], { env: withNode24, reject: false });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain("unknown command 'fly'");
  });
});
