// Runs images the way a user does (`docker run -p 127.0.0.1::8080 IMAGE HANDLER`, `docker build`), through the
// docker CLI. Every container and image a test makes carries the label lambkin.test=1 and the pid of the test
// process that owns it, and is removed afterwards, also when the test fails. Test files run in parallel, so a
// file removes its own containers and those of owners that are dead, never another live file's.
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_LABEL = 'lambkin.test=1';
const OWNER_LABEL = 'lambkin.test.owner';

export interface RunningContainer {
  id: string;
  url: string;
  invokeUrl: string;
  logs(): Promise<string>;
  waitForLogs(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const started = new Set<RunningContainer>();
const builtImages = new Set<string>();

export async function docker(...args: string[]) {
  return execa('docker', args, { reject: true });
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Arguments after the image: the handler (CMD) for our images. */
  args?: string[];
  entrypoint?: string;
  extra?: string[];
}

/** `docker run -d -p 127.0.0.1::8080 IMAGE ...`, then waits until the emulator listens. */
export async function runContainer(image: string, options: RunOptions = {}): Promise<RunningContainer> {
  const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const entry = options.entrypoint ? ['--entrypoint', options.entrypoint] : [];
  const { stdout } = await docker(
    'run',
    '-d',
    '--label',
    TEST_LABEL,
    '--label',
    `${OWNER_LABEL}=${process.pid}`,
    '-p',
    '127.0.0.1::8080',
    ...envArgs,
    ...entry,
    ...(options.extra ?? []),
    image,
    ...(options.args ?? []),
  );
  const id = stdout.trim();
  const logs = async () => {
    const result = await execa('docker', ['logs', id], { reject: false, all: true });
    return result.all ?? '';
  };
  const container: RunningContainer = {
    id,
    url: '',
    invokeUrl: '',
    logs,
    waitForLogs: async (pattern, timeoutMs = 15_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const text = await logs();
        if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
        if (Date.now() > until) throw new Error(`Timed out waiting for ${pattern} in the logs of ${id}:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      started.delete(container);
      await execa('docker', ['rm', '-f', id], { reject: false });
    },
  };
  started.add(container);
  try {
    const port = await docker('port', id, '8080/tcp');
    const hostPort = /:(\d+)\s*$/m.exec(port.stdout)?.[1];
    if (!hostPort) throw new Error(`No published port for ${id}: ${port.stdout}`);
    container.url = `http://127.0.0.1:${hostPort}`;
    container.invokeUrl = `${container.url}/2015-03-31/functions/function/invocations`;
    await container.waitForLogs(/listening on/);
  } catch (error) {
    await container.stop();
    throw error;
  }
  return container;
}

/** Builds an image from files written into a temp context, as a user's `docker build` would. */
export async function buildImage(tag: string, files: Record<string, string | { copyFrom: string }>): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'lambkin-build-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (typeof content === 'string') await writeFile(join(context, name), content, { mode: name === 'bootstrap' ? 0o755 : 0o644 });
      else await cp(content.copyFrom, join(context, name), { recursive: true });
    }
    await docker('build', '-q', '--label', TEST_LABEL, '-t', tag, context);
    builtImages.add(tag);
    return tag;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

export async function removeAllContainers(): Promise<void> {
  await Promise.all([...started].map((c) => c.stop()));
  // Belt and braces: containers of this process, or of a test process that died without cleaning up.
  const { stdout } = await execa('docker', ['ps', '-a', '--filter', `label=${TEST_LABEL}`, '--format', `{{.ID}} {{.Label "${OWNER_LABEL}"}}`], {
    reject: false,
  });
  const leftovers = stdout
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([id, owner]) => id && (Number(owner) === process.pid || !isAlive(Number(owner))))
    .map(([id]) => id!);
  if (leftovers.length > 0) await execa('docker', ['rm', '-f', ...leftovers], { reject: false });
}

export async function removeBuiltImages(): Promise<void> {
  if (builtImages.size === 0) return;
  await execa('docker', ['rmi', '-f', ...builtImages], { reject: false });
  builtImages.clear();
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the engine still has a container with this id (or name), running or not. */
export async function containerExists(id: string): Promise<boolean> {
  try {
    await new Dockerode().getContainer(id).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}
