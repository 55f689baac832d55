// Hardening of the stored code (issue 10): zips with more entries than lambkin takes are refused at once, from the
// end-of-central-directory record, through the real AWS SDK, and by `lambkin package` before it writes; a deleted
// function's code and an updated function's previous code leave the data dir; a restart on the same data dir
// keeps what was acknowledged and removes what nothing names.
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PACKAGE_ENTRIES } from '../src/limits/package-limits.ts';
import { DeploymentLimitError } from '../src/packaging/deployment-limits.ts';
import { writeZip, type PackageEntry } from '../src/packaging/zip-package.ts';
import { failure, useLocalService, noInvoker as noInvokerFor } from './support/local-service.ts';
import { manyEntriesZip } from './support/many-entries-zip.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, ROLE } from './support/lambda-fixtures.ts';

const noInvoker = noInvokerFor('hardening tests');

const local = useLocalService('lambkin-hardening-', () => ({ invoker: noInvoker }));

const codeZip = (text: string) => makeZip([{ name: 'index.js', content: `exports.handler = async () => ${JSON.stringify(text)};` }]);
const create = (name: string, zip: Buffer) =>
  createActiveFunction(local.lambda, { FunctionName: name, Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile: zip } });
/** What a user sees in the data dir: the extracted trees (64 hex digits) and the zips beside them. */
const stored = (folder: string) =>
  existsSync(join(local.dataDir, folder))
    ? readdirSync(join(local.dataDir, folder))
        .filter((name) => /^[0-9a-f]{64}/.test(name))
        .sort()
    : [];
