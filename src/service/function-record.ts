// A function as the service keeps it: everything needed to answer the control plane and to start an
// environment for it. Stored as is (JSON) by the FunctionStore; the wire shape is function-configuration.ts.

export interface ImageConfig {
  EntryPoint?: string[];
  Command?: string[];
  WorkingDirectory?: string;
}

/** A zip package: content-addressed under the data dir, extracted once for environments to mount as /var/task. */
export interface ZipCode {
  kind: 'zip';
  /** Base64 SHA-256 of the zip, as Lambda reports CodeSha256. */
  sha256: string;
  /** The zip's size in bytes (CodeSize). */
  size: number;
  /** What it unzips to, in bytes (Lambda's 250 MB limit counts it, layers included); absent in older records. */
  unzippedSize?: number;
  /** Where the zip itself is kept. */
  zipPath: string;
  /** The extracted code: /var/task of the function's environments. */
  taskRoot: string;
}

/** A container image the local engine has; lambkin does not copy it. */
export interface ImageCode {
  kind: 'image';
  /** The ImageUri as given (GetFunction's Code.ImageUri). */
  imageUri: string;
  /**
   * CodeSha256: the image's digest (hex, without `sha256:`) when it was resolved at create or UpdateFunctionCode
   * (src/environments/image-facts.ts says which digest), as Lambda reports it. Records from before lambkin resolved
   * images, and functions made without an engine to ask, hold the SHA-256 of the URI instead.
   */
  sha256: string;
  /** Always 0: Lambda counts no code size for an image. */
  size: number;
  /** `<repository>@sha256:<digest>` (Code.ResolvedImageUri); absent in records from before lambkin resolved images. */
  resolvedImageUri?: string;
}

export type PackageType = 'Zip' | 'Image';

export type FunctionState = 'Pending' | 'Active' | 'Failed';
export type LastUpdateStatus = 'InProgress' | 'Successful' | 'Failed';

export interface FunctionRecord {
  name: string;
  /** The function's unqualified ARN (a version's too: its qualified ARN is `${arn}:${version}`). */
  arn: string;
  /**
   * Absent: $LATEST, the one mutable version. A published version's number ("1", "2", ...): a frozen snapshot of
   * $LATEST's code and configuration, stored apart (FunctionStore's versions), never changed afterwards.
   */
  version?: string;
  /** $LATEST only: the highest version number ever published (numbers are never reused, even after a delete). */
  lastPublishedVersion?: number;
  packageType: PackageType;
  /** Zip only. */
  runtime?: string;
  /** Zip only. */
  handler?: string;
  role: string;
  description: string;
  /** Seconds. */
  timeout: number;
  /** MB. */
  memorySize: number;
  environment: Record<string, string>;
  /**
   * The request gave Environment (even with no variables): Lambda shows it then, and leaves it out of the
   * configuration when it was never given. Absent in older records: shown when there are variables.
   */
  environmentGiven?: boolean;
  /** The image an environment runs: the runtime's base image for Zip, the ImageUri for Image. */
  image: string;
  imageConfig?: ImageConfig;
  code: ZipCode | ImageCode;
  tags: Record<string, string>;
  architectures: string[];
  ephemeralStorageMb: number;
  revisionId: string;
  /**
   * A change that gave the function a new RevisionId without changing what its environments run (a tag change, as
   * AWS gives one): `revisionId` is that RevisionId, `environmentRevision` the one its environments still run. Read
   * through environmentRevision(); stale (ignored) once any other change moves the RevisionId on.
   */
  sameEnvironment?: { revisionId: string; environmentRevision: string };
  /**
   * Lambda's State: Pending from CreateFunction until the function is ready (function-lifecycle.ts), then Active.
   * Absent in records written before lambkin had states: Active.
   */
  state?: FunctionState;
  /** LastUpdateStatus: InProgress from an update until it is done, then Successful; absent: none yet (or older). */
  lastUpdateStatus?: LastUpdateStatus;
  /** Lambda's own timestamp format, e.g. 2026-11-27T06:00:00.000+0000. */
  lastModified: string;
  /** Zip only: the layer versions unpacked at /opt, in order (a later layer's file wins). Absent: none. */
  layers?: FunctionLayer[];
  /** Zip only, with layers: the layers merged into one folder, bind-mounted read-only at /opt. */
  layerDirectory?: string;
  /** PutFunctionConcurrency's ReservedConcurrentExecutions; absent: the function shares the unreserved pool. */
  reservedConcurrency?: number;
  /**
   * $LATEST only (the function-wide home): PutProvisionedConcurrencyConfig's configs, by the qualifier each names (a
   * published version's number or an alias's name; never $LATEST, which Lambda refuses). Absent: none.
   */
  provisionedConcurrencyConfigs?: Record<string, ProvisionedConcurrencyRecord>;
  /**
   * Records written before lambkin had versions: one config on $LATEST, which Lambda does not allow. Reported and
   * removed when the service starts (provisioned-allocation.ts migrateLegacyProvisioned); never written any more.
   */
  provisionedConcurrency?: ProvisionedConcurrencyRecord;
  /**
   * $LATEST only (the function-wide home): PutFunctionEventInvokeConfig's configs, by the qualifier each names
   * (`$LATEST`, a published version's number or an alias's name). Absent: none, Lambda's defaults apply.
   */
  eventInvokeConfigs?: Record<string, EventInvokeConfigRecord>;
  /**
   * DeadLetterConfig.TargetArn: the SQS queue or SNS topic an event that failed goes to. Part of the version's own
   * configuration (frozen when it is published), unlike the event-invoke configs. Absent: none.
   */
  deadLetterTargetArn?: string;
}

