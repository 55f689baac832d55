// bin/lambkin from a shell whose `node` is older than 24 (this machine's own Node 20): it runs the CLI on the
// project's Node 24 (the `node` devDependency) instead, also through a symlink and from any folder; with no Node 24
// to be found it says so in one line. And an error in the CLI shows a stack into src/, through the bundle's source
// maps, not a line of the bundle.
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'lambkin');
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The machine's own node (not the project's), and its major version. */
async function systemNode(): Promise<{ path: string; major: number } | undefined> {
  const found = await execa('sh', ['-c', 'command -v node'], { env: { PATH: SYSTEM_PATH }, extendEnv: false, reject: false });
  if (found.exitCode !== 0 || !found.stdout) return undefined;
  const version = (await execa(found.stdout, ['--version'])).stdout;
  return { path: found.stdout, major: Number(version.slice(1).split('.')[0]) };
}

const oldNode = await systemNode();
const hasOldNode = oldNode !== undefined && oldNode.major < 24;
let scratch: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'lambkin.mjs'))) await execa('npm', ['run', '-s', 'build'], { cwd: ROOT });
  scratch = await mkdtemp(join(tmpdir(), 'lambkin-node-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** bin/lambkin run by `sh`, with PATH holding only the machine's own node, from a folder that is not the project's. */
const runWithOldNode = (command: string, args: string[]) =>
  execa(command, args, { cwd: scratch, env: { PATH: `${dirname(oldNode!.path)}:${SYSTEM_PATH}`, HOME: scratch }, extendEnv: false, reject: false });

describe.skipIf(!hasOldNode)(`bin/lambkin with the machine's Node ${oldNode?.major} first on PATH`, () => {
  it("runs the CLI on the project's Node 24: --help exits 0 with the usage", async () => {
    const result = await runWithOldNode(BIN, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^usage: lambkin <command>/);
    expect(result.stdout).toContain('package [DIR]');
  });

  it('works through a symlink in another bin dir (npm link, a global install)', async () => {
    const binDir = join(scratch, 'global-bin');
    await mkdir(binDir, { recursive: true });
    await symlink(BIN, join(binDir, 'lambkin'));
    const result = await runWithOldNode(join(binDir, 'lambkin'), ['package', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^usage: lambkin package/);
    // A real command, end to end, on Node 24 (node:sqlite and the rest load).
    const status = await runWithOldNode(join(binDir, 'lambkin'), ['status', '--endpoint', 'http://127.0.0.1:9']);
    expect(status.stderr).not.toMatch(/TypeError|ERR_UNKNOWN_BUILTIN_MODULE/);
  });

  it('with no Node 24 to be found, says which it needs and which it found, in one line (exit 1)', async () => {
    const lone = join(scratch, 'lone', 'bin');
    await mkdir(lone, { recursive: true });
    await copyFile(BIN, join(lone, 'lambkin'));
    const result = await execa('sh', [join(lone, 'lambkin'), '--help'], {
      cwd: scratch,
      env: { PATH: `${dirname(oldNode!.path)}:${SYSTEM_PATH}` },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^lambkin: needs Node\\.js 24 or later; found v${oldNode!.major}\\.\\d+\\.\\d+ at ${oldNode!.path}`));
  });
});

describe('an error in the CLI bundle', () => {
  it('shows a stack with src/ file names and lines, not the bundle', async () => {
    const chunk = readdirSync(join(ROOT, 'dist', 'cli', 'chunks')).find((name) => /^package-.*\.mjs$/.test(name));
    expect(chunk).toBeDefined();
    // The package command's run() with a flag it does not know throws its UsageError uncaught: Node prints the stack,
    // with the options bin/lambkin gives the CLI.
    const script = `const { run } = await import(${JSON.stringify(join(ROOT, 'dist', 'cli', 'chunks', chunk!))}); await run(['--no-such-flag']);`;
    const result = await execa(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('UsageError');
    expect(result.stderr).toMatch(/src\/cli\/flags\.ts:\d+:\d+/);
    expect(result.stderr).toMatch(/src\/cli\/package\.ts:\d+:\d+/);
    for (const line of result.stderr.split('\n')) expect(line.length).toBeLessThan(500);
  });
});
