// `lambkin push` against a real registry (Debian's docker-registry, htpasswd auth for the user AWS) through the
// real Docker engine: a function image pushed, deleted locally, pulled back and invoked; the ECR login against a
// token endpoint run by the test; and each failure (wrong password, unreachable registry, missing image, Docker
// down, ECR token refused) as one clear error.
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrLoginError, parseEcrRegistry } from '../src/packaging/ecr-login.ts';
import { pushImage, PushError, type PushProgress } from '../src/packaging/push.ts';
import { parseImageReference, registryAuthFor } from '../src/packaging/registry-auth.ts';
import { progressRenderer } from '../src/cli/push.ts';
import { buildFunctionImage } from '../src/packaging/image-build.ts';
import { removeAllContainers, removeBuiltImages, runContainer } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { freePort, requireRegistry, startRegistry, type TestRegistry } from './support/registry.ts';
import { invokeRie } from './support/rie-invoke.ts';

const docked = await requireDocker();
const registryBinary = await requireRegistry();
const docker = new Dockerode();
// Every name this file gives an image (built, tagged by a push, pulled): removed at the end, pass or fail.
const imageNames = new Set<string>();
const MARKER = `pushed-${process.pid}-${Date.now()}`;
const IMAGE = `lambkin-test/push-fn:${process.pid}`;
const FAKE_ACCOUNT_REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const CREDENTIALS = { accessKeyId: 'AKIDLAMBKINTEST', secretAccessKey: 'lambkin-test-secret' };

