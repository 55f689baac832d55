// `lambkin build`'s engine: a function directory into a container image, through the engine's /build (dockerode)
// with the directory as a tar-fs context that honours .dockerignore. A directory with its own Dockerfile is built as
// is; one without gets AWS's base-image convention on lambkin's base images (function-dockerfile.ts).
//
// Failures the engine reports inside its HTTP 200 stream ({error, errorDetail}) reject with the engine's message.
// A failed build leaves nothing behind: forcerm removes the step containers, and the intermediate image of the last
// step that succeeded, which the engine would leave dangling, is removed here.
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { engineMessage, engineStatus, isEngineUnreachable, noEngineMessage } from '../docker/errors.ts';
import { packBuildContext } from './build-context.ts';
import { CreatedImages, progressEvents, type BuildProgressEvent, type EngineBuildMessage } from './build-progress.ts';
import { BASE_IMAGES, detectRuntime, functionDockerfile, type BuildRuntime } from './function-dockerfile.ts';

export type { BuildProgressEvent } from './build-progress.ts';
export type { BuildRuntime } from './function-dockerfile.ts';

export interface BuildFunctionImageOptions {
  /** The function's directory: the build context. */
  dir: string;
  /** The image's name[:tag]. Default: the directory's name, made a valid repository name, `:latest`. */
  tag?: string;
  /** Only for a directory without a Dockerfile. Default: detectRuntime(dir). */
  runtime?: BuildRuntime;
  /** The generated Dockerfile's CMD. Default index.handler for nodejs24.x, none for provided.al2023. */
  handler?: string;
  /** Labels on the image (`docker build --label`). */
  labels?: Record<string, string>;
  /** Called for each step, output line and status as the engine streams them. */
  onProgress?: (event: BuildProgressEvent) => void;
  docker?: Dockerode;
}

export interface BuiltImage {
  /** sha256:... */
  imageId: string;
  tag: string;
  durationMs: number;
  /** Whether the Dockerfile was the directory's own (false: generated for `runtime`). */
  ownDockerfile: boolean;
  runtime?: BuildRuntime;
}

export type ImageBuildErrorCode = 'DirectoryNotFound' | 'EngineUnreachable' | 'BaseImageMissing' | 'InvalidFunction' | 'BuildFailed';

export class ImageBuildError extends Error {
  readonly code: ImageBuildErrorCode;

  constructor(code: ImageBuildErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageBuildError';
    this.code = code;
  }
}

