// UpdateFunctionCode and UpdateFunctionConfiguration: each replaces part of $LATEST and gives it a new
// RevisionId and LastModified, answered with LastUpdateStatus InProgress; Successful follows (function-lifecycle.ts).
// One update at a time: another while one is in progress (or while the function is Pending) is refused with 409.
import type { FunctionRecord } from '../function-record.ts';
import { deadLetterChange } from '../dead-letter-config.ts';
import { functionConfiguration } from '../function-configuration.ts';
import { checkNotInTransition, current, startTransition, updateInProgress } from '../function-lifecycle.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter } from '../lambda-error.ts';
import { runtimeImage } from '../runtimes.ts';
import { checkEnvironment, checkImageConfig, checkMemorySize, checkRuntime, checkString, checkTimeout } from '../validation.ts';
import { checkRevision, findFunction, newRevision, retireRevision, type OperationHandler, type ServiceContext } from './context.ts';
import { storeCode } from './function-code.ts';
import { applyLayers, checkCombinedSize, resolveLayers } from './function-layers.ts';
import { publish, type Published } from './versions.ts';
import { checkArchitectures, checkEphemeralStorage, imageFunctionSettingsRefused } from './settings.ts';

export const updateFunctionCode: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  const fn = await current(context, await findFunction(context, request));
  checkRevision(fn, input.RevisionId);
  checkNotInTransition(fn);
  const code = await storeCode(context.store, fn.packageType, input, context.invoker);
  checkCombinedSize(context, code, fn.layers ?? []);
  const updated: FunctionRecord = { ...fn, code };
  if (code.kind === 'image') updated.image = code.imageUri;
  // The architecture the new code is built for, as AWS applies it (test_lambda.snapshot.json, test_mixed_architecture).
  const architectures = checkArchitectures(input.Architectures);
  if (architectures) updated.architectures = architectures;
  // DryRun validates the package and answers what the function would become, changing nothing.
  if (input.DryRun === true) return { status: 200, json: functionConfiguration(updated) };
  if (input.Publish !== true) return { status: 200, json: functionConfiguration(await save(context, updated, fn)) };
  // Publish: the new code is published in the same call, and the answer is the new version, Pending as AWS answers
  // it while the update completes (test_lambda_api.snapshot.json, test_publish_with_update). The version itself is
  // stored Active: it names the same extracted code as $LATEST, which an invoke can run at once.
  const { version } = await save(context, updated, fn, { publish: true });
  const answer: FunctionRecord = { ...version, state: 'Pending' };
  delete answer.lastUpdateStatus;
  return { status: 200, json: functionConfiguration(answer) };
};

export const updateFunctionConfiguration: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  const fn = await current(context, await findFunction(context, request));
  checkRevision(fn, input.RevisionId);
  checkNotInTransition(fn);
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
  if (input.Environment !== undefined) {
    updated.environment = checkEnvironment(input.Environment);
    updated.environmentGiven = input.Environment !== null;
  }
  const deadLetter = deadLetterChange(input.DeadLetterConfig, context.identity, false);
  if (deadLetter && 'set' in deadLetter) updated.deadLetterTargetArn = deadLetter.set;
  if (deadLetter && 'remove' in deadLetter) delete updated.deadLetterTargetArn;
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

/**
 * Saves `fn` as the new $LATEST, its update InProgress, and starts the update's completion; `previous` is the record
 * it replaces (its code may now be unused). Another update saved since `previous` was read (both checked the
 * function was not being updated, then stored their code) is in progress: this one is refused, as AWS refuses it.
 */
async function save(context: ServiceContext, fn: FunctionRecord, previous: FunctionRecord): Promise<FunctionRecord>;
async function save(context: ServiceContext, fn: FunctionRecord, previous: FunctionRecord, options: { publish: true }): Promise<Published>;
async function save(context: ServiceContext, fn: FunctionRecord, previous: FunctionRecord, options?: { publish: true }): Promise<FunctionRecord | Published> {
  const saved: FunctionRecord = { ...fn, ...newRevision(), lastUpdateStatus: 'InProgress' };
  if (!(await context.store.update(saved, previous.revisionId))) {
    const now = await context.store.get(previous.name);
    throw now ? updateInProgress(now) : functionNotFound(previous.arn);
  }
  // The code (or merged /opt) this change replaced goes once the old revision's environments have stopped.
  retireRevision(context, previous, saved);
  // Published before the transition starts, which completes the $LATEST the publish wrote (its RevisionId moved on).
  const published = options?.publish ? await publish(context, saved) : undefined;
  const latest = published?.latest ?? saved;
  // Provisioned concurrency follows the revision the update ends with (function-lifecycle.ts).
  void startTransition(context, latest);
  return published ?? latest;
}