/** The manifest digest the registry itself holds for name:tag (HEAD /v2/<name>/manifests/<tag>). */
async function registryDigest(registry: TestRegistry, name: string, tag: string): Promise<string | undefined> {
  const response = await request(`http://${registry.address}/v2/${name}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
      accept: 'application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await response.body.dump();
  return response.statusCode === 200 ? String(response.headers['docker-content-digest']) : undefined;
}

async function removeImage(name: string): Promise<void> {
  await execa('docker', ['rmi', '-f', name], { reject: false });
}

async function imageExists(name: string): Promise<boolean> {
  return (await execa('docker', ['image', 'inspect', name], { reject: false })).exitCode === 0;
}

async function pull(reference: string, authconfig: { username: string; password: string; serveraddress: string }): Promise<void> {
  imageNames.add(reference);
  const stream = await docker.pull(reference, { authconfig });
  const errors: string[] = [];
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error) => (error ? reject(error) : resolve()),
      (line: { error?: string }) => {
        if (line.error) errors.push(line.error);
      },
    ),
  );
  if (errors.length > 0) throw new Error(`pull of ${reference} failed: ${errors.join('; ')}`);
}

interface TokenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A stand-in for ECR's API: only GetAuthorizationToken, in awsJson1.1 as the SDK speaks it, answering with the
 * test registry's password and its address as proxyEndpoint (or, with `refuse`, ECR's AccessDeniedException).
 */
async function startTokenEndpoint(answer: {
  registry?: TestRegistry;
  refuse?: boolean;
}): Promise<{ url: string; requests: TokenRequest[]; close(): Promise<void> }> {
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (answer.refuse || !answer.registry || req.headers['x-amz-target'] !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken') {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            __type: 'AccessDeniedException',
            message: 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: ecr:GetAuthorizationToken',
          }),
        );
        return;
      }
      const { registry } = answer;
      res.end(
        JSON.stringify({
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${registry.password}`).toString('base64'),
              proxyEndpoint: `http://${registry.address}`,
              expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
            },
          ],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('image references and stored credentials', () => {
  it('splits registry, name and tag as the Docker CLI does, and knows ECR addresses', () => {
    expect(parseImageReference('127.0.0.1:5000/team/fn:v1')).toEqual({ registry: '127.0.0.1:5000', name: 'team/fn', tag: 'v1' });
    expect(parseImageReference('localhost/fn')).toEqual({ registry: 'localhost', name: 'fn' });
    expect(parseImageReference('my-fn:2')).toEqual({ registry: 'docker.io', name: 'library/my-fn', tag: '2' });
    expect(parseEcrRegistry(FAKE_ACCOUNT_REGISTRY)).toEqual({ account: '123456789012', region: 'us-east-1' });
    expect(parseEcrRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')).toEqual({ account: '123456789012', region: 'cn-north-1' });
    expect(parseEcrRegistry('registry.example.com')).toBeUndefined();
  });

  it("reads the Docker config's auths, and asks a credential helper when the config names one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-docker-config-'));
    const path = process.env.PATH;
    try {
      await writeFile(
        join(dir, 'config.json'),
        JSON.stringify({
          auths: { 'registry.example.com': { auth: Buffer.from('alice:s3cr:et').toString('base64') } },
          credHelpers: { 'helped.example.com': 'lambkintest' },
        }),
      );
      // A credential helper speaking the protocol: the server on stdin, JSON on stdout.
      await writeFile(
        join(dir, 'docker-credential-lambkintest'),
        '#!/bin/sh\nread server\nprintf \'{"ServerURL":"%s","Username":"bob","Secret":"from-helper"}\' "$server"\n',
      );
      await chmod(join(dir, 'docker-credential-lambkintest'), 0o755);
      process.env.PATH = `${dir}:${path}`;
      expect(await registryAuthFor({ registry: 'registry.example.com', dockerConfigDir: dir })).toEqual({
        username: 'alice',
        password: 's3cr:et',
        serveraddress: 'registry.example.com',
      });
      expect(await registryAuthFor({ registry: 'helped.example.com', dockerConfigDir: dir })).toEqual({
        username: 'bob',
        password: 'from-helper',
        serveraddress: 'helped.example.com',
      });
      expect(await registryAuthFor({ registry: 'other.example.com', dockerConfigDir: dir })).toBeUndefined();
      expect(await registryAuthFor({ registry: 'other.example.com', username: 'u', password: 'p', dockerConfigDir: dir })).toEqual({
        username: 'u',
        password: 'p',
        serveraddress: 'other.example.com',
      });
    } finally {
      process.env.PATH = path;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('push progress', () => {
  const events: PushProgress[] = [
    { status: 'The push refers to repository [127.0.0.1:5000/fn]' },
    { id: 'aaaaaaaaaaaa', status: 'Preparing' },
    { id: 'bbbbbbbbbbbb', status: 'Preparing' },
    { id: 'aaaaaaaaaaaa', status: 'Pushing', current: 1_000_000, total: 4_000_000 },
    { id: 'aaaaaaaaaaaa', status: 'Pushing', current: 2_000_000, total: 4_000_000 },
    { id: 'bbbbbbbbbbbb', status: 'Layer already exists' },
    { id: 'aaaaaaaaaaaa', status: 'Pushed' },
  ];
  const capture = () => {
    let text = '';
    return { out: { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream, text: () => text };
  };

  it('writes a line per layer change (not per progress tick) for CI logs and pipes', () => {
    const sink = capture();
    const renderer = progressRenderer(sink.out, false);
    for (const event of events) renderer.update(event);
    renderer.done();
    expect(sink.text()).toBe(
      'The push refers to repository [127.0.0.1:5000/fn]\naaaaaaaaaaaa: Preparing\nbbbbbbbbbbbb: Preparing\naaaaaaaaaaaa: Pushing\nbbbbbbbbbbbb: Layer already exists\naaaaaaaaaaaa: Pushed\n',
    );
  });

  it('keeps one updating status line on a terminal', () => {
    const sink = capture();
    const renderer = progressRenderer(sink.out, true);
    for (const event of events) renderer.update(event);
    renderer.done();
    expect(sink.text().split('\n')).toHaveLength(2);
    expect(sink.text()).toContain('\r\x1b[Kpushing: 0/2 layers done, 2.0/4.0 MB');
    expect(sink.text().endsWith('\r\x1b[Kpushing: 2/2 layers done, 4.0/4.0 MB\n')).toBe(true);
  });
});

describe.skipIf(!docked || !registryBinary)('lambkin push to a real registry', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
    imageNames.add(IMAGE);
    await buildFunction();
  });

  afterAll(async () => {
    await removeAllContainers();
    await removeBuiltImages();
    for (const name of imageNames) await removeImage(name);
    await registry?.close();
  });

  it('an image from lambkin build, pushed with the user AWS (progress, digest), deleted, pulled back, runs and answers', async () => {
    const target = `${registry.address}/lambkin-test/push-fn:v1`;
    imageNames.add(target);
    const events: PushProgress[] = [];
    const result = await pushImage({
      image: IMAGE,
      repository: target,
      auth: { username: 'AWS', password: registry.password },
      onProgress: (e) => events.push(e),
    });

    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.tag).toBe('v1');
    expect(result.size).toBeGreaterThan(0);
    expect(await registryDigest(registry, 'lambkin-test/push-fn', 'v1')).toBe(result.digest);
    // Per-layer progress: every layer of the image ends pushed (or already there).
    const layerIds = new Set(events.filter((e) => e.id).map((e) => e.id));
    expect(layerIds.size).toBeGreaterThan(1);
    for (const id of layerIds) expect(events.some((e) => e.id === id && /^(Pushed|Layer already exists|Mounted from)/.test(e.status))).toBe(true);

    // Gone from the engine (both names), then back from the registry.
    await removeImage(target);
    await removeImage(IMAGE);
    expect(await imageExists(target)).toBe(false);
    await pull(target, { username: 'AWS', password: registry.password, serveraddress: registry.address });
    const repoDigests = JSON.parse((await execa('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', target])).stdout) as string[];
    expect(repoDigests).toContain(`${registry.address}/lambkin-test/push-fn@${result.digest}`);

    const container = await runContainer(target);
    expect((await invokeRie(container.invokeUrl, JSON.stringify({ name: 'registry' }))).json()).toEqual({ marker: MARKER, hello: 'registry' });
    await container.stop();
  }, 180_000);

  it('logs in to an ECR address through an ECR-compatible token endpoint run by the test, and pushes to its proxyEndpoint', async () => {
    // The ECR address cannot resolve here. The stand-in's GetAuthorizationToken answers with the local registry
    // as proxyEndpoint; a proxyEndpoint that is not an ECR address marks a stand-in, and the push goes there.
    await buildImageIfGone();
    const tokens = await startTokenEndpoint({ registry });
    try {
      imageNames.add(`${registry.address}/lambkin-test/ecr-fn:v2`);
      const result = await pushImage({
        image: IMAGE,
        repository: `${FAKE_ACCOUNT_REGISTRY}/lambkin-test/ecr-fn:v2`,
        ecr: { endpoint: tokens.url, credentials: CREDENTIALS },
      });
      expect(result.repository).toBe(`${registry.address}/lambkin-test/ecr-fn`);
      expect(await registryDigest(registry, 'lambkin-test/ecr-fn', 'v2')).toBe(result.digest);
      // The request as the SDK sends it: awsJson1.1, signed for ecr in the address's region.
      expect(tokens.requests).toHaveLength(1);
      const [sent] = tokens.requests;
      expect(sent!.method).toBe('POST');
      expect(sent!.headers['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
      expect(sent!.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(JSON.parse(sent!.body)).toEqual({});
      expect(String(sent!.headers.authorization)).toContain(`Credential=${CREDENTIALS.accessKeyId}/`);
      expect(String(sent!.headers.authorization)).toContain('/us-east-1/ecr/aws4_request');
    } finally {
      await tokens.close();
    }
  }, 120_000);

  it('says so when the ECR token endpoint refuses, with the SDK error name', async () => {
    await buildImageIfGone();
    const tokens = await startTokenEndpoint({ refuse: true });
    try {
      const failure = pushImage({
        image: IMAGE,
        repository: `${FAKE_ACCOUNT_REGISTRY}/lambkin-test/ecr-fn:v3`,
        ecr: { endpoint: tokens.url, credentials: CREDENTIALS },
      });
      await expect(failure).rejects.toThrow(EcrLoginError);
      await expect(failure).rejects.toThrow(/ECR GetAuthorizationToken in us-east-1 .*failed: AccessDeniedException: User: .* not authorized/);
    } finally {
      await tokens.close();
    }
  });

  it('fails with "authentication failed" on a wrong password, and pushes nothing', async () => {
    await buildImageIfGone();
    imageNames.add(`${registry.address}/lambkin-test/denied:v1`);
    const failure = pushImage({ image: IMAGE, repository: `${registry.address}/lambkin-test/denied:v1`, auth: { username: 'AWS', password: 'wrong' } });
    await expect(failure).rejects.toThrow(PushError);
    await expect(failure).rejects.toThrow(`authentication failed for ${registry.address}`);
    await expect(failure).rejects.toMatchObject({ code: 'AUTH' });
    expect(await registryDigest(registry, 'lambkin-test/denied', 'v1')).toBeUndefined();
  }, 60_000);

  it('fails with "cannot reach the registry" when nothing listens there', async () => {
    await buildImageIfGone();
    const closed = `127.0.0.1:${await freePort()}`;
    imageNames.add(`${closed}/lambkin-test/nowhere:v1`);
    const failure = pushImage({ image: IMAGE, repository: `${closed}/lambkin-test/nowhere:v1`, auth: { username: 'AWS', password: 'x' } });
    await expect(failure).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringMatching(new RegExp(`^cannot reach the registry ${closed}: .*connection refused`)),
    });
  }, 60_000);

  it('names a missing image and says how to make it', async () => {
    const failure = pushImage({ image: 'lambkin-test/never-built:nope', repository: `${registry.address}/x:v1` });
    await expect(failure).rejects.toThrow('No such image: lambkin-test/never-built:nope; build it with lambkin build');
  });

  it('says the Docker engine is down when it does not answer', async () => {
    const failure = pushImage({ image: IMAGE, repository: `${registry.address}/x:v1`, docker: new Dockerode({ socketPath: '/nonexistent/docker.sock' }) });
    await expect(failure).rejects.toMatchObject({
      code: 'DOCKER_UNAVAILABLE',
      message: expect.stringMatching(/^cannot push without a Docker engine \(.*\/nonexistent\/docker\.sock.*\); start Docker, or set DOCKER_HOST$/),
    });
  });

  it('lambkin push: progress lines on stderr, the digest on stdout; --password-stdin; exit 1 with one line on failure', async () => {
    await buildImageIfGone();
    const target = `${registry.address}/lambkin-test/cli-fn:v1`;
    imageNames.add(target);
    const ok = await runCli(['push', IMAGE, '--to', target, '--username', 'AWS', '--password-stdin'], `${registry.password}\n`);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(await registryDigest(registry, 'lambkin-test/cli-fn', 'v1'));
    expect(ok.stderr).toMatch(/^[0-9a-f]{12}: (Pushed|Layer already exists|Mounted from .+)$/m);
    expect(ok.stderr).toContain(`pushed ${registry.address}/lambkin-test/cli-fn:v1 (digest sha256:`);

    const denied = await runCli(['push', IMAGE, '--to', target, '--username', 'AWS', '--password', 'wrong']);
    expect(denied.exitCode).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toMatch(new RegExp(`^lambkin push: authentication failed for ${registry.address.replace(/\./g, '\\.')}: `, 'm'));

    const missing = await runCli(['push', 'lambkin-test/never-built', '--to', target]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.trim()).toBe('lambkin push: No such image: lambkin-test/never-built; build it with lambkin build');

    const usage = await runCli(['push', IMAGE]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain('--to REPOSITORY_URI is required');
  }, 120_000);

  /** Tests that remove the image (the round trip) leave it gone for the next: build it again then. */
  async function buildImageIfGone(): Promise<void> {
    if (await imageExists(IMAGE)) return;
    await buildFunction();
  }

  /** The function image as a user makes it: `lambkin build` of a directory with a handler (generated Dockerfile). */
  async function buildFunction(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'lambkin-push-fn-'));
    try {
      await writeFile(join(dir, 'index.js'), `exports.handler = async (event) => ({ marker: ${JSON.stringify(MARKER)}, hello: event.name });\n`);
      await buildFunctionImage({ dir, tag: IMAGE, runtime: 'nodejs24.x', handler: 'index.handler', labels: { 'lambkin.test': '1' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

/** src/cli/push.ts's main, as bin/lambkin runs it (under CI, so progress is one line per layer change). */
async function runCli(args: string[], input?: string) {
  const script = `import(${JSON.stringify(new URL('../src/cli/push.ts', import.meta.url).href)}).then((m) => m.main(process.argv.slice(1)))`;
  const [, ...rest] = args;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script, '--', ...rest], {
    reject: false,
    timeout: 90_000,
    env: { CI: 'true' },
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
