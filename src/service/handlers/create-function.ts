// CreateFunction: validates as Lambda does, stores the code, registers the function at $LATEST. The part after the
// request's checks, createStoredFunction, is also how lambkin serve registers its own image functions
// (src/cli/default-function.ts): one way to make a function, with one set of defaults.
import type { FunctionRecord, ImageConfig, PackageType } from '../function-record.ts';
import { functionArn } from '../function-record.ts';
import { deadLetterChange, type DeadLetterChange } from '../dead-letter-config.ts';
import { functionConfiguration } from '../function-configuration.ts';
import { startTransition } from '../function-lifecycle.ts';
import { parseFunctionName } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { invalidParameter, invalidValue } from '../lambda-error.ts';
import { runtimeImage } from '../runtimes.ts';
import { FunctionAlreadyExists } from '../storage/errors.ts';
import { checkEnvironment, checkImageConfig, checkMemorySize, checkRuntime, checkString, checkTimeout } from '../validation.ts';
import { newRevision, type OperationHandler, type ServiceContext } from './context.ts';
import { storeCode, type CodeSource } from './function-code.ts';
import { applyLayers, resolveLayers } from './function-layers.ts';
import { checkTagCount } from './tags.ts';
import { publish } from './versions.ts';
import { checkArchitectures, checkEphemeralStorage, DEFAULT_ARCHITECTURES, DEFAULT_EPHEMERAL_STORAGE_MB, imageFunctionSettingsRefused } from './settings.ts';

const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

/**
 * A function to create, its settings checked; those left out take Lambda's defaults. Its Code and Layers (as
 * CreateFunction names them) are checked as they are stored.
 */
export interface NewFunction {
  name: string;
  packageType: PackageType;
  role: string;
  /** Zip only. */
  runtime?: string;
  /** Zip only. */
  handler?: string;
  description?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  /** The request gave Environment (even empty): the configuration shows it. */
  environmentGiven?: boolean;
  /** Image only. */
  imageConfig?: ImageConfig;
  architectures?: string[];
  ephemeralStorageMb?: number;
  tags?: Record<string, string>;
  /** DeadLetterConfig.TargetArn. */
  deadLetterTargetArn?: string;
  code: CodeSource;
  /** LayerVersionArns. */
  layers?: unknown;
}

/**
 * Where a function is made: the store it goes to, the identity its ARN carries, and the invoker that resolves an
 * image (without one, an image's digest is not known: function-code.ts).
 */
export type FunctionHome = Pick<ServiceContext, 'store' | 'identity'> & Partial<Pick<ServiceContext, 'invoker'>>;

/**
 * Stores `fn`'s code and registers it at $LATEST, Pending: the caller starts its transition to Active
 * (function-lifecycle.ts) once it has answered. FunctionAlreadyExists when the name is taken.
 */
export async function createStoredFunction(home: FunctionHome, fn: NewFunction): Promise<FunctionRecord> {
  // Checked before storing code so a taken name costs nothing; create() checks again, atomically.
  if (await home.store.get(fn.name)) throw new FunctionAlreadyExists(fn.name);
  const layers = fn.layers === undefined ? [] : await resolveLayers(home, fn.layers);
  const code = await storeCode(home.store, fn.packageType, fn.code, home.invoker);

  const record: FunctionRecord = {
    name: fn.name,
    arn: functionArn(home.identity, fn.name),
    packageType: fn.packageType,
    runtime: fn.runtime,
    handler: fn.handler,
    image: code.kind === 'image' ? code.imageUri : runtimeImage(fn.runtime!)!,
    code,
    role: fn.role,
    description: fn.description ?? '',
    timeout: fn.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    memorySize: fn.memorySize ?? DEFAULT_MEMORY_MB,
    environment: fn.environment ?? {},
    ...(fn.environmentGiven ? { environmentGiven: true } : {}),
    imageConfig: fn.imageConfig,
    architectures: fn.architectures ?? [...DEFAULT_ARCHITECTURES],
    ephemeralStorageMb: fn.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_STORAGE_MB,
    tags: fn.tags ?? {},
    ...(fn.deadLetterTargetArn ? { deadLetterTargetArn: fn.deadLetterTargetArn } : {}),
    ...newRevision(),
    state: 'Pending',
  };
  if (record.imageConfig === undefined) delete record.imageConfig;
  await applyLayers(home, record, layers);
  await home.store.create(record);
  return record;
}

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
    if (input.Runtime !== undefined || input.Handler !== undefined || input.Layers !== undefined) throw imageFunctionSettingsRefused();
  }
  const settings = {
    role: input.Role,
    description: checkString(input.Description, 'description', ''),
    timeout: input.Timeout === undefined ? undefined : checkTimeout(input.Timeout),
    memorySize: input.MemorySize === undefined ? undefined : checkMemorySize(input.MemorySize),
    environment: checkEnvironment(input.Environment),
    environmentGiven: input.Environment !== undefined && input.Environment !== null,
    imageConfig: packageType === 'Image' ? checkImageConfig(input.ImageConfig) : undefined,
    architectures: checkArchitectures(input.Architectures),
    ephemeralStorageMb: checkEphemeralStorage(input.EphemeralStorage),
    tags: checkTags(input.Tags),
    deadLetterTargetArn: deadLetterTargetOf(deadLetterChange(input.DeadLetterConfig, context.identity, true)),
  };
  if (input.Code === undefined || typeof input.Code !== 'object' || input.Code === null) {
    throw invalidParameter('Please provide a source for function code.');
  }
  const record = await createStoredFunction(context, {
    name: ref.name,
    packageType,
    runtime,
    handler,
    ...settings,
    code: input.Code as CodeSource,
    layers: input.Layers,
  });
  if (input.Publish !== true) {
    // Answered Pending; Active follows once the code is durable (function-lifecycle.ts says why then).
    void startTransition(context, record);
    return { status: 201, json: functionConfiguration(record) };
  }
  // Publish: version 1 is stored now, before the transition starts (which then completes the $LATEST the publish
  // wrote). It names the same extracted code as $LATEST, so it runs as soon as it exists; AWS answers $LATEST's
  // configuration, Pending, with Version "1" (test_lambda_api.snapshot.json, test_publish_version_on_create).
  const { version, latest } = await publish(context, record);
  void startTransition(context, latest);
  return { status: 201, json: functionConfiguration(latest, { version: version.version }) };
};

const deadLetterTargetOf = (change: DeadLetterChange) => (change && 'set' in change ? change.set : undefined);

function checkPackageType(value: unknown): PackageType {
  if (value === undefined || value === null) return 'Zip';
  if (value === 'Zip' || value === 'Image') return value;
  throw invalidValue(value, 'packageType', 'Member must satisfy enum value set: [Image, Zip]');
}

function checkTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((tag) => typeof tag !== 'string')) {
    throw invalidParameter('Tags must be a map of strings.');
  }
  return checkTagCount(value as Record<string, string>);
}
