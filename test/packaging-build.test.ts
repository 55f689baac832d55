// `lambkin build` against the real engine: function directories into images on lambkin's base images, run the way
// a user runs them (`docker run`, the emulator inside answering on the RIE's invoke path). Every image built here
// carries the test label and is removed afterwards.
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFunctionImage, ImageBuildError, type BuildProgressEvent } from '../src/packaging/image-build.ts';
import { packBuildContext } from '../src/packaging/build-context.ts';
import { progressRenderer } from '../src/packaging/build-progress.ts';
import { requireDocker } from './support/docker.ts';
import { containerExists, removeAllContainers, runContainer, TEST_LABEL } from './support/containers.ts';
import { repoRoot } from './support/emulator-process.ts';
import { invokeRie } from './support/rie-invoke.ts';

const labels = { [TEST_LABEL.split('=')[0]!]: TEST_LABEL.split('=')[1]! };
const tags = new Set<string>();
const dirs: string[] = [];
let counter = 0;

function tagFor(name: string): string {
  const tag = `lambkin-test-build/${name}:${process.pid}-${++counter}`;
  tags.add(tag);
  return tag;
}

async function functionDir(files: Record<string, string>, executable: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-build-test-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), content);
    if (executable.includes(name)) await chmod(join(dir, name), 0o755);
  }
  return dir;
}

async function listTaskRoot(image: string): Promise<string[]> {
  const { stdout } = await execa('docker', ['run', '--rm', '--label', TEST_LABEL, '--entrypoint', 'ls', image, '-A', '/var/task']);
  return stdout.split('\n').filter(Boolean).sort();
}

async function lines(...args: string[]): Promise<Set<string>> {
  const { stdout } = await execa('docker', args);
  return new Set(stdout.split('\n').filter(Boolean));
}

async function imageExists(id: string): Promise<boolean> {
  const result = await execa('docker', ['image', 'inspect', id], { reject: false });
  return result.exitCode === 0;
}

