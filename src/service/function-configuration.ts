// The FunctionConfiguration shape, field for field as the Lambda API returns it (AWS's recorded answers: LocalStack's
// tests/aws/services/lambda_/test_lambda_api.snapshot.json, test_function_lifecycle and test_list_functions).
import { createHash } from 'node:crypto';
import { deadLetterConfigJson } from './dead-letter-config.ts';
import { CREATING } from './function-lifecycle.ts';
import type { FunctionRecord } from './function-record.ts';
import { runtimeImage } from './runtimes.ts';

export interface ConfigurationView {
  /**
   * The ARN with its qualifier (`:$LATEST`), as AWS answers when the request named the version. A published
   * version's ARN always carries its number.
   */
  qualified?: boolean;
  /** The qualifier the ARN carries instead: an alias's name, as AWS answers a read through an alias. */
  arnQualifier?: string;
  /** The Version shown instead: CreateFunction with Publish answers $LATEST's configuration with the new version's. */
  version?: string;
  /** As ListFunctions shows each function: without the state, the update status and RuntimeVersionConfig. */
  listed?: boolean;
}

export function functionConfiguration(fn: FunctionRecord, view: ConfigurationView = {}): Record<string, unknown> {
  const state = fn.state ?? 'Active';
  // Records from before lambkin had states were all done with their update.
  const lastUpdateStatus = fn.lastUpdateStatus ?? (fn.state === undefined ? 'Successful' : undefined);
  const showEnvironment = fn.environmentGiven ?? Object.keys(fn.environment).length > 0;
  const configuration: Record<string, unknown> = {
    FunctionName: fn.name,
    FunctionArn: functionArnOf(fn, view),
    Runtime: fn.runtime,
    Role: fn.role,
    Handler: fn.handler,
    CodeSize: fn.code.size,
    Description: fn.description,
    Timeout: fn.timeout,
    MemorySize: fn.memorySize,
    LastModified: fn.lastModified,
    CodeSha256: fn.code.sha256,
    Version: view.version ?? fn.version ?? '$LATEST',
    Environment: showEnvironment ? { Variables: fn.environment } : undefined,
    DeadLetterConfig: deadLetterConfigJson(fn.deadLetterTargetArn),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: fn.revisionId,
    PackageType: fn.packageType,
    Architectures: fn.architectures,
    EphemeralStorage: { Size: fn.ephemeralStorageMb },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
  if (!view.listed) {
    Object.assign(configuration, {
      State: state,
      ...(state === 'Pending' ? { StateReason: CREATING.reason, StateReasonCode: CREATING.code } : {}),
      LastUpdateStatus: lastUpdateStatus,
      ...(lastUpdateStatus === 'InProgress' ? { LastUpdateStatusReason: CREATING.reason, LastUpdateStatusReasonCode: CREATING.code } : {}),
      RuntimeVersionConfig: fn.runtime === undefined ? undefined : { RuntimeVersionArn: runtimeVersionArn(fn.arn, fn.runtime) },
    });
  }
  if (fn.layers && fn.layers.length > 0) {
    configuration.Layers = fn.layers.map((layer) => ({ Arn: layer.arn, CodeSize: layer.codeSize }));
  }
  if (fn.imageConfig && Object.keys(fn.imageConfig).length > 0) {
    configuration.ImageConfigResponse = { ImageConfig: fn.imageConfig };
  }
  // Lambda leaves out what a function does not have (an Image function has no Runtime or Handler).
  for (const key of Object.keys(configuration)) if (configuration[key] === undefined) delete configuration[key];
  return configuration;
}

function functionArnOf(fn: FunctionRecord, view: ConfigurationView): string {
  if (view.arnQualifier !== undefined) return `${fn.arn}:${view.arnQualifier}`;
  if (fn.version !== undefined) return `${fn.arn}:${fn.version}`;
  return view.qualified ? `${fn.arn}:$LATEST` : fn.arn;
}

/**
 * The runtime version a zip function runs, as AWS names one: `arn:aws:lambda:<region>::runtime:<64 hex>`. lambkin's
 * version of a runtime is the base image it runs on, so the hash is of that image's name (and the runtime's): it
 * changes when the function's runtime does.
 */
export function runtimeVersionArn(functionArn: string, runtime: string): string {
  const [arn, partition, service, region] = functionArn.split(':');
  const version = createHash('sha256')
    .update(`${runtime}\n${runtimeImage(runtime) ?? ''}`)
    .digest('hex');
  return `${arn}:${partition}:${service}:${region}::runtime:${version}`;
}

/** GetFunction's Code block: where the package can be fetched from. */
export function functionCodeLocation(fn: FunctionRecord): Record<string, unknown> {
  if (fn.code.kind === 'image') {
    // As recorded at create (or UpdateFunctionCode): the image resolved then, not whatever the tag names now, as
    // Lambda keeps the digest it resolved. Records from before lambkin resolved images answer the URI itself.
    return { RepositoryType: 'ECR', ImageUri: fn.code.imageUri, ResolvedImageUri: fn.code.resolvedImageUri ?? fn.code.imageUri };
  }
  // Lambda hands out a presigned S3 URL; lambkin's package lives on this machine.
  return { RepositoryType: 'S3', Location: `file://${fn.code.zipPath}` };
}