/** The tag a build gets without -t: the directory's name as a repository name, `:latest`. */
export function defaultImageTag(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${name || 'function'}:latest`;
}

export async function buildFunctionImage(options: BuildFunctionImageOptions): Promise<BuiltImage> {
  const started = performance.now();
  const dir = resolve(options.dir);
  const docker = options.docker ?? new Dockerode();
  const tag = options.tag ?? defaultImageTag(dir);

  const dirInfo = await stat(dir).catch(() => undefined);
  if (!dirInfo?.isDirectory()) {
    throw new ImageBuildError('DirectoryNotFound', `${options.dir}: no such directory (the function's code, the build context)`);
  }

  try {
    await docker.ping();
  } catch (error) {
    throw engineUnreachable(error);
  }

  const dockerfileText = await stat(join(dir, 'Dockerfile')).then(
    (info) => (info.isFile() ? readFile(join(dir, 'Dockerfile'), 'utf8') : undefined),
    () => undefined,
  );
  let context: Readable;
  let runtime: BuildRuntime | undefined;
  if (dockerfileText !== undefined) {
    await requireBaseImages(docker, lambkinBaseImages(dockerfileText));
    context = await packBuildContext(dir);
  } else {
    runtime = options.runtime ?? (await detectRuntime(dir));
    let content: string;
    try {
      content = await functionDockerfile(dir, runtime, options.handler);
    } catch (error) {
      throw new ImageBuildError('InvalidFunction', (error as Error).message, { cause: error });
    }
    await requireBaseImages(docker, [BASE_IMAGES[runtime]]);
    context = await packBuildContext(dir, { generatedDockerfile: { name: 'Dockerfile', content } });
  }

  // A file the context cannot read (permissions, a special file) ends the upload: say which, instead of hanging.
  let contextError: Error | undefined;
  const contextFailed = new Promise<never>((_, reject) =>
    context.once('error', (error: Error) => {
      contextError = error;
      reject(new ImageBuildError('BuildFailed', `cannot send ${dir} as the build context: ${error.message}`, { cause: error }));
    }),
  );
  contextFailed.catch(() => {});

  const created = new CreatedImages();
  let imageId: string | undefined;
  let failure: string | undefined;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await Promise.race([
      docker.buildImage(context, {
        t: tag,
        rm: true,
        forcerm: true,
        ...(options.labels ? { labels: options.labels } : {}),
      }),
      contextFailed,
    ]);
  } catch (error) {
    context.destroy();
    if (error instanceof ImageBuildError) throw error;
    if (isEngineUnreachable(error)) throw engineUnreachable(error);
    throw new ImageBuildError('BuildFailed', `cannot build ${tag}: ${engineMessage(error)}`, { cause: error });
  }

  try {
    const followed = new Promise<void>((resolvePromise, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolvePromise()),
        (message: EngineBuildMessage) => {
          if (message.error !== undefined || message.errorDetail !== undefined) {
            failure ??= message.errorDetail?.message ?? message.error ?? 'the build failed';
            return;
          }
          if (message.aux?.ID) imageId = message.aux.ID;
          for (const event of progressEvents(message)) {
            created.observe(event);
            options.onProgress?.(event);
          }
        },
      );
    });
    await Promise.race([followed, contextFailed]);
  } catch (error) {
    failure ??= contextError ? (error as Error).message : `the engine's build stream broke: ${engineMessage(error)}`;
  }

  if (failure !== undefined || imageId === undefined) {
    await removeDangling(docker, created.ids);
    const message = failure ?? 'the engine ended the build without an image id';
    const base = /pull access denied|repository does not exist|not found|manifest unknown/i.test(message) ? missingBaseHint(message) : '';
    throw new ImageBuildError('BuildFailed', `cannot build ${tag}: ${message}${base}`);
  }
  return { imageId, tag, durationMs: Math.round(performance.now() - started), ownDockerfile: dockerfileText !== undefined, runtime };
}

function engineUnreachable(error: unknown): ImageBuildError {
  return new ImageBuildError('EngineUnreachable', noEngineMessage('build', error), { cause: error });
}

/** The lambkin/ images a Dockerfile builds FROM (no registry serves them: they must be on the engine already). */
export function lambkinBaseImages(dockerfile: string): string[] {
  const images: string[] = [];
  for (const line of dockerfile.split(/\r?\n/)) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/i.exec(line)?.[1];
    if (from && /^lambkin\//.test(from) && !from.includes('$')) images.push(from.includes(':') ? from : `${from}:latest`);
  }
  return [...new Set(images)];
}

async function requireBaseImages(docker: Dockerode, images: string[]): Promise<void> {
  for (const image of images) {
    try {
      await docker.getImage(image).inspect();
    } catch (error) {
      if (isEngineUnreachable(error)) throw engineUnreachable(error);
      if (engineStatus(error) === 404) {
        throw new ImageBuildError(
          'BaseImageMissing',
          `the base image ${image} is missing: build lambkin's base images first with \`npm run images\` (no registry is needed)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

function missingBaseHint(message: string): string {
  return /lambkin\//.test(message) ? "; lambkin's base images come from `npm run images`, not from a registry" : '';
}

/**
 * After a failed build: the images its steps created that nothing tags or builds on (the engine leaves the last
 * successful step's image dangling, forcerm or not), newest first, each alone (noprune: a cached parent stays).
 */
async function removeDangling(docker: Dockerode, ids: string[]): Promise<void> {
  for (const id of [...ids].reverse()) {
    try {
      const info = await docker.getImage(id).inspect();
      if ((info.RepoTags ?? []).length > 0) continue;
      await docker.getImage(id).remove({ noprune: true });
    } catch {
      // Gone already, or a child holds it (then it is not dangling): nothing to do.
    }
  }
}
