// CreateFunction: validates as Lambda does, stores the code, registers the function at $LATEST.
import { randomUUID } from 'node:crypto';
import { functionArn, lambdaTimestamp, type FunctionRecord, type PackageType } from '../function-record.ts';
import { functionConfiguration } from '../function-configuration.ts';
import { parseFunctionName } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter } from '../lambda-error.ts';
import { runtimeImage } from '../runtimes.ts';
import { FunctionAlreadyExists } from '../storage/errors.ts';
import { checkEnvironment, checkImageConfig, checkMemorySize, checkRuntime, checkString, checkTimeout } from '../validation.ts';
import type { OperationHandler } from './context.ts';
import { storeCode, type CodeSource } from './function-code.ts';
import { applyLayers, resolveLayers } from './function-layers.ts';
import { checkArchitectures, checkEphemeralStorage } from './settings.ts';

export const DEFAULT_TIMEOUT_SECONDS = 3;
export const DEFAULT_MEMORY_MB = 128;

export const createFunction: OperationHandler = async (context, request) => {
  const input = parseJsonObject(request.body);
  if (typeof input.FunctionName !== 'string') throw invalidParameter('FunctionName is required.');
  const ref = parseFunctionName(input.FunctionName);
  if (ref.qualifier !== undefined) throw invalidParameter('A function name passed to CreateFunction cannot have a qualifier.');
  if (typeof input.Role !== 'string' || input.Role === '') {
    throw invalidParameter("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
  }
  const packageType = checkPackageType(input.PackageType);

  let runtime: string | undefined;
  let handler: string | undefined;
  if (packageType === 'Zip') {
    if (input.Runtime === undefined || input.Handler === undefined) {
      throw invalidParameter('Runtime and Handler are mandatory parameters for functions created with deployment packages.');
    }
    runtime = checkRuntime(input.Runtime);
    handler = checkString(input.Handler, 'handler', '');
  } else {
    if (input.Runtime !== undefined || input.Handler !== undefined || input.Layers !== undefined) {
      throw invalidParameter("Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.");
    }
  }
  const settings = {
    role: input.Role,
    description: checkString(input.Description, 'description', ''),
    timeout: input.Timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : checkTimeout(input.Timeout),
    memorySize: input.MemorySize === undefined ? DEFAULT_MEMORY_MB : checkMemorySize(input.MemorySize),
    environment: checkEnvironment(input.Environment),
    imageConfig: packageType === 'Image' ? checkImageConfig(input.ImageConfig) : undefined,
    architectures: checkArchitectures(input.Architectures),
    ephemeralStorageMb: checkEphemeralStorage(input.EphemeralStorage),
    tags: checkTags(input.Tags),
  };
  if (input.Code === undefined || typeof input.Code !== 'object' || input.Code === null) {
    throw invalidParameter('Please provide a source for function code.');
  }

  // Checked before storing code so a taken name costs nothing; create() checks again, atomically.
  if (await context.store.get(ref.name)) throw new FunctionAlreadyExists(ref.name);
  const layers = input.Layers === undefined ? [] : await resolveLayers(context, input.Layers);
  const code = await storeCode(context.store, packageType, input.Code as CodeSource);

  const record: FunctionRecord = {
    name: ref.name,
    arn: functionArn(context.identity, ref.name),
    packageType,
    runtime,
    handler,
    image: code.kind === 'image' ? code.imageUri : runtimeImage(runtime!)!,
    code,
    ...settings,
    revisionId: randomUUID(),
    lastModified: lambdaTimestamp(),
  };
  if (record.imageConfig === undefined) delete record.imageConfig;
  await applyLayers(context, record, layers);
  await context.store.create(record);
  return { status: 201, json: functionConfiguration(record) };
};

function checkPackageType(value: unknown): PackageType {
  if (value === undefined || value === null) return 'Zip';
  if (value === 'Zip' || value === 'Image') return value;
  throw invalidParameter(
    `1 validation error detected: Value '${String(value)}' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Image, Zip]`,
  );
}

function checkTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((tag) => typeof tag !== 'string')) {
    throw invalidParameter('Tags must be a map of strings.');
  }
  return value as Record<string, string>;
}
