// lambkin's images as `npm run images` builds them: AWS's base-image conventions that users' Dockerfiles and tools
// rely on, what our layers add on top of the base, and /lambda-entrypoint.sh's argument handling and dispatch.
// Invoking functions through the emulator is covered by the emulator's own container tests.
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { requireDocker } from './support/docker.ts';

const NODEJS = 'lambkin/nodejs:24';
const PROVIDED = 'lambkin/provided:latest';
const EXAMPLES = ['lambkin-example/nodejs:latest', 'lambkin-example/provided:latest'];
// Bundled single files (runtime, emulator, entrypoint): far less than this, and no node_modules tree.
const MAX_ADDED_BYTES = 5_000_000;
// Other test files run containers at the same time under the shared test label; this file cleans up only its own.
const LABELS = ['--label', 'lambkin.test=1', '--label', 'lambkin.test.file=images'];

const docked = await requireDocker();

interface ImageConfig {
  Env: string[];
  WorkingDir: string;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  Labels: Record<string, string> | null;
}

async function inspect(image: string): Promise<{ Size: number; Config: ImageConfig }> {
  const { stdout } = await execa('docker', ['image', 'inspect', image]);
  return JSON.parse(stdout)[0];
}

function envOf(config: ImageConfig): Record<string, string> {
  return Object.fromEntries(config.Env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** `docker run --rm` in the foreground; resolves with the exit code and output, whatever the exit code. */
async function run(image: string, args: string[], options: { entrypoint?: string; env?: Record<string, string> } = {}) {
  const flags = ['run', '--rm', ...LABELS];
  if (options.entrypoint) flags.push('--entrypoint', options.entrypoint);
  for (const [key, value] of Object.entries(options.env ?? {})) flags.push('-e', `${key}=${value}`);
  const result = await execa('docker', [...flags, image, ...args], { reject: false, timeout: 60_000 });
  return { exitCode: result.exitCode, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

/** Layers of `image` above its base (newest first), with their sizes in bytes and the instruction that made them. */
async function addedLayers(image: string, base: string) {
  const history = async (name: string) => {
    const { stdout } = await execa('docker', ['history', '--no-trunc', '--human=false', '--format', '{{.Size}}\t{{.CreatedBy}}', name]);
    return stdout.split('\n').map((line) => {
      const [size, createdBy] = line.split('\t');
      return { size: Number(size), createdBy: createdBy ?? '' };
    });
  };
  const [mine, theirs] = await Promise.all([history(image), history(base)]);
  return mine.slice(0, mine.length - theirs.length);
}

describe.skipIf(!docked)("lambkin's images", () => {
  afterAll(async () => {
    // `--rm` removes each container when it exits; this catches any a timed-out run left behind.
    const { stdout } = await execa('docker', ['ps', '-aq', '--filter', 'label=lambkin.test.file=images'], { reject: false });
    const leftovers = stdout.split('\n').filter(Boolean);
    if (leftovers.length > 0) await execa('docker', ['rm', '-f', ...leftovers], { reject: false });
  });

  it('exist (built by `npm run images`)', async () => {
    for (const image of [NODEJS, PROVIDED, ...EXAMPLES]) {
      const result = await execa('docker', ['image', 'inspect', image], { reject: false });
      expect(result.exitCode, `${image} is missing: run \`npm run images\``).toBe(0);
    }
  });

  it.each([NODEJS, PROVIDED])("%s follows AWS's base-image conventions", async (image) => {
    const { Config } = await inspect(image);
    const env = envOf(Config);
    expect(env).toMatchObject({
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':/etc/localtime',
    });
    // As public.ecr.aws/lambda/nodejs:24 and provided:al2023 set them (aws/aws-lambda-base-images).
    expect(env).toMatchObject({
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    });
    expect(Config.WorkingDir).toBe('/var/task');
    expect(Config.Entrypoint).toEqual(['/lambda-entrypoint.sh']);
  });

  it(`${NODEJS} runs Node.js 24, with our runtime and emulator as bundled files in /var/runtime`, async () => {
    // Lambda's Node.js is /var/lang/bin/node, first on PATH.
    const version = await run(NODEJS, ['--version'], { entrypoint: '/var/lang/bin/node' });
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^v24\./);

    const listing = await run(NODEJS, ['-c', 'ls /var/runtime; find /var/runtime /var/task -name node_modules'], {
      entrypoint: 'sh',
    });
    expect(listing.exitCode).toBe(0);
    expect(listing.stdout.split('\n').sort()).toEqual(['bootstrap', 'chunks', 'emulator.mjs', 'index.mjs']);
  });

  it(`${NODEJS}: our layers add under 5 MB to the base`, async () => {
    const image = await inspect(NODEJS);
    const base = image.Config.Labels?.['org.opencontainers.image.base.name'];
    expect(base, 'the image records its base in org.opencontainers.image.base.name').toBeTruthy();
    const added = image.Size - (await inspect(base!)).Size;
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThan(MAX_ADDED_BYTES);
    const layers = await addedLayers(NODEJS, base!);
    expect(layers.reduce((sum, layer) => sum + layer.size, 0)).toBe(added);
  });

  it(`${PROVIDED} has no language runtime on PATH, but curl, and a private Node.js for the emulator`, async () => {
    const probe = await run(PROVIDED, ['-c', 'for c in node nodejs python3; do command -v $c; done; curl --version | head -n 1; /var/lambkin/node --version'], {
      entrypoint: 'sh',
    });
    expect(probe.exitCode).toBe(0);
    const [curl, privateNode, ...rest] = probe.stdout.split('\n');
    expect(rest).toEqual([]);
    expect(curl).toMatch(/^curl \d/);
    expect(privateNode).toMatch(/^v24\./);

    // Beyond the private Node.js binary (and curl, when a public base lacked it), our layers are small.
    const image = await inspect(PROVIDED);
    const layers = await addedLayers(PROVIDED, image.Config.Labels!['org.opencontainers.image.base.name']!);
    const ours = layers.filter((layer) => !/\/var\/lambkin\/node|apt-get install/.test(layer.createdBy));
    expect(ours.reduce((sum, layer) => sum + layer.size, 0)).toBeLessThan(MAX_ADDED_BYTES);
  });

  it.each([
    [NODEJS, []],
    [NODEJS, ['index.handler', 'extra']],
    [PROVIDED, ['function.handler', 'extra']],
  ])('%s: /lambda-entrypoint.sh %j prints its usage and fails', async (image, args) => {
    const result = await run(image, args);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/^usage: \/lambda-entrypoint\.sh .*handler/m);
  });

  it(`${NODEJS}: under a Lambda service (AWS_LAMBDA_RUNTIME_API set) the entrypoint execs /var/runtime/bootstrap`, async () => {
    // A stand-in bootstrap shows what was started, with which handler and which Runtime API.
    const result = await run(
      NODEJS,
      ['-c', `printf '#!/bin/sh\\necho "bootstrap $_HANDLER $AWS_LAMBDA_RUNTIME_API"\\n' > /var/runtime/bootstrap && exec /lambda-entrypoint.sh index.handler`],
      { entrypoint: 'sh', env: { AWS_LAMBDA_RUNTIME_API: '10.0.0.1:9001' } },
    );
    expect(result).toMatchObject({ exitCode: 0, stdout: 'bootstrap index.handler 10.0.0.1:9001' });
  });

  it(`${PROVIDED}: under a Lambda service the entrypoint execs the user's bootstrap, found where Lambda looks`, async () => {
    const script = [
      `printf '#!/bin/sh\\necho "task $_HANDLER"\\n' > /var/task/bootstrap`,
      `printf '#!/bin/sh\\necho opt\\n' > /opt/bootstrap`,
      'chmod +x /var/task/bootstrap /opt/bootstrap',
      '/lambda-entrypoint.sh function.handler',
      'rm /var/task/bootstrap',
      '/lambda-entrypoint.sh',
      'rm /opt/bootstrap',
      '/lambda-entrypoint.sh; echo "exit=$?"',
    ].join(' && ');
    const result = await run(PROVIDED, ['-c', script], { entrypoint: 'sh', env: { AWS_LAMBDA_RUNTIME_API: '10.0.0.1:9001' } });
    expect(result.stdout.split('\n')).toEqual(['task function.handler', 'opt', 'exit=1']);
    expect(result.stderr).toMatch(/no bootstrap found/);
  });
});