const hexOf = (sha256: string) => Buffer.from(sha256, 'base64').toString('hex');

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the entry-count limit', () => {
  const bomb = manyEntriesZip(MAX_PACKAGE_ENTRIES + 1, { flat: true });

  it('refuses a 100,001-entry zip in CreateFunction at once, naming the count and the limit, and keeps nothing', async () => {
    expect(MAX_PACKAGE_ENTRIES).toBe(100_000);
    const started = performance.now();
    const error = await failure(create('bomb', bomb));
    const elapsedMs = performance.now() - started;
    expect(error.name).toBe('InvalidParameterValueException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain('100001');
    expect(error.message).toContain('100000');
    // The request itself (an 8.8 MB zip, base64 in JSON through the SDK) is most of it: about 0.6 s alone on this
    // machine, up to 2 s beside the rest of the suite. Unpacking the 100,001 entries first would take far longer.
    expect(elapsedMs).toBeLessThan(5_000);
    expect(stored('code')).toEqual([]);
  });

  it('refuses it in UpdateFunctionCode and PublishLayerVersion too', async () => {
    await create('small', codeZip('v1'));
    const update = await failure(local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'small', ZipFile: bomb })));
    expect(update.name).toBe('InvalidParameterValueException');
    expect(update.message).toContain('100001');
    const layer = await failure(local.lambda.send(new PublishLayerVersionCommand({ LayerName: 'bomb', Content: { ZipFile: bomb } })));
    expect(layer.name).toBe('InvalidParameterValueException');
    expect(stored('layers')).toEqual([]);
  });

  it('is the limit lambkin package checks before writing a zip', async () => {
    // 100,001 entries as collectEntries would list them; refused before a file is read, so none need exist.
    const entries: PackageEntry[] = Array.from({ length: MAX_PACKAGE_ENTRIES + 1 }, (_, i) => ({
      zipPath: `f${String(i).padStart(6, '0')}`,
      kind: 'file',
      source: `/nonexistent/${i}`,
      size: 0,
      mode: 0o100644,
    }));
    const out = join(local.dataDir, 'function.zip');
    const started = performance.now();
    const error = await writeZip(entries, out).catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(5_000); // refused before opening a file: no /nonexistent read failed
    expect(error).toBeInstanceOf(DeploymentLimitError);
    expect((error as DeploymentLimitError).violation).toMatchObject({
      code: 'InvalidParameterValueException',
      limit: 'entries',
      bytes: 100_001,
      maxBytes: 100_000,
    });
    expect((error as Error).message).toMatch(/^InvalidParameterValueException: Deployment package has too many entries: 100001 .* 100000/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('stored code', () => {
  it("DeleteFunction removes the function's code from the data dir", async () => {
    const created = await create('goes', codeZip('bye'));
    const hex = hexOf(created.CodeSha256!);
    expect(stored('code')).toEqual([hex, `${hex}.zip`]);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'goes' }));
    await eventually(() => stored('code').length === 0);
    expect(existsSync(join(local.dataDir, 'code', hex))).toBe(false);
  });

  it('keeps code another function still uses, and the code a later function uploads again', async () => {
    const zip = codeZip('shared');
    const a = await create('a', zip);
    await create('b', zip);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'a' }));
    await local.service.store.collected();
    const hex = hexOf(a.CodeSha256!);
    expect(stored('code')).toEqual([hex, `${hex}.zip`]);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'b' }));
    await eventually(() => stored('code').length === 0);
    await create('c', zip);
    expect(readdirSync(join(local.dataDir, 'code', hex))).toEqual(['index.js']);
  });

  it('UpdateFunctionCode removes the previous code once nothing uses it', async () => {
    const v1 = await create('changes', codeZip('v1'));
    const v2 = await local.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'changes', ZipFile: codeZip('v2') }));
    await local.service.store.collected();
    const [old, now] = [hexOf(v1.CodeSha256!), hexOf(v2.CodeSha256!)];
    expect(stored('code')).toEqual([now, `${now}.zip`]);
    expect(existsSync(join(local.dataDir, 'code', old))).toBe(false);
  });

  it('waits for the environments that mount the code before removing it', async () => {
    const created = await create('busy', codeZip('busy'));
    const hex = hexOf(created.CodeSha256!);
    const environment = { id: 'c1', functionName: 'busy', state: 'busy' as const, provisioned: false, memoryMb: 128, invokes: 1, startedAt: Date.now() };
    let environments = [environment];
    const deleted = (await local.service.store.delete('busy'))!;
    const { retiredContent } = await import('../src/service/storage/function-store.ts');
    local.service.store.retire(retiredContent(deleted), () => environments);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stored('code')).toEqual([hex, `${hex}.zip`]);
    environments = [];
    await eventually(() => stored('code').length === 0);
  });

  it("keeps a deleted layer version's content for the functions using it, and removes it with the last of them", async () => {
    const layer = await local.lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'tools', Content: { ZipFile: makeZip([{ name: 'bin/tool', content: 'x' }]) } }),
    );
    await local.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'uses-layer',
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Code: { ZipFile: codeZip('layered') },
        Layers: [layer.LayerVersionArn!],
      }),
    );
    await local.lambda.send(new DeleteLayerVersionCommand({ LayerName: 'tools', VersionNumber: 1 }));
    await local.service.store.collected();
    expect(stored('layers')).toHaveLength(2);
    expect(readdirSync(join(local.dataDir, 'opt')).filter((name) => /^[0-9a-f]{64}$/.test(name))).toHaveLength(1);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'uses-layer' }));
    await eventually(() => stored('layers').length === 0 && stored('code').length === 0 && stored('opt').length === 0);
  });

  it("removes at open what no stored function names (a crash's leftovers), and keeps the rest", async () => {
    const kept = await create('kept', codeZip('kept'));
    const orphan = 'ab'.repeat(32);
    await mkdir(join(local.dataDir, 'code', orphan, 'node_modules'), { recursive: true });
    await writeFile(join(local.dataDir, 'code', `${orphan}.zip`), 'leftover');
    await mkdir(join(local.dataDir, 'code', `.staging-${orphan}-x`), { recursive: true });
    await local.restart();
    await local.service.store.opened;
    const hex = hexOf(kept.CodeSha256!);
    expect(readdirSync(join(local.dataDir, 'code')).sort()).toEqual([hex, `${hex}.zip`]);
  });
});