/**
 * A layer version as a function holds it: a copy of what it needs, so deleting the layer version (which Lambda
 * allows) leaves the function working. The content stays on disk, content-addressed.
 */
export interface FunctionLayer {
  /** The LayerVersionArn. */
  arn: string;
  /** The layer zip's size (Layers[].CodeSize). */
  codeSize: number;
  /** Base64 SHA-256 of the layer zip. */
  sha256: string;
  unzippedSize: number;
  /** The extracted layer. */
  contentDirectory: string;
}

/**
 * An alias: a name for one published version (or $LATEST), optionally routing a share of invokes to one other
 * version. Stored apart from the function (FunctionStore's aliases); its RevisionId changes with every update.
 */
export interface AliasRecord {
  functionName: string;
  name: string;
  /** The version the alias points to: a number, or $LATEST. */
  functionVersion: string;
  description: string;
  /** RoutingConfig.AdditionalVersionWeights: at most one other version and the share (0 to 1) it gets. */
  additionalVersionWeights?: Record<string, number>;
  revisionId: string;
}

/** One qualifier's asynchronous-invocation settings, as PutFunctionEventInvokeConfig left them; absent: not set. */
export interface EventInvokeConfigRecord {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  /** DestinationConfig.OnSuccess.Destination. */
  onSuccess?: string;
  /** DestinationConfig.OnFailure.Destination. */
  onFailure?: string;
  /** Epoch seconds with a fraction, as Lambda reports this config's LastModified. */
  lastModified: number;
}

export interface ProvisionedConcurrencyRecord {
  requested: number;
  lastModified: string;
}

// Where the service says it runs (the region and account its ARNs carry): one definition, shared with the
// environments and the emulator.
export { DEFAULT_IDENTITY, functionArn, type ServiceIdentity } from '../runtime-api/function-arn.ts';

/**
 * The revision of `fn`'s code and configuration its environments run: they are retired when it changes. The
 * RevisionId, unless the last change of the function left its environments as they were.
 */
export function environmentRevision(fn: Pick<FunctionRecord, 'revisionId' | 'sameEnvironment'>): string {
  return fn.sameEnvironment?.revisionId === fn.revisionId ? fn.sameEnvironment.environmentRevision : fn.revisionId;
}

/** Lambda's LastModified: ISO-8601 with milliseconds and a `+0000` offset instead of `Z`. */
export function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}
