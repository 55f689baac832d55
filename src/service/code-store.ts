// Deployment packages, content-addressed: `<dir>/<sha256 hex>.zip` and its extraction `<dir>/<sha256 hex>/`.
// The same zip uploaded for many functions (or again) is stored and unpacked once; a container mounts the
// extracted folder read-only as /var/task.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ZipCode } from './function-record.ts';
import { extractZip, MAX_UNZIPPED_BYTES, unzippedSize } from './zip-extract.ts';
import { exists } from './path-exists.ts';

export class CodeStore {
  readonly dir: string;
  readonly maxUnzippedBytes: number;

  constructor(dir: string, maxUnzippedBytes = MAX_UNZIPPED_BYTES) {
    this.dir = dir;
    this.maxUnzippedBytes = maxUnzippedBytes;
  }

  /** Stores and extracts `zip` (once per content); throws InvalidParameterValueException for a bad package. */
  async putZip(zip: Buffer): Promise<ZipCode> {
    const digest = createHash('sha256').update(zip).digest();
    const hex = digest.toString('hex');
    const zipPath = join(this.dir, `${hex}.zip`);
    const taskRoot = join(this.dir, hex);
    await mkdir(this.dir, { recursive: true });

    if (!(await exists(taskRoot))) {
      // Extract beside the final place and rename: a crash or a concurrent upload never leaves half a tree there.
      const staging = join(this.dir, `.staging-${hex}-${randomUUID()}`);
      try {
        await extractZip(zip, staging, this.maxUnzippedBytes);
        await rename(staging, taskRoot).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    if (!(await exists(zipPath))) {
      const partial = `${zipPath}.${randomUUID()}.partial`;
      await writeFile(partial, zip);
      await rename(partial, zipPath);
    }
    // Read from the central directory (already checked by the extraction): the stored tree may predate this call.
    const unzipped = await unzippedSize(zip);
    return { kind: 'zip', sha256: digest.toString('base64'), size: zip.length, unzippedSize: unzipped, zipPath, taskRoot };
  }
}
