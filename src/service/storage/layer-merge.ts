// A function's /opt: its layers unpacked one over the other, in order, as Lambda does (a later layer's file
// replaces an earlier one's). Docker binds one folder per mount point, so the layers are merged into one folder,
// content-addressed by the list of layer digests (`<root>/<sha256 hex>/`), made once with hard links (copies
// across file systems) and shared by every function with the same list.
import { createHash, randomUUID } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from './path-exists.ts';

export interface LayerContent {
  /** Base64 SHA-256 of the layer zip. */
  sha256: string;
  /** The extracted layer. */
  contentDirectory: string;
}

/** The merged folder for `layers` under `root`, made if missing. */
export async function mergeLayers(root: string, layers: readonly LayerContent[]): Promise<string> {
  const key = createHash('sha256')
    .update(layers.map((layer) => layer.sha256).join('\n'))
    .digest('hex');
  const target = join(root, key);
  if (await exists(target)) return target;
  await mkdir(root, { recursive: true });
  // Merged beside the final place and renamed: never half a tree there, whatever runs at the same time.
  const staging = join(root, `.staging-${key}-${randomUUID()}`);
  try {
    await mkdir(staging, { mode: 0o755 });
    for (const layer of layers) await overlay(layer.contentDirectory, staging);
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}

/** Copies the tree `from` over `to`: folders merge, anything else replaces what is there. */
async function overlay(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    const existing = await lstat(target).catch(() => undefined);
    if (entry.isDirectory()) {
      if (existing && !existing.isDirectory()) await rm(target, { recursive: true, force: true });
      if (!existing?.isDirectory()) await mkdir(target, { mode: (await stat(source)).mode & 0o777 });
      await overlay(source, target);
      continue;
    }
    if (existing) await rm(target, { recursive: true, force: true });
    if (entry.isSymbolicLink()) {
      // The extraction kept links inside their layer; relative ones stay inside /opt.
      await symlink(await readlink(source), target);
    } else if (entry.isFile()) {
      await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV' && error.code !== 'EPERM' && error.code !== 'EMLINK') throw error;
        await copyFile(source, target);
        await chmod(target, (await stat(source)).mode & 0o777);
      });
    }
  }
}