afterAll(async () => {
  await removeAllContainers();
  if (tags.size > 0) await execa('docker', ['rmi', '-f', ...tags], { reject: false });
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// The FROM step's " ---> id" line names the base image, which the build did not make.
const baseId =
  (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', 'lambkin/nodejs:24'], { reject: false })).stdout.replace(/^sha256:/, '').trim() || 'none';

const NODE_HANDLER = "exports.handler = async (event, context) => ({ hello: event.name, file: require('fs').existsSync('/var/task/secret.txt') });\n";

describe.skipIf(!(await requireDocker()))('lambkin build', () => {
  it('builds a directory without a Dockerfile on lambkin/nodejs:24, and the image answers an invoke', async () => {
    const dir = await functionDir({
      'index.js': NODE_HANDLER,
      'secret.txt': 'not for the image\n',
      '.dockerignore': '# local only\nsecret.txt\nlogs\n!logs/keep.txt\n',
    });
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'debug.log'), 'x');
    await writeFile(join(dir, 'logs', 'keep.txt'), 'kept');
    const events: BuildProgressEvent[] = [];
    const tag = tagFor('nodejs');
    const built = await buildFunctionImage({ dir, tag, labels, onProgress: (e) => events.push(e) });

    expect(built.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built).toMatchObject({ tag, ownDockerfile: false, runtime: 'nodejs24.x' });
    expect(events.filter((e) => e.kind === 'step').map((e) => (e as { instruction: string }).instruction)).toEqual([
      'FROM lambkin/nodejs:24',
      'COPY . ${LAMBDA_TASK_ROOT}/',
      'CMD ["index.handler"]',
      'LABEL lambkin.test=1', // the engine adds --label as a last step
    ]);
    const { stdout: id } = await execa('docker', ['image', 'inspect', '-f', '{{.Id}} {{index .Config.Labels "lambkin.test"}}', tag]);
    expect(id).toBe(`${built.imageId} 1`);

    // .dockerignore'd files stay out, its exceptions come in; the generated Dockerfile never lands anywhere.
    expect(await listTaskRoot(tag)).toEqual(['index.js', 'logs']);
    const { stdout: logs } = await execa('docker', ['run', '--rm', '--label', TEST_LABEL, '--entrypoint', 'ls', tag, '-A', '/var/task/logs']);
    expect(logs.split('\n')).toEqual(['keep.txt']);
    await expect(execa('ls', [join(dir, 'Dockerfile')])).rejects.toThrow();

    const container = await runContainer(tag);
    expect((await invokeRie(container.invokeUrl, JSON.stringify({ name: 'built' }))).json()).toEqual({ hello: 'built', file: false });
    await container.stop();
  });

  it('builds a directory with its own Dockerfile as it is', async () => {
    const dir = await functionDir({
      'app.js': "exports.run = async () => ({ marker: require('fs').readFileSync('/var/task/marker', 'utf8').trim() });\n",
      Dockerfile: 'FROM lambkin/nodejs:24\nCOPY app.js ${LAMBDA_TASK_ROOT}/\nRUN echo from-own-dockerfile > /var/task/marker\nCMD ["app.run"]\n',
    });
    const tag = tagFor('own');
    const built = await buildFunctionImage({ dir, tag, labels, runtime: 'provided.al2023', handler: 'ignored.handler' });
    expect(built.ownDockerfile).toBe(true);
    expect(await listTaskRoot(tag)).toEqual(['app.js', 'marker']);
    const container = await runContainer(tag);
    expect((await invokeRie(container.invokeUrl, JSON.stringify({}))).json()).toEqual({ marker: 'from-own-dockerfile' });
    await container.stop();
  });

  it('builds a provided.al2023 shell bootstrap (detected: an executable bootstrap, no Node.js code)', async () => {
    const example = join(repoRoot, 'images', 'examples', 'provided');
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-build-test-'));
    dirs.push(dir);
    await cp(join(example, 'bootstrap'), join(dir, 'bootstrap'));
    await cp(join(example, 'function.sh'), join(dir, 'function.sh'));
    await chmod(join(dir, 'bootstrap'), 0o755);
    const tag = tagFor('provided');
    const built = await buildFunctionImage({ dir, tag, labels, handler: 'function.handler' });
    expect(built.runtime).toBe('provided.al2023');
    const { stdout: base } = await execa('docker', ['image', 'inspect', '-f', '{{json .Config.Cmd}}', tag]);
    expect(base).toBe('["function.handler"]');
    expect(await listTaskRoot(tag)).toEqual(['bootstrap', 'function.sh']);
    const container = await runContainer(tag);
    expect((await invokeRie(container.invokeUrl, JSON.stringify({ name: 'sh' }))).json()).toMatchObject({
      message: 'Hello from a shell runtime',
      event: { name: 'sh' },
    });
    await container.stop();
  });

  it('refuses a provided.al2023 directory without an executable bootstrap, in Lambda terms', async () => {
    const missing = await functionDir({ 'function.sh': 'handler () { echo {}; }\n' });
    await expect(buildFunctionImage({ dir: missing, tag: tagFor('nobootstrap'), labels, runtime: 'provided.al2023' })).rejects.toThrow(
      /Runtime\.InvalidEntrypoint: Couldn't find valid bootstrap/,
    );
    const notExecutable = await functionDir({ bootstrap: '#!/bin/sh\n' });
    await expect(buildFunctionImage({ dir: notExecutable, tag: tagFor('noexec'), labels, runtime: 'provided.al2023' })).rejects.toThrow(
      /Runtime\.InvalidEntrypoint: .*bootstrap is not executable/,
    );
  });

  it('rejects a failing RUN with the engine message, leaving no container and no dangling image', async () => {
    const dir = await functionDir({
      'index.js': `// ${Date.now()} ${Math.random()}: a fresh COPY layer, never from the cache\n${NODE_HANDLER}`,
      Dockerfile: 'FROM lambkin/nodejs:24\nCOPY . ${LAMBDA_TASK_ROOT}/\nRUN echo about-to-fail && exit 3\n',
    });
    const containersBefore = await lines('ps', '-aq', '--no-trunc');
    const danglingBefore = await lines('images', '-f', 'dangling=true', '-q', '--no-trunc');
    const output: string[] = [];
    const failure = await buildFunctionImage({ dir, tag: tagFor('fails'), labels, onProgress: (e) => output.push(e.text) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImageBuildError);
    expect((failure as ImageBuildError).code).toBe('BuildFailed');
    expect((failure as Error).message).toContain("The command '/bin/sh -c echo about-to-fail && exit 3' returned a non-zero code: 3");

    const text = output.join('');
    expect(text).toContain('about-to-fail');
    // What the build made: the step container, and the COPY step's image (which the engine leaves dangling).
    const stepContainers = [...text.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]!);
    const stepImages = [...text.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!).filter((id) => !baseId.startsWith(id));
    expect(stepContainers.length).toBe(1);
    expect(stepImages.length).toBe(1);
    for (const id of stepContainers) expect(await containerExists(id)).toBe(false);
    for (const id of stepImages) expect(await imageExists(id)).toBe(false);

    const newContainers = [...(await lines('ps', '-aq', '--no-trunc'))].filter((id) => !containersBefore.has(id));
    const newDangling = [...(await lines('images', '-f', 'dangling=true', '-q', '--no-trunc'))].filter((id) => !danglingBefore.has(id));
    const ours = (id: string) => [...stepContainers, ...stepImages].some((short) => id.replace(/^sha256:/, '').startsWith(short));
    expect(newContainers.filter(ours)).toEqual([]);
    expect(newDangling.filter(ours)).toEqual([]);
  });

  it('says to run npm run images when a base image is missing, and what is wrong with DIR and its files', async () => {
    const dir = await functionDir({ 'index.js': NODE_HANDLER, Dockerfile: 'FROM lambkin/nodejs:no-such-tag\nCOPY . /var/task/\n' });
    const failure = await buildFunctionImage({ dir, tag: tagFor('nobase'), labels }).catch((e: unknown) => e);
    expect((failure as ImageBuildError).code).toBe('BaseImageMissing');
    expect((failure as Error).message).toMatch(/the base image lambkin\/nodejs:no-such-tag is missing: .*`npm run images`/);

    await expect(buildFunctionImage({ dir: join(dir, 'nope'), labels })).rejects.toThrow(/nope: no such directory/);

    // A file tar cannot carry ends the upload with a message, instead of a build that never answers.
    const withPipe = await functionDir({ 'index.js': NODE_HANDLER });
    await execa('mkfifo', [join(withPipe, 'pipe')]);
    await expect(buildFunctionImage({ dir: withPipe, tag: tagFor('pipe'), labels })).rejects.toThrow(
      /cannot send .* as the build context: unsupported type for pipe/,
    );
  });

  it('says Docker is down in the words lambkin serve uses', async () => {
    const dir = await functionDir({ 'index.js': NODE_HANDLER });
    const Dockerode = (await import('dockerode')).default;
    const docker = new Dockerode({ socketPath: join(dir, 'no-docker.sock') });
    const failure = await buildFunctionImage({ dir, tag: tagFor('nodocker'), labels, docker }).catch((e: unknown) => e);
    expect((failure as ImageBuildError).code).toBe('EngineUnreachable');
    expect((failure as Error).message).toMatch(/^cannot build without a Docker engine \(.*ENOENT.*\); start Docker, or set DOCKER_HOST$/);
  });

  it('the CLI prints the steps as plain lines when not on a terminal, and exits 0, or 1 on a failure', async () => {
    const cli = (...args: string[]) =>
      execa(process.execPath, ['-e', "import('./src/cli/build.ts').then((m) => m.main(process.argv.slice(1)))", ...args], {
        cwd: repoRoot,
        reject: false,
        all: true,
      });
    const dir = await functionDir({ 'index.js': NODE_HANDLER });
    const tag = tagFor('cli');
    const ok = await cli(dir, '-t', tag, '--label', TEST_LABEL);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('Step 1/4 : FROM lambkin/nodejs:24\n');
    expect(ok.stdout).toContain('Step 3/4 : CMD ["index.handler"]\n');
    expect(ok.stdout).not.toContain('\r');
    expect(ok.stdout).toMatch(new RegExp(`built ${tag.replace(/[/.]/g, '\\$&')} \\(sha256:[0-9a-f]{64}\\) in [\\d.]+ s\\n?$`));

    const failing = await functionDir({ Dockerfile: 'FROM lambkin/nodejs:24\nRUN exit 7\n' });
    const bad = await cli(failing, '-t', tagFor('cli-fails'), '--label', TEST_LABEL);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/Step 2\/3 : RUN exit 7\n/);
    expect(bad.stderr).toContain('lambkin build: cannot build lambkin-test-build/cli-fails');
    expect(bad.stderr).toContain('returned a non-zero code: 7');

    const usage = await cli(dir, '--runtime', 'python3.13');
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("--runtime must be nodejs24.x or provided.al2023, not 'python3.13'");
  });
});

