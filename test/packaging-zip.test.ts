// `lambkin package` and `lambkin layer`: deployment zips that unzip to the same files with their modes, the same
// bytes for the same input, Lambda's size limits checked (just under and just over each) with no partial output,
// layers laid out as Lambda unpacks them under /opt.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeploymentLimits, DeploymentLimitError, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES } from '../src/packaging/deployment-limits.ts';
import { packageLayer, planLayer } from '../src/packaging/layer-package.ts';
import { packageFunction, zipUnzippedSize } from '../src/packaging/zip-package.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lambkin-zip-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Unzipped {
  mode: number;
  content: Buffer;
  /** The entry's DOS date and time, and its extra fields' ids (0x5455: an extended timestamp). */
  dosDate: number;
  dosTime: number;
  extraFields: number[];
}

async function unzip(path: string): Promise<Map<string, Unzipped>> {
  const zipfile = await yauzl.openPromise(path, { autoClose: false });
  const entries = new Map<string, Unzipped>();
  try {
    for await (const entry of zipfile.eachEntry()) {
      const chunks: Buffer[] = [];
      if (!entry.fileName.endsWith('/')) for await (const chunk of await zipfile.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      entries.set(entry.fileName, {
        mode: entry.externalFileAttributes >>> 16,
        content: Buffer.concat(chunks),
        dosDate: entry.lastModFileDate,
        dosTime: entry.lastModFileTime,
        extraFields: entry.extraFields.map((field) => field.id),
      });
    }
  } finally {
    zipfile.close();
  }
  return entries;
}

async function files(tree: Record<string, string | { content: string | Buffer; mode?: number } | { link: string }>, into: string): Promise<string> {
  for (const [name, spec] of Object.entries(tree)) {
    const path = join(into, name);
    await mkdir(dirname(path), { recursive: true });
    if (typeof spec === 'string') await writeFile(path, spec);
    else if ('link' in spec) await symlink(spec.link, path);
    else {
      await writeFile(path, spec.content);
      if (spec.mode !== undefined) await chmod(path, spec.mode);
    }
  }
  return into;
}

async function newDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** What a failure must leave behind in `dir`: nothing (no output, no temporary file). */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

async function expectLimitError(promise: Promise<unknown>): Promise<DeploymentLimitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeploymentLimitError);
  return error as DeploymentLimitError;
}

const FUNCTION_TREE = {
  'index.js': 'exports.handler = async () => "hi";\n',
  bootstrap: { content: '#!/bin/sh\nexec node index.js\n', mode: 0o755 },
  'lib/util.js': 'module.exports = 1;\n',
  'node_modules/dep/package.json': '{"name":"dep"}',
  'node_modules/dep/cli.js': { content: '#!/usr/bin/env node\n', mode: 0o755 },
  'node_modules/.bin/dep': { link: '../dep/cli.js' },
  '.git/HEAD': 'ref: refs/heads/main\n',
  'debug.log': 'noise',
  '.lambkinignore': '*.log\n',
};

