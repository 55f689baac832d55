// Provisioned concurrency configs (Put, Get, List, Delete). lambkin has no published versions yet, so the one
// qualifier a config can name is $LATEST (AWS refuses $LATEST; here it stands in until versions exist). The
// record keeps the requested number; the invoker's pool starts the environments and reports their status.
import { functionArn, lambdaTimestamp, type FunctionRecord } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, invalidValue, LambdaError, resourceNotFound, serviceError } from '../lambda-error.ts';
import { findFunction, saveFunction, type OperationHandler, type ServiceContext, type ServiceRequest } from './context.ts';

const QUALIFIER = '$LATEST';

export const putProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const fn = await findQualified(context, request);
  const requested = parseJsonObject(request.body).ProvisionedConcurrentExecutions;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw invalidValue(requested, 'provisionedConcurrentExecutions', 'Member must have value greater than or equal to 1');
  }
  checkLimits(context, fn, requested);
  const provision = provisioner(context);
  const saved = { ...fn, provisionedConcurrency: { requested, lastModified: lambdaTimestamp() } };
  await saveFunction(context, saved);
  provision(saved, requested);
  return { status: 202, json: configJson(context, saved) };
};

export const getProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const fn = await findQualified(context, request);
  if (!fn.provisionedConcurrency) throw configNotFound();
  return { status: 200, json: configJson(context, fn) };
};

export const listProvisionedConcurrencyConfigs: OperationHandler = async (context, request) => {
  const fn = await findFunction(context, request);
  const configs = fn.provisionedConcurrency ? [{ FunctionArn: functionArn(context.identity, fn.name, QUALIFIER), ...configJson(context, fn) }] : [];
  return { status: 200, json: { ProvisionedConcurrencyConfigs: configs } };
};

export const deleteProvisionedConcurrencyConfig: OperationHandler = async (context, request) => {
  const fn = await findQualified(context, request);
  if (!fn.provisionedConcurrency) throw configNotFound();
  const { provisionedConcurrency: _dropped, ...rest } = fn;
  await saveFunction(context, rest);
  provisioner(context)(rest, 0);
  return { status: 204 };
};

/** The config's wire shape, with the pool's live counts. */
function configJson(context: ServiceContext, fn: FunctionRecord): Record<string, unknown> {
  const config = fn.provisionedConcurrency!;
  const live = context.invoker.provisionedStatus?.(fn.name);
  return {
    RequestedProvisionedConcurrentExecutions: config.requested,
    AvailableProvisionedConcurrentExecutions: live?.available ?? 0,
    AllocatedProvisionedConcurrentExecutions: live?.allocated ?? 0,
    Status: live?.status ?? 'IN_PROGRESS',
    ...(live?.statusReason ? { StatusReason: live.statusReason } : {}),
    LastModified: config.lastModified,
  };
}

/** The function and qualifier a config call names: the qualifier is required, and only $LATEST exists. */
async function findQualified(context: ServiceContext, request: ServiceRequest): Promise<FunctionRecord> {
  const ref = parseFunctionName(request.functionName ?? '');
  const qualifier = resolveQualifier(ref, request.query.get('Qualifier'));
  if (qualifier === undefined) {
    throw invalidParameter("1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null");
  }
  if (qualifier !== QUALIFIER) {
    // A version that does not exist is "Function not found", an alias "Cannot find alias arn", whether or not the
    // function exists (test_lambda_api.snapshot.json, test_provisioned_concurrency_exceptions).
    const arn = functionArn(context.identity, ref.name, qualifier);
    throw /^\d+$/.test(qualifier) ? functionNotFound(arn) : resourceNotFound(`Cannot find alias arn: ${arn}`);
  }
  return findFunction(context, request);
}

/** Provisioned environments count against the function's reserved concurrency, or else the unreserved pool. */
function checkLimits(context: ServiceContext, fn: FunctionRecord, requested: number): void {
  if (fn.reservedConcurrency !== undefined && requested > fn.reservedConcurrency) {
    throw invalidParameter(
      `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function [${fn.reservedConcurrency}].`,
    );
  }
  if (fn.reservedConcurrency !== undefined) return;
  // AWS's two refusals (test_lambda_api.snapshot.json, test_provisioned_concurrency_limits): more than the account's
  // unreserved concurrency, or enough to leave less than its minimum unreserved.
  const { scheduler } = context;
  if (requested > scheduler.unreservedLimit) {
    throw invalidParameter(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${scheduler.unreservedLimit}].`);
  }
  if (requested > scheduler.unreservedLimit - scheduler.unreservedMinimum) {
    throw invalidParameter(
      `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${scheduler.unreservedMinimum}].`,
    );
  }
}

function provisioner(context: ServiceContext): (fn: FunctionRecord, requested: number) => void {
  const { invoker } = context;
  if (!invoker.provision) throw serviceError('This lambkin invoker has no execution environments to provision');
  return (fn, requested) => invoker.provision!(fn, requested);
}

const configNotFound = () => new LambdaError(404, 'ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function');