describe('the build context', () => {
  it('leaves out what .dockerignore excludes, keeps its exceptions, and always sends the Dockerfile and .dockerignore', async () => {
    const dir = await functionDir({
      'index.js': NODE_HANDLER,
      'secret.txt': 'x',
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '# comment\nsecret.txt\nnode_modules\nlogs\n!logs/keep.txt\nDockerfile\n.dockerignore\n',
    });
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'debug.log'), 'x');
    await writeFile(join(dir, 'logs', 'keep.txt'), 'x');
    await mkdir(join(dir, 'node_modules', 'dep'), { recursive: true });
    await writeFile(join(dir, 'node_modules', 'dep', 'index.js'), 'x');
    const names = async (options?: Parameters<typeof packBuildContext>[1]) => {
      const tarFile = join(dir, '..', `${dir.split('/').pop()}.tar`);
      await pipeline(await packBuildContext(dir, options), createWriteStream(tarFile));
      const { stdout } = await execa('tar', ['-tvf', tarFile]);
      await rm(tarFile);
      // The regular files only (tar -tv's mode column starts with '-'), by name.
      return stdout
        .split('\n')
        .filter((line) => line.startsWith('-'))
        .map((line) => line.split(/\s+/).pop()!)
        .sort();
    };
    expect(await names()).toEqual(['.dockerignore', 'Dockerfile', 'index.js', 'logs/keep.txt']);
    // A generated Dockerfile is added to the stream, and kept out of COPY through the stream's .dockerignore.
    await rm(join(dir, 'Dockerfile'));
    await writeFile(join(dir, '.dockerignore'), 'secret.txt\n');
    expect(await names({ generatedDockerfile: { name: 'Dockerfile', content: 'FROM scratch\n' } })).toEqual([
      '.dockerignore',
      'Dockerfile',
      'index.js',
      'logs/debug.log',
      'logs/keep.txt',
      'node_modules/dep/index.js',
    ]);
  });
});

