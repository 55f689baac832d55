// A real container registry for push tests: Debian's docker-registry (distribution 2.8) run as a child process on
// 127.0.0.1 and a free port, its storage in a temp dir, htpasswd auth for the user `AWS` (as ECR's logins are)
// with a bcrypt password. The engine trusts registries on 127.0.0.0/8 over plain HTTP, so no TLS is needed.
// Without the binary, the tests skip, saying why; under CI (CI=true) they fail.
import bcrypt from 'bcryptjs';
import { execa, type ResultPromise } from 'execa';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

export const REGISTRY_BINARY = process.env.LAMBKIN_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';
export const REGISTRY_USER = 'AWS';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry's address as image names carry it. */
  address: string;
  port: number;
  username: string;
  password: string;
  /** What the registry printed (errors are logged). */
  output(): string;
  close(): Promise<void>;
}

/** True when the binary exists; otherwise skips (printing why) or, under CI, throws. */
export async function requireRegistry(): Promise<boolean> {
  try {
    await access(REGISTRY_BINARY);
    return true;
  } catch {
    const reason = `no ${REGISTRY_BINARY} (Debian's docker-registry package); bash scripts/ensure-docker.sh installs it`;
    if (process.env.CI === 'true') throw new Error(`the registry binary is required under CI: ${reason}`);
    console.warn(`[skipped] registry tests: ${reason}`);
    return false;
  }
}

/** A port nothing listens on at the moment (and, closed again, one where nothing answers). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a registry and resolves once `GET /v2/` answers 401 (auth is on, storage is ready). */
export async function startRegistry(password = `pw-${Math.random().toString(36).slice(2)}`): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'lambkin-registry-'));
  let child: ResultPromise | undefined;
  let exited = true;
  let output = '';
  const close = async () => {
    if (child && !exited) {
      child.kill('SIGTERM');
      await Promise.race([child.catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
      if (!exited) child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // The registry's htpasswd reader takes bcrypt only; Go's bcrypt accepts bcryptjs's `$2b$` form.
    await writeFile(join(dir, 'htpasswd'), `${REGISTRY_USER}:${bcrypt.hashSync(password, 10)}\n`);
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      await writeFile(
        join(dir, 'config.yml'),
        [
          'version: 0.1',
          'log: {level: warn, accesslog: {disabled: true}}',
          `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'data'))}}, delete: {enabled: true}}`,
          `http: {addr: "127.0.0.1:${port}", secret: lambkin-test}`,
          `auth: {htpasswd: {realm: lambkin-test, path: ${JSON.stringify(join(dir, 'htpasswd'))}}}`,
          '',
        ].join('\n'),
      );
      output = '';
      child = execa(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { all: true, reject: false, cleanup: true });
      exited = false;
      const thisChild = child;
      void thisChild.finally(() => {
        if (child === thisChild) exited = true;
      });
      child.all?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      if (await answers401(port, () => exited)) {
        return { address: `127.0.0.1:${port}`, port, username: REGISTRY_USER, password, output: () => output, close };
      }
      // Most likely another process took the port between freePort and the registry's listen: once more.
      child.kill('SIGKILL');
      await child.catch(() => undefined);
      if (attempt >= 2) throw new Error(`the registry did not start:\n${output}`);
    }
  } catch (error) {
    await close();
    throw error;
  }
}

async function answers401(port: number, hasExited: () => boolean): Promise<boolean> {
  const until = Date.now() + 15_000;
  while (Date.now() < until && !hasExited()) {
    try {
      const response = await request(`http://127.0.0.1:${port}/v2/`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      await response.body.dump();
      if (response.statusCode === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
