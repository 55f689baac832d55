// Reserved concurrency (PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency) and
// GetAccountSettings. The function record keeps the number (it survives a restart); the scheduler enforces it.
import { LimitError } from '../../scheduling/throttle.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter, invalidValue } from '../lambda-error.ts';
import { MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES } from '../../limits/package-limits.ts';
import { parseFunctionName } from '../function-name.ts';
import { saveFunction, findFunction, type OperationHandler, type ServiceContext } from './context.ts';
import { totalProvisioned } from './provisioned-allocation.ts';

const functionLevelOnly = () =>
  invalidParameter(
    'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. ' +
      'Please specify either a function name or an unqualified function ARN.',
  );

/** Lambda's TotalCodeSize quota: 75 GB of code per region. */
const TOTAL_CODE_SIZE_BYTES = 80_530_636_800;

export const putFunctionConcurrency: OperationHandler = async (context, request) => {
  const fn = await findFunction(context, request);
  // Reserved concurrency is the function's, not a version's or an alias's.
  if (parseFunctionName(request.functionName ?? '').qualifier !== undefined) throw functionLevelOnly();
  const input = parseJsonObject(request.body);
  const reserved = input.ReservedConcurrentExecutions;
  if (typeof reserved !== 'number' || !Number.isInteger(reserved) || reserved < 0) {
    throw invalidValue(reserved, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0');
  }
  // Every version's and alias's provisioned concurrency comes out of the function's reservation.
  const provisioned = totalProvisioned(fn);
  if (reserved < provisioned) {
    throw invalidParameter(`ReservedConcurrentExecutions ${reserved} should not be lower than function's total provisioned concurrency [${provisioned}].`);
  }
  setReserved(context, fn.name, reserved);
  await saveFunction(context, { ...fn, reservedConcurrency: reserved });
  return { status: 200, json: { ReservedConcurrentExecutions: reserved } };
};

export const getFunctionConcurrency: OperationHandler = async (context, request) => {
  const fn = await findFunction(context, request);
  return { status: 200, json: fn.reservedConcurrency === undefined ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency } };
};

export const deleteFunctionConcurrency: OperationHandler = async (context, request) => {
  const fn = await findFunction(context, request);
  const { reservedConcurrency: _dropped, ...rest } = fn;
  context.scheduler.setReserved(fn.name, undefined);
  await saveFunction(context, rest);
  return { status: 204 };
};

export const getAccountSettings: OperationHandler = async (context) => {
  let functionCount = 0;
  let totalCodeSize = 0;
  for await (const fn of allFunctions(context)) {
    functionCount += 1;
    totalCodeSize += fn.code.kind === 'zip' ? fn.code.size : 0;
    // Each published version counts its code again, as AWS counts it (test_account_settings_total_code_size:
    // UpdateFunctionCode with Publish, the same zip, adds its size once more).
    for (const version of await context.store.listVersions(fn.name, undefined, Number.MAX_SAFE_INTEGER)) {
      totalCodeSize += version.code.kind === 'zip' ? version.code.size : 0;
    }
  }
  // Each layer version's zip counts too, as AWS counts it (test_lambda_api.snapshot.json,
  // test_account_settings_total_code_size: a layer, then another version of it, each add the zip's size).
  for (const layer of (await context.store.layers?.listVersions()) ?? []) totalCodeSize += layer.code.size;
  return {
    status: 200,
    json: {
      AccountLimit: {
        TotalCodeSize: TOTAL_CODE_SIZE_BYTES,
        CodeSizeUnzipped: MAX_UNZIPPED_BYTES,
        CodeSizeZipped: MAX_ZIPPED_BYTES,
        ConcurrentExecutions: context.scheduler.accountLimit,
        UnreservedConcurrentExecutions: context.scheduler.unreservedLimit,
      },
      AccountUsage: { TotalCodeSize: totalCodeSize, FunctionCount: functionCount },
    },
  };
};

/** Every stored function, a page at a time. */
export async function* allFunctions(context: ServiceContext) {
  const PAGE = 500;
  let after: string | undefined;
  for (;;) {
    const page = await context.store.list(after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page.at(-1)!.name;
  }
}

function setReserved(context: ServiceContext, functionName: string, reserved: number): void {
  try {
    context.scheduler.setReserved(functionName, reserved);
  } catch (error) {
    if (error instanceof LimitError) throw invalidParameter(error.message);
    throw error;
  }
}
