// The build context as `docker build DIR` sends it: a tar stream of DIR (tar-fs pack), without what DIR's
// .dockerignore excludes (@balena/dockerignore, Docker's own matching rules), the Dockerfile and the .dockerignore
// themselves always sent (the engine needs them; it keeps them out of COPY when .dockerignore lists them). A
// generated Dockerfile is added to the stream as one more entry: the user's directory is never written to.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { pack } from 'tar-fs';

export interface GeneratedFile {
  /** Its path in the context, relative to the root. */
  name: string;
  content: string;
}

export interface ContextOptions {
  /** The Dockerfile's path in the context (always sent). Default `Dockerfile`. */
  dockerfile?: string;
  /** A Dockerfile to add to the stream instead of one read from the directory. */
  generatedDockerfile?: GeneratedFile;
}

/** The lines of DIR/.dockerignore, or [] when it has none. */
export async function readDockerignore(dir: string): Promise<string[]> {
  try {
    return (await readFile(`${dir}/.dockerignore`, 'utf8')).split(/\r?\n/);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * A predicate over context paths (relative, '/'-separated): true for those .dockerignore excludes, false for the
 * Dockerfile and .dockerignore themselves. A directory that matches is skipped whole unless some `!` pattern could
 * bring back something inside it, as Docker's own walker does.
 */
export function contextFilter(patterns: string[], dockerfile = 'Dockerfile'): (path: string, isDirectory: () => boolean) => boolean {
  const lines = patterns.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) return () => false;
  // The package's CommonJS export is the factory, with itself as .default: the typings see only .default.
  const matcher = dockerignore.default().add(lines);
  const exceptions = lines.filter((line) => line.startsWith('!')).map((line) => normalise(line.slice(1).trim()));
  const always = new Set([normalise(dockerfile), '.dockerignore']);
  // Could an exception bring back something under this directory? Docker's walker asks the same before skipping.
  const mayReinclude = (dir: string) => exceptions.some((pattern) => pattern.startsWith(`${dir}/`) || /[*?[\\]/.test(pattern));
  return (path, isDirectory) => {
    if (always.has(path) || !matcher.ignores(path)) return false;
    return !(exceptions.length > 0 && mayReinclude(path) && isDirectory());
  };
}

/** The context of DIR as a tar stream, ready for the engine's /build. */
export async function packBuildContext(dir: string, options: ContextOptions = {}): Promise<Readable> {
  const dockerfile = options.generatedDockerfile?.name ?? options.dockerfile ?? 'Dockerfile';
  let patterns = await readDockerignore(dir);
  const generated = options.generatedDockerfile;
  if (generated) {
    // The engine applies the same .dockerignore to COPY: a generated Dockerfile (and the .dockerignore) must not
    // land in the image through `COPY . /var/task/`. Only the stream carries this extended copy.
    patterns = [...patterns, generated.name, '.dockerignore'];
  }
  const excluded = contextFilter(patterns, dockerfile);
  return pack(dir, {
    ignore: (name) => {
      const path = relative(dir, name).split(sep).join('/');
      if (generated && (path === generated.name || path === '.dockerignore')) return true; // replaced below
      return excluded(path, () => statSync(name, { throwIfNoEntry: false })?.isDirectory() ?? false);
    },
    finalize: !generated,
    finish: generated
      ? (stream) => {
          const now = new Date();
          stream.entry({ name: generated.name, mode: 0o644, mtime: now }, generated.content);
          stream.entry({ name: '.dockerignore', mode: 0o644, mtime: now }, `${patterns.join('\n')}\n`);
          stream.finalize();
        }
      : undefined,
  }) as unknown as Readable;
}

function normalise(path: string): string {
  return path.replace(/^\.?\/+/, '');
}
