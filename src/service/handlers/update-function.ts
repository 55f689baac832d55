// UpdateFunctionCode and UpdateFunctionConfiguration: each replaces part of $LATEST and gives it a new
// RevisionId and LastModified.
import type { FunctionRecord } from '../function-record.ts';
import { functionConfiguration } from '../function-configuration.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter } from '../lambda-error.ts';
import { runtimeImage } from '../runtimes.ts';
import { checkEnvironment, checkImageConfig, checkMemorySize, checkRuntime, checkString, checkTimeout } from '../validation.ts';
import { checkRevision, findFunction, newRevision, retireRevision, saveFunction, type OperationHandler, type ServiceContext } from './context.ts';
import { storeCode } from './function-code.ts';
import { applyLayers, checkCombinedSize, resolveLayers } from './function-layers.ts';
import { checkEphemeralStorage, imageFunctionSettingsRefused } from './settings.ts';

export const updateFunctionCode: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  const fn = await findFunction(context, request);
  checkRevision(fn, input.RevisionId);
  const code = await storeCode(context.store, fn.packageType, input);
  checkCombinedSize(context, code, fn.layers ?? []);
  const updated: FunctionRecord = { ...fn, code };
  if (code.kind === 'image') updated.image = code.imageUri;
  // DryRun validates the package and answers what the function would become, changing nothing.
  if (input.DryRun === true) return { status: 200, json: functionConfiguration(updated) };
  return { status: 200, json: functionConfiguration(await save(context, updated, fn)) };
};

export const updateFunctionConfiguration: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  const fn = await findFunction(context, request);
  checkRevision(fn, input.RevisionId);
  const updated: FunctionRecord = { ...fn };

  if (fn.packageType === 'Image' && (input.Runtime !== undefined || input.Handler !== undefined || input.Layers !== undefined)) {
    throw imageFunctionSettingsRefused();
  }
  if (fn.packageType === 'Zip' && input.ImageConfig !== undefined) {
    throw invalidParameter('ImageConfig is not supported for functions of PackageType Zip.');
  }
  if (input.Runtime !== undefined) {
    updated.runtime = checkRuntime(input.Runtime);
    updated.image = runtimeImage(updated.runtime)!;
  }
  if (input.Handler !== undefined) updated.handler = checkString(input.Handler, 'handler', fn.handler ?? '');
  if (input.Role !== undefined) updated.role = checkString(input.Role, 'role', fn.role);
  if (input.Description !== undefined) updated.description = checkString(input.Description, 'description', fn.description);
  if (input.Timeout !== undefined) updated.timeout = checkTimeout(input.Timeout);
  if (input.MemorySize !== undefined) updated.memorySize = checkMemorySize(input.MemorySize);
  // Environment replaces the whole set, as in Lambda: variables left out are removed.
  if (input.Environment !== undefined) updated.environment = checkEnvironment(input.Environment);
  if (input.EphemeralStorage !== undefined) updated.ephemeralStorageMb = checkEphemeralStorage(input.EphemeralStorage);
  if (input.ImageConfig !== undefined) {
    const imageConfig = checkImageConfig(input.ImageConfig);
    if (imageConfig && Object.keys(imageConfig).length > 0) updated.imageConfig = imageConfig;
    else delete updated.imageConfig;
  }
  // Layers replaces the whole list ([] removes them); a new list is a new revision, so environments are retired.
  if (input.Layers !== undefined) await applyLayers(context, updated, await resolveLayers(context, input.Layers));
  return { status: 200, json: functionConfiguration(await save(context, updated, fn)) };
};

/** Saves `fn` as the new $LATEST; `previous` is the record it replaces (its code may now be unused). */
async function save(context: ServiceContext, fn: FunctionRecord, previous: FunctionRecord): Promise<FunctionRecord> {
  const saved = { ...fn, ...newRevision() };
  await saveFunction(context, saved);
  // The code (or merged /opt) this change replaced goes once the old revision's environments have stopped.
  retireRevision(context, previous, saved);
  // The new revision gets its provisioned environments; the old revision's are retired above.
  if (saved.provisionedConcurrency) context.invoker.provision?.(saved, saved.provisionedConcurrency.requested);
  return saved;
}
