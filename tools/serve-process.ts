// `lambkin serve` as a child process (bin/lambkin, with this process's own Node first on PATH): on a free port
// (--port 0) over a data dir, resolved once its "lambkin serve: listening on URL" line shows which URL. Used by the
// CLI tests and the serve bench.
import { execa, type ResultPromise } from 'execa';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const lambkinBin = join(repoRoot, 'bin', 'lambkin');
/** bin/lambkin runs `node` from PATH: this process's Node (24) first. */
export const withNode24 = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

export interface ServeProcess {
  url: string;
  pid: number;
  child: ResultPromise<{ all: true; reject: false; buffer: false }>;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Sends the signal (SIGTERM by default) and resolves the exit code, with SIGKILL after the grace if the signal is not enough. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

export interface StartServeOptions {
  /** Arguments after `serve --port 0 --data-dir DIR`. */
  args?: string[];
  /** Called with the child's pid as soon as it is spawned, before it listens (to clean up what it may leave). */
  onSpawn?: (pid: number) => void;
  /** How a serve that does not listen in time (or exits first) is stopped; SIGKILL by default. */
  failSignal?: NodeJS.Signals;
  /** How long it may take to listen; 30 s by default. */
  listenTimeoutMs?: number;
  /** Between stop()'s signal and SIGKILL; 15 s by default. */
  killGraceMs?: number;
  /** Added to the child's environment (this process's, with its Node first on PATH): endpoints, credentials. */
  env?: Record<string, string>;
}

export async function startServe(dataDir: string, options: StartServeOptions = {}): Promise<ServeProcess> {
  const { args = [], onSpawn, failSignal = 'SIGKILL', listenTimeoutMs = 30_000, killGraceMs = 15_000, env } = options;
  const child = execa(lambkinBin, ['serve', '--port', '0', '--data-dir', dataDir, ...args], {
    env: { ...env, ...withNode24 },
    all: true,
    reject: false,
    buffer: false,
    // execa would SIGKILL 5 s after any kill(); stop() escalates after killGraceMs itself, so a serve waiting out
    // its shutdown grace is not cut short.
    forceKillAfterDelay: false,
  });
  let text = '';
  let exited = false;
  child.all.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  void child.then(() => (exited = true));
  onSpawn?.(child.pid!);
  let stopping: Promise<number | undefined> | undefined;
  const serve: ServeProcess = {
    url: '',
    pid: child.pid!,
    child,
    output: () => text,
    stop: (signal = 'SIGTERM') => {
      stopping ??= (async () => {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
        const result = await child;
        clearTimeout(timer);
        return result.exitCode;
      })();
      return stopping;
    },
  };
  const until = Date.now() + listenTimeoutMs;
  for (;;) {
    const match = /lambkin serve: listening on (http:\/\/\S+)/.exec(text);
    if (match) {
      serve.url = match[1]!;
      return serve;
    }
    if (exited || Date.now() > until) {
      await serve.stop(failSignal);
      throw new Error(`lambkin serve did not start listening:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
