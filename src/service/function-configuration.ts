// The FunctionConfiguration shape, field for field as the Lambda API returns it.
import type { FunctionRecord } from './function-record.ts';

export function functionConfiguration(fn: FunctionRecord): Record<string, unknown> {
  const configuration: Record<string, unknown> = {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: fn.role,
    Handler: fn.handler,
    CodeSize: fn.code.size,
    Description: fn.description,
    Timeout: fn.timeout,
    MemorySize: fn.memorySize,
    LastModified: fn.lastModified,
    CodeSha256: fn.code.sha256,
    Version: '$LATEST',
    Environment: { Variables: fn.environment },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: fn.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: fn.packageType,
    Architectures: fn.architectures,
    EphemeralStorage: { Size: fn.ephemeralStorageMb },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
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

/** GetFunction's Code block: where the package can be fetched from. */
export function functionCodeLocation(fn: FunctionRecord): Record<string, unknown> {
  if (fn.code.kind === 'image') {
    return { RepositoryType: 'ECR', ImageUri: fn.code.imageUri, ResolvedImageUri: fn.code.imageUri };
  }
  // Lambda hands out a presigned S3 URL; lambkin's package lives on this machine.
  return { RepositoryType: 'S3', Location: `file://${fn.code.zipPath}` };
}
