// `lambkin build`'s cost: a function image built on lambkin/nodejs:24 (the base cached, the handler changed before
// every build so the COPY layer and what follows are rebuilt, as in a developer's edit-build loop) through our
// buildFunctionImage (dockerode, tar-fs context, generated Dockerfile), against a plain `docker build` of the same
// Dockerfile and context through the docker CLI (legacy builder, as the engine's API uses), in the same run,
// interleaved. Also what our layers add to the base image's size. Every image built here is removed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildFunctionImage } from '../src/packaging/image-build.ts';
import { BASE_IMAGES, functionDockerfile } from '../src/packaging/function-dockerfile.ts';
import { interleaved } from './compare.ts';
import { median, round } from './stats.mjs';

export interface BuildMeasurement {
  /** Measured builds of each kind (after one unmeasured build of each). */
  builds: number;
  /** Median wall time of buildFunctionImage, ms. */
  oursMs: number;
  /** Median wall time of `docker build -q -f DOCKERFILE DIR`, ms (the CLI process included). */
  dockerBuildMs: number;
  /** oursMs / dockerBuildMs: the bar is <= 1.1. */
  ratio: number;
  oursSamples: number[];
  dockerBuildSamples: number[];
  /** The built image's size minus its base's (`docker image inspect` .Size), bytes. */
  addedBytes: number;
  imageBytes: number;
  baseBytes: number;
  /** The context's files, after .dockerignore. */
  contextFiles: number;
  /** What lambkin's own layers (runtime client, emulator, entrypoint) add to the images our base images are built FROM. */
  baseImageLayers: { image: string; from: string; addedBytes: number }[];
}

const BASE = BASE_IMAGES['nodejs24.x'];
const LIB_FILES = 20;

export async function measureBuild(options: { builds?: number; log?: (line: string) => void } = {}): Promise<BuildMeasurement> {
  const builds = options.builds ?? 5;
  const log = options.log ?? (() => {});
  const work = await mkdtemp(join(tmpdir(), 'lambkin-bench-build-'));
  const dir = join(work, 'function');
  const dockerfilePath = join(work, 'Dockerfile');
  const tag = `lambkin-bench-build/${process.pid}`;
  const oursTag = `${tag}:ours`;
  const cliTag = `${tag}:docker-build`;
  let edit = 0;
  try {
    await mkdir(join(dir, 'lib'), { recursive: true });
    await mkdir(join(dir, 'test'), { recursive: true });
    for (let i = 0; i < LIB_FILES; i++) await writeFile(join(dir, 'lib', `part${i}.js`), `exports.part${i} = ${JSON.stringify('x'.repeat(4096))};\n`);
    await writeFile(join(dir, 'test', 'index.test.js'), '// not shipped\n');
    await writeFile(join(dir, 'README.md'), '# not shipped\n');
    await writeFile(join(dir, 'package.json'), '{"name":"bench-fn","version":"1.0.0"}\n');
    await writeFile(join(dir, '.dockerignore'), 'test\n*.md\n');
    // The Dockerfile lambkin build generates, outside the context: `docker build -f` adds it to the stream as we do.
    await writeFile(dockerfilePath, await functionDockerfile(dir, 'nodejs24.x'));
    const editHandler = () => writeFile(join(dir, 'index.js'), `// edit ${++edit} ${Date.now()}\nexports.handler = async () => ({ edit: ${edit} });\n`);

    const ours = async () => {
      await editHandler();
      const started = performance.now();
      await buildFunctionImage({ dir, tag: oursTag, runtime: 'nodejs24.x' });
      const ms = performance.now() - started;
      await removeImage(oursTag);
      return ms;
    };
    const dockerBuild = async () => {
      await editHandler();
      const started = performance.now();
      await execa('docker', ['build', '-q', '-f', dockerfilePath, '-t', cliTag, dir], { env: { DOCKER_BUILDKIT: '0' } });
      const ms = performance.now() - started;
      await removeImage(cliTag);
      return ms;
    };

    const [oursSamples, dockerBuildSamples] = await interleaved(builds, ours, dockerBuild, (i, oursMs, dockerMs) =>
      log(`build ${i + 1}/${builds}: ours ${round(oursMs, 1)} ms, docker build ${round(dockerMs, 1)} ms`),
    );

    // The size our layers add, on one more build that is kept until measured.
    await editHandler();
    await buildFunctionImage({ dir, tag: oursTag, runtime: 'nodejs24.x' });
    const imageBytes = await imageSize(oursTag);
    const baseBytes = await imageSize(BASE);
    const { stdout: files } = await execa('docker', ['run', '--rm', '--entrypoint', 'find', oursTag, '/var/task', '-type', 'f']);
    await removeImage(oursTag);

    const oursMs = median(oursSamples);
    const dockerBuildMs = median(dockerBuildSamples);
    return {
      builds,
      oursMs: round(oursMs, 1),
      dockerBuildMs: round(dockerBuildMs, 1),
      ratio: round(oursMs / dockerBuildMs, 3),
      oursSamples: oursSamples.map((ms) => round(ms, 1)),
      dockerBuildSamples: dockerBuildSamples.map((ms) => round(ms, 1)),
      addedBytes: imageBytes - baseBytes,
      imageBytes,
      baseBytes,
      contextFiles: files.split('\n').filter(Boolean).length,
      baseImageLayers: await Promise.all(Object.values(BASE_IMAGES).map(baseImageLayers)),
    };
  } finally {
    await execa('docker', ['rmi', '-f', oursTag, cliTag], { reject: false });
    await rm(work, { recursive: true, force: true });
  }
}

/** The base image's size minus the size of the image it was built FROM (its OCI base.name label). */
async function baseImageLayers(image: string): Promise<{ image: string; from: string; addedBytes: number }> {
  const { stdout } = await execa('docker', ['image', 'inspect', '-f', '{{ index .Config.Labels "org.opencontainers.image.base.name" }}', image]);
  const from = stdout.trim();
  return { image, from, addedBytes: (await imageSize(image)) - (await imageSize(from)) };
}

async function imageSize(image: string): Promise<number> {
  const { stdout } = await execa('docker', ['image', 'inspect', '-f', '{{.Size}}', image]);
  return Number(stdout.trim());
}

/** The tag and the untagged intermediate images under it (the engine prunes them with it). */
async function removeImage(tag: string): Promise<void> {
  await execa('docker', ['rmi', tag], { reject: false });
}

if (import.meta.main) {
  const result = await measureBuild({ builds: Number(process.env.BUILDS ?? 5), log: (line) => console.error(line) });
  console.log(JSON.stringify(result, null, 2));
}