describe('lambkin package', () => {
  it('zips a folder with its node_modules, modes and links kept, .git and ignored files left out', async () => {
    const dir = await files(FUNCTION_TREE, await newDir('fn'));
    const out = join(dir, 'function.zip'); // inside the folder: must not package itself
    const result = await packageFunction({ dir, out });
    const entries = await unzip(out);
    expect([...entries.keys()]).toEqual([
      'bootstrap',
      'index.js',
      'lib/util.js',
      'node_modules/.bin/dep',
      'node_modules/dep/cli.js',
      'node_modules/dep/package.json',
    ]);
    expect(entries.get('bootstrap')!.mode).toBe(0o100755);
    expect(entries.get('index.js')!.mode).toBe(0o100644);
    expect(entries.get('node_modules/dep/cli.js')!.mode).toBe(0o100755);
    expect(entries.get('node_modules/.bin/dep')!.mode).toBe(0o120777);
    expect(entries.get('node_modules/.bin/dep')!.content.toString()).toBe('../dep/cli.js');
    expect(entries.get('bootstrap')!.content.toString()).toBe('#!/bin/sh\nexec node index.js\n');
    expect(entries.get('lib/util.js')!.content.toString()).toBe('module.exports = 1;\n');

    const bytes = await readFile(out);
    expect(result.zippedBytes).toBe(bytes.length);
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(result.files).toBe(6);
    expect(await zipUnzippedSize(out)).toBe(result.unzippedBytes);
  });

  it('gives the same bytes (the same CodeSha256) for the same files, whatever their times', async () => {
    const dir = await files(FUNCTION_TREE, await newDir('same'));
    const first = await packageFunction({ dir, out: join(work, 'same-1.zip') });
    await utimes(join(dir, 'index.js'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    const second = await packageFunction({ dir, out: join(work, 'same-2.zip') });
    expect(second.sha256).toBe(first.sha256);
    expect(await readFile(join(work, 'same-2.zip'))).toEqual(await readFile(join(work, 'same-1.zip')));
    await writeFile(join(dir, 'index.js'), 'exports.handler = async () => "changed";\n');
    const third = await packageFunction({ dir, out: join(work, 'same-3.zip') });
    expect(third.sha256).not.toBe(first.sha256);
    // Bytes that do not depend on the clock either: 1980-01-01 00:00 in DOS time, no extended timestamp field.
    for (const [name, entry] of await unzip(join(work, 'same-3.zip'))) {
      expect({ name, date: entry.dosDate, time: entry.dosTime, extra: entry.extraFields }).toEqual({ name, date: (1 << 5) | 1, time: 0, extra: [] });
    }
  });

  it('takes a zip just under 50 MB and refuses one just over, naming the largest files and leaving nothing', async () => {
    const random = randomBytes(MAX_ZIPPED_BYTES + 1);
    const under = await newDir('zipped-under');
    await writeFile(join(under, 'random.bin'), random.subarray(0, MAX_ZIPPED_BYTES - 64 * 1024));
    const ok = await packageFunction({ dir: under, out: join(under, 'out.zip') });
    expect(ok.zippedBytes).toBeLessThanOrEqual(MAX_ZIPPED_BYTES);
    expect(ok.zippedBytes).toBeGreaterThan(MAX_ZIPPED_BYTES - 64 * 1024);

    const over = await newDir('zipped-over');
    await writeFile(join(over, 'random.bin'), random);
    for (let i = 1; i <= 6; i++) await writeFile(join(over, `small-${i}.txt`), 'x'.repeat(i * 100));
    const before = await listing(over);
    const error = await expectLimitError(packageFunction({ dir: over, out: join(over, 'out.zip') }));
    expect(error.violation.code).toBe('RequestEntityTooLargeException');
    expect(error.message).toContain('RequestEntityTooLargeException');
    expect(error.message).toContain(`${MAX_ZIPPED_BYTES} bytes`);
    expect(error.violation.largest.map((item) => item.name)).toEqual(['random.bin', 'small-6.txt', 'small-5.txt', 'small-4.txt', 'small-3.txt']);
    expect(error.message).toMatch(/52428801 bytes .*random\.bin/);
    expect(await listing(over)).toEqual(before);
  });

  it('takes 250 MB unzipped with the layers and refuses one byte more, before writing anything', async () => {
    // Sparse files of zeros: quick to make, and quick to compress.
    const dir = await newDir('unzipped');
    const sizes = { 'a.bin': 150_000_000, 'b.bin': 60_000_000, 'c.bin': 2_000_000, 'd.bin': 1_000, 'e.bin': 100, 'f.bin': 10 };
    for (const [name, size] of Object.entries(sizes)) {
      await writeFile(join(dir, name), '');
      await truncate(join(dir, name), size);
    }
    const own = Object.values(sizes).reduce((sum, size) => sum + size, 0);
    const layerSize = MAX_UNZIPPED_BYTES - own;
    const ok = await packageFunction({ dir, out: join(work, 'unzipped-ok.zip'), layerSizes: [layerSize] });
    expect(ok.totalUnzippedBytes).toBe(MAX_UNZIPPED_BYTES);
    expect(ok.unzippedBytes).toBe(own);

    const before = await listing(work);
    const error = await expectLimitError(packageFunction({ dir, out: join(work, 'unzipped-over.zip'), layerSizes: [layerSize + 1] }));
    expect(error.violation.code).toBe('InvalidParameterValueException');
    expect(error.violation.bytes).toBe(MAX_UNZIPPED_BYTES + 1);
    expect(error.message).toContain('Unzipped size must be smaller than 262144000 bytes');
    expect(error.violation.largest.map((item) => item.name)).toEqual(['a.bin', 'b.bin', `layer #1 (--layer-size)`, 'c.bin', 'd.bin']);
    expect(await listing(work)).toEqual(before);
  });

  it('counts a layer zip by its unzipped size', async () => {
    const layerDir = await files({ 'bin/tool': { content: 'x'.repeat(1000), mode: 0o755 } }, await newDir('counted-layer'));
    const layerZip = join(work, 'counted-layer.zip');
    await packageLayer({ dir: layerDir, out: layerZip });
    expect(await zipUnzippedSize(layerZip)).toBe(1000);
    const dir = await newDir('with-layer');
    await writeFile(join(dir, 'big.bin'), '');
    await truncate(join(dir, 'big.bin'), MAX_UNZIPPED_BYTES - 1000);
    const error = await expectLimitError(packageFunction({ dir, out: join(work, 'with-layer.zip'), layers: [layerZip], layerSizes: [1] }));
    expect(error.message).toContain(`layer ${layerZip}`);
    expect(error.violation.bytes).toBe(MAX_UNZIPPED_BYTES + 1);
  });

  it('checks the limits as a pure function', () => {
    expect(checkDeploymentLimits({ unzippedBytes: MAX_UNZIPPED_BYTES, zippedBytes: MAX_ZIPPED_BYTES })).toBeUndefined();
    expect(checkDeploymentLimits({ unzippedBytes: 10, zippedBytes: MAX_ZIPPED_BYTES + 1 })?.code).toBe('RequestEntityTooLargeException');
    expect(checkDeploymentLimits({ unzippedBytes: 10, layers: [{ name: 'l', size: MAX_UNZIPPED_BYTES - 9 }] })?.code).toBe('InvalidParameterValueException');
    expect(checkDeploymentLimits({ unzippedBytes: 10, zippedBytes: 10 ** 9, maxZippedBytes: Infinity })).toBeUndefined();
  });
});

describe('lambkin layer', () => {
  it('puts a Node.js package under nodejs/node_modules, its own files under its name', async () => {
    const dir = await files(
      {
        'package.json': '{"name":"@acme/tools","version":"1.0.0"}',
        'lib/index.js': 'module.exports = {};\n',
        'node_modules/left-pad/index.js': 'module.exports = 2;\n',
        'node_modules/.bin/pad': { link: '../left-pad/index.js' },
      },
      await newDir('nodejs-layer'),
    );
    expect(await planLayer(dir)).toEqual({ kind: 'nodejs-package', name: '@acme/tools' });
    const result = await packageLayer({ dir, out: join(work, 'nodejs-layer.zip') });
    expect(result.layout.kind).toBe('nodejs-package');
    const entries = await unzip(join(work, 'nodejs-layer.zip'));
    expect([...entries.keys()]).toEqual([
      'nodejs/node_modules/.bin/pad',
      'nodejs/node_modules/@acme/tools/lib/index.js',
      'nodejs/node_modules/@acme/tools/package.json',
      'nodejs/node_modules/left-pad/index.js',
    ]);
    expect(entries.get('nodejs/node_modules/.bin/pad')!.mode).toBe(0o120777);
  });

  it("zips a folder with bin/ as it is, and puts a custom runtime's executables under bin/", async () => {
    const ready = await files({ 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 }, 'lib/libx.so': 'elf' }, await newDir('bin-layer'));
    await packageLayer({ dir: ready, out: join(work, 'bin-layer.zip') });
    const asIs = await unzip(join(work, 'bin-layer.zip'));
    expect([...asIs.keys()]).toEqual(['bin/tool', 'lib/libx.so']);
    expect(asIs.get('bin/tool')!.mode).toBe(0o100755);

    const loose = await files({ jq: { content: '#!/bin/sh\n', mode: 0o755 }, 'helper.sh': { content: '#!/bin/sh\n', mode: 0o700 } }, await newDir('loose'));
    await expect(planLayer(loose)).rejects.toThrow(/--runtime provided/);
    const result = await packageLayer({ dir: loose, out: join(work, 'loose.zip'), runtime: 'provided' });
    expect(result.layout).toEqual({ kind: 'bin' });
    const entries = await unzip(join(work, 'loose.zip'));
    expect([...entries.keys()]).toEqual(['bin/helper.sh', 'bin/jq']);
    expect(entries.get('bin/jq')!.mode).toBe(0o100755);
    expect(entries.get('bin/helper.sh')!.mode).toBe(0o100700);
  });
});

describe('the commands', () => {
  // As a user runs them: a Node.js 24 process (this one's) running the command's main, exit code and all.
  const command = (module: string, args: string[]) =>
    execa(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        'const { main } = await import(process.argv[1]); main(process.argv.slice(2));',
        join(repoRoot, 'src', 'cli', module),
        ...args,
      ],
      { reject: false, cwd: work },
    );

  it('package exits 0 with the CodeSha256, 1 over a limit with the message, 2 on a bad flag', async () => {
    const dir = await files(FUNCTION_TREE, await newDir('cli-fn'));
    const ok = await command('package.ts', [dir, '-o', 'cli.zip']);
    expect(ok.exitCode).toBe(0);
    const sha = createHash('sha256')
      .update(await readFile(join(work, 'cli.zip')))
      .digest('base64');
    expect(ok.stdout).toContain(`CodeSha256: ${sha}`);

    const before = await listing(work);
    const over = await command('package.ts', [dir, '-o', 'cli-over.zip', '--layer-size', String(MAX_UNZIPPED_BYTES)]);
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toContain('lambkin package: InvalidParameterValueException: Unzipped size must be smaller than 262144000 bytes');
    expect(over.stderr).toContain('layer #1 (--layer-size)');
    expect(await listing(work)).toEqual(before);

    const bad = await command('package.ts', [dir, '--layer-size', 'lots']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--layer-size must be a whole number');
  });

  it('layer exits 0 and says the layout, 1 over a limit, 2 on a bad runtime', async () => {
    const dir = await files({ 'package.json': '{"name":"lib"}', 'index.js': '1' }, await newDir('cli-layer'));
    const ok = await command('layer.ts', [dir, '-o', 'cli-layer.zip', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ files: 2, layout: { kind: 'nodejs-package', name: 'lib' } });

    const over = await command('layer.ts', [dir, '-o', 'cli-layer-over.zip', '--layer-size', String(MAX_UNZIPPED_BYTES)]);
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toContain('Unzipped size must be smaller than 262144000 bytes');
    expect(over.stderr).toContain('nodejs/node_modules/lib/package.json');

    const bad = await command('layer.ts', [dir, '--runtime', 'python']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--runtime must be nodejs or provided');
  });
});