describe('build progress on a terminal', () => {
  it('keeps one status line per step, updated in place, and prints the failing step output when the build fails', () => {
    let written = '';
    const renderer = progressRenderer({ isTTY: true, columns: 60, write: (chunk: string) => (written += chunk) });
    renderer.onProgress({ kind: 'step', step: 1, total: 2, instruction: 'FROM lambkin/nodejs:24', text: 'Step 1/2 : FROM lambkin/nodejs:24\n' });
    renderer.onProgress({ kind: 'output', text: ' ---> 7c45f6666d60\n' });
    renderer.onProgress({ kind: 'step', step: 2, total: 2, instruction: 'RUN make', text: 'Step 2/2 : RUN make\n' });
    renderer.onProgress({ kind: 'output', text: 'compiling a very long line that does not fit in sixty columns at all, no\n' });
    renderer.onProgress({ kind: 'output', text: 'error: it broke\n' });
    expect(written).not.toContain('\n');
    expect(written).toContain('\r\x1b[2K[2/2] RUN make  error: it broke');
    expect(written.split('\r\x1b[2K').every((line) => line.length <= 59)).toBe(true);
    renderer.finish(true);
    expect(written.slice(written.lastIndexOf('\r\x1b[2K'))).toBe(
      '\r\x1b[2K[2/2] RUN make\n  compiling a very long line that does not fit in sixty columns at all, no\n  error: it broke\n',
    );
  });
});
