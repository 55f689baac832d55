// Starts the bundled emulator (dist/emulator/index.mjs) as a child process on free loopback ports, the way a
// container's entrypoint would, and always stops it again.
import { execa, type ResultPromise } from 'execa';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const emulatorBundle = join(repoRoot, 'dist', 'emulator', 'index.mjs');
export const nodeRuntimeBootstrap = join(repoRoot, 'runtime', 'bootstrap');

export interface RunningEmulator {
  /** Base URL of the invoke endpoint, e.g. http://127.0.0.1:40123 */
  url: string;
  invokeUrl: string;
  /** Everything the emulator and its runtime printed so far. */
  output(): string;
  /** Resolves once `text` appears in the output (bounded by `timeoutMs`). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  process: ResultPromise;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  args?: string[];
  /** How to start it: the image's bundle by default; e.g. [bin/lambkin, 'emulate'] for the CLI. */
  launcher?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

const running = new Set<RunningEmulator>();

/** Stops every emulator still running: call from afterEach/afterAll so a failing test leaks nothing. */
export async function stopAllEmulators(): Promise<void> {
  await Promise.all([...running].map((e) => e.stop()));
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const [program, ...launcherArgs] = options.launcher ?? [process.execPath, emulatorBundle];
  const child = execa(
    program!,
    [...launcherArgs, '--runtime-interface-emulator-address', '127.0.0.1:0', '--runtime-api-address', '127.0.0.1:0', ...(options.args ?? [])],
    {
      // Node 24 first on PATH, so `node` in runtime/bootstrap is the project's Node.
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ...options.env },
      extendEnv: false,
      cwd: options.cwd ?? repoRoot,
      all: true,
      reject: false,
      buffer: false,
    },
  );
  let text = '';
  const listeners = new Set<() => void>();
  child.all?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });

  const waitForOutput = (pattern: string | RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const matches = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      if (matches()) return resolve();
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`Timed out waiting for ${pattern} in emulator output:\n${text}`));
      }, timeoutMs);
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
    });

  let stopped: Promise<void> | undefined;
  const emulator: RunningEmulator = {
    url: '',
    invokeUrl: '',
    output: () => text,
    waitForOutput,
    process: child,
    stop: () => {
      stopped ??= (async () => {
        running.delete(emulator);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await child;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
  running.add(emulator);

  const exitedEarly = child.then(() => {
    throw new Error(`The emulator exited before listening:\n${text}`);
  });
  exitedEarly.catch(() => {}); // only the race below cares, and only until the emulator listens
  await Promise.race([waitForOutput(/listening on 127\.0\.0\.1:\d+/), exitedEarly]).catch(async (error) => {
    await emulator.stop();
    throw error;
  });
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(text)![1];
  emulator.url = `http://127.0.0.1:${port}`;
  emulator.invokeUrl = `${emulator.url}/2015-03-31/functions/function/invocations`;
  return emulator;
}
