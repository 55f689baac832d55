// Image functions that `lambkin serve` registers itself: `--image IMG` as the function named `function`, so the
// RIE's invoke path (/2015-03-31/functions/function/invocations) answers with no set-up, as `docker run` of the
// image would; and `--examples`, the README's example functions.
import { DEFAULT_IDENTITY } from '../service/function-record.ts';
import { newRevision } from '../service/handlers/context.ts';
import { createStoredFunction } from '../service/handlers/create-function.ts';
import { startTransition } from '../service/function-lifecycle.ts';
import { imageCode } from '../service/handlers/function-code.ts';
import type { FunctionInvoker } from '../service/invoker.ts';
import type { FunctionStore } from '../service/storage/function-store.ts';

/** The name the RIE's invoke path uses. */
export const RIE_FUNCTION_NAME = 'function';

const ROLE = `arn:aws:iam::${DEFAULT_IDENTITY.accountId}:role/lambkin-serve`;

/** The examples `npm run images` builds, registered by `lambkin serve --examples`. */
export const EXAMPLE_FUNCTIONS = [
  { name: 'hello-nodejs', imageUri: 'lambkin-example/nodejs' },
  { name: 'hello-shell', imageUri: 'lambkin-example/provided' },
] as const;

/**
 * Registers `name` (by default `function`) with PackageType Image and this ImageUri, as CreateFunction would with
 * Lambda's defaults; an existing function keeps its settings and gets the image (a new revision only when something
 * changed, so its environments are replaced only then). The invoker inspects the image, as CreateFunction does, so
 * CodeSha256 and ResolvedImageUri are the image's digest here too.
 */
export async function registerImageFunction(
  store: FunctionStore,
  imageUri: string,
  name: string = RIE_FUNCTION_NAME,
  invoker?: FunctionInvoker,
): Promise<'created' | 'updated' | 'unchanged'> {
  const existing = await store.get(name);
  if (existing) {
    if (existing.packageType === 'Image' && existing.code.kind === 'image' && existing.code.imageUri === imageUri) return 'unchanged';
    const { runtime: _runtime, handler: _handler, ...settings } = existing;
    // Nothing is left to do for an image (function-lifecycle.ts), and no one waits for this answer: done at once.
    const done = { state: 'Active', lastUpdateStatus: 'Successful' } as const;
    const code = imageCode(imageUri, await invoker?.resolveImage?.(imageUri));
    await store.update({ ...settings, packageType: 'Image', image: imageUri, code, ...newRevision(), ...done });
    return 'updated';
  }
  const created = await createStoredFunction(
    { store, identity: DEFAULT_IDENTITY, ...(invoker ? { invoker } : {}) },
    { name, packageType: 'Image', role: ROLE, description: `${imageUri}, registered by lambkin serve`, code: { ImageUri: imageUri } },
  );
  // Active before serve takes requests, as the RIE's invoke path expects of `docker run`.
  await startTransition({ store }, created);
  return 'created';
}
