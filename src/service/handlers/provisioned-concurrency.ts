// Provisioned concurrency configs (Put, Get, List, Delete), one per published version or alias, kept together on
// the function's $LATEST record (function-wide, as reserved concurrency is). Lambda refuses $LATEST and an
// unqualified name. The record keeps the requested numbers; provisioned-allocation.ts turns them into environments
// per version, and the invoker's pool starts them and reports their status.
import { isVersionNumber, LATEST } from '../../invocation/resolve-function.ts';
import { functionArn, lambdaTimestamp, type AliasRecord, type FunctionRecord } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, invalidValue, LambdaError, resourceConflict, resourceNotFound, serviceError } from '../lambda-error.ts';
import { findFunction, saveFunction, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';
import { allocationOf, applyAllocation, configsOf, configStatus, forgetProvisioned, totalProvisioned } from './provisioned-allocation.ts';

export const putProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const requested = parseJsonObject(request.body).ProvisionedConcurrentExecutions;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw invalidValue(requested, 'provisionedConcurrentExecutions', 'Member must have value greater than or equal to 1');
  }
  const qualifier = requestQualifier(request);
  if (qualifier === LATEST) throw unpublished();
  const { latest, alias } = await findTarget(context, request, qualifier);
  // An alias of $LATEST would provision $LATEST, which Lambda refuses.
  if (alias?.functionVersion === LATEST) throw unpublished();
  await checkConflicts(context, latest, qualifier, alias);
  checkLimits(context, latest, qualifier, requested);
  if (!context.invoker.provision) throw serviceError('This lambkin invoker has no execution environments to provision');
  const config = { requested, lastModified: lambdaTimestamp() };
  const saved = { ...latest, provisionedConcurrencyConfigs: { ...configsOf(latest), [qualifier]: config } };
  const before = await allocationOf(context, latest);
  await saveFunction(context, saved);
  await applyAllocation(context, saved, before, await allocationOf(context, saved));
  return { status: 202, json: await configJson(context, saved, qualifier) };
};

export const getProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const qualifier = requestQualifier(request);
  if (qualifier === LATEST) throw notAliasOrVersion();
  const { latest } = await findTarget(context, request, qualifier);
  if (!configsOf(latest)[qualifier]) throw configNotFound();
  return { status: 200, json: await configJson(context, latest, qualifier) };
};

export const listProvisionedConcurrencyConfigs: OperationHandler = async (context, request) => {
  const latest = await findFunction(context, request);
  const configs = [];
  for (const qualifier of Object.keys(configsOf(latest)).sort(byQualifier)) {
    configs.push({ FunctionArn: functionArn(context.identity, latest.name, qualifier), ...(await configJson(context, latest, qualifier)) });
  }
  return { status: 200, json: { ProvisionedConcurrencyConfigs: configs } };
};

export const deleteProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const qualifier = requestQualifier(request);
  if (qualifier === LATEST) throw notAliasOrVersion();
  const { latest } = await findTarget(context, request, qualifier);
  // Deleting a config there is none of answers 204 too (test_provisioned_concurrency_exceptions,
  // delete_provisioned_config_doesnotexist).
  await forgetProvisioned(context, latest, qualifier);
  return { status: 204 };
};

/** The config's wire shape, with the pool's live counts. */
async function configJson(context: ServiceContext, latest: FunctionRecord, qualifier: string): Promise<Record<string, unknown>> {
  const config = configsOf(latest)[qualifier]!;
  const live = await configStatus(context, latest, qualifier, config.requested);
  return {
    RequestedProvisionedConcurrentExecutions: config.requested,
    AvailableProvisionedConcurrentExecutions: live?.available ?? 0,
    AllocatedProvisionedConcurrentExecutions: live?.allocated ?? 0,
    Status: live?.status ?? 'IN_PROGRESS',
    ...(live?.statusReason ? { StatusReason: live.statusReason } : {}),
    LastModified: config.lastModified,
  };
}

/** The qualifier a config call names (in the FunctionName or ?Qualifier=); Lambda refuses none. */
function requestQualifier(request: ServiceRequest): string {
  const qualifier = resolveQualifier(parseFunctionName(request.functionName ?? ''), request.query.get('Qualifier'));
  if (qualifier === undefined) throw notAliasOrVersion();
  return qualifier;
}

/** The function and the alias `qualifier` names; a missing version or alias is 404, whether or not the function exists. */
async function findTarget(context: ServiceContext, request: ServiceRequest, qualifier: string): Promise<{ latest: FunctionRecord; alias?: AliasRecord }> {
  const name = parseFunctionName(request.functionName ?? '').name;
  const arn = functionArn(context.identity, name, qualifier);
  const latest = await context.store.get(name);
  // Messages as test_lambda_api.snapshot.json, test_provisioned_concurrency_exceptions records them.
  if (isVersionNumber(qualifier)) {
    if (!latest || !(await context.store.getVersion(name, Number(qualifier)))) throw functionNotFound(arn);
    return { latest };
  }
  const alias = latest && (await context.store.aliases.get(name, qualifier));
  if (!latest || !alias) throw resourceNotFound(`Cannot find alias arn: ${arn}`);
  return { latest, alias };
}

/** A version and an alias pointing to it cannot both have a config (test_lambda_provisioned_lifecycle). */
async function checkConflicts(context: ServiceContext, latest: FunctionRecord, qualifier: string, alias: AliasRecord | undefined): Promise<void> {
  const configs = configsOf(latest);
  if (alias) {
    if (configs[alias.functionVersion])
      throw resourceConflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
    return;
  }
  for (const other of Object.keys(configs)) {
    if (isVersionNumber(other)) continue;
    if ((await context.store.aliases.get(latest.name, other))?.functionVersion === qualifier) {
      throw resourceConflict('Version is pointed by a Provisioned Concurrency alias');
    }
  }
}

/**
 * All the function's configs together count against its reserved concurrency, or else the unreserved pool; the one
 * being replaced counts with its new number.
 */
function checkLimits(context: ServiceContext, latest: FunctionRecord, qualifier: string, requested: number): void {
  const total = totalProvisioned(latest, qualifier) + requested;
  if (latest.reservedConcurrency !== undefined) {
    if (total > latest.reservedConcurrency) {
      throw invalidParameter(
        `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function [${latest.reservedConcurrency}].`,
      );
    }
    return;
  }
  // AWS's two refusals (test_lambda_api.snapshot.json, test_provisioned_concurrency_limits): more than the account's
  // unreserved concurrency, or enough to leave less than its minimum unreserved.
  const { scheduler } = context;
  if (total > scheduler.unreservedLimit) {
    throw invalidParameter(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${scheduler.unreservedLimit}].`);
  }
  if (total > scheduler.unreservedLimit - scheduler.unreservedMinimum) {
    throw invalidParameter(
      `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${scheduler.unreservedMinimum}].`,
    );
  }
}

/** Versions in number order, then aliases by name. */
function byQualifier(a: string, b: string): number {
  const [va, vb] = [isVersionNumber(a), isVersionNumber(b)];
  if (va && vb) return Number(a) - Number(b);
  if (va !== vb) return va ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const unpublished = () => invalidParameter('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
const notAliasOrVersion = () => invalidParameter('The function resource provided must be an alias or a published version.');
const configNotFound = () => new LambdaError(404, 'ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function');
