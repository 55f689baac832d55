// Tests that start real containers need a Docker engine. On a developer's machine without one they skip, saying
// why; under CI (CI=true, where .ci/run starts an engine and builds the images first) a missing engine is a broken
// setup, so they fail instead of passing silently with nothing run.
import { execa } from 'execa';

export interface DockerStatus {
  available: boolean;
  /** Why Docker cannot be used, when it cannot. */
  reason?: string;
}

let status: Promise<DockerStatus> | undefined;

/** Whether a Docker engine answers (`docker info`), asked once per test file. */
export function dockerStatus(): Promise<DockerStatus> {
  status ??= execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 20_000 }).then((result) => {
    if (result.exitCode === 0) return { available: true };
    const detail = (result.stderr || result.stdout || result.shortMessage || '').toString().trim().split('\n')[0];
    return { available: false, reason: `no Docker engine answers (docker info: ${detail})` };
  });
  return status;
}

/**
 * Resolves true when Docker answers. Otherwise: under CI it throws (the test file fails); elsewhere it prints the
 * reason and resolves false, for `describe.skipIf(!(await requireDocker()))`.
 */
export async function requireDocker(): Promise<boolean> {
  const { available, reason } = await dockerStatus();
  if (available) return true;
  const hint = 'start one with `bash scripts/ensure-docker.sh`, then build the images with `npm run images`';
  if (process.env.CI === 'true') throw new Error(`Docker is required under CI: ${reason}; ${hint}`);
  console.warn(`[skipped] Docker tests: ${reason}; ${hint}`);
  return false;
}
