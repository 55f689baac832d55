// Lambda's size limits on a zip deployment package, checked on this side before anything is uploaded, in the
// words Lambda itself answers with, so that the message a user searches for is the one they see, plus what
// Lambda does not say: which files are the largest, so the user knows what to trim.
//   - 50 MB (52,428,800 bytes) zipped, for a zip sent directly in CreateFunction / UpdateFunctionCode /
//     PublishLayerVersion (Lambda refuses the request: RequestEntityTooLargeException);
//   - 250 MB (262,144,000 bytes) unzipped, the function's code and all its layers together
//     (InvalidParameterValueException: "Unzipped size must be smaller than 262144000 bytes");
//   - and lambkin serve's own limit on the entries of one zip (see src/limits/package-limits.ts for why), so that a
//     package lambkin writes is one lambkin serve takes.
// The limits themselves live in src/limits/package-limits.ts, which the service imports too.
import {
  MAX_PACKAGE_ENTRIES,
  MAX_UNZIPPED_BYTES,
  MAX_ZIPPED_BYTES,
  tooManyEntriesMessage,
  unzippedSizeMessage,
  zippedSizeMessage,
} from '../limits/package-limits.ts';

export { MAX_PACKAGE_ENTRIES, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES };
/** How many of the largest files a limit message names. */
export const LARGEST_FILES_SHOWN = 5;

/** A file (or a whole layer) and its unzipped size, for the "largest files" part of a message. */
export interface SizedItem {
  name: string;
  size: number;
}

export interface DeploymentSizes {
  /** The package's zip size; omitted when it is not known yet (then only the unzipped limit is checked). */
  zippedBytes?: number;
  /** The zip was stopped as soon as it went over: zippedBytes is a lower bound. */
  zippedIncomplete?: boolean;
  /** The package's own unzipped size. */
  unzippedBytes: number;
  /** The unzipped sizes of the layers the function will use (or other layers), counted in the 250 MB. */
  layers?: SizedItem[];
  /** The package's files, to name the largest ones. */
  files?: SizedItem[];
  /** The package's entries (files, links, empty folders); omitted: not checked. */
  entries?: number;
  maxEntries?: number;
  /** Overrides of the limits (tests, or an upload through S3 where the 50 MB does not apply: Infinity). */
  maxZippedBytes?: number;
  maxUnzippedBytes?: number;
}

export type DeploymentLimitCode = 'RequestEntityTooLargeException' | 'InvalidParameterValueException';

export interface DeploymentLimitViolation {
  /** The error Lambda would answer with. */
  code: DeploymentLimitCode;
  limit: 'zipped' | 'unzipped' | 'entries';
  /** The size found and the limit, in bytes (for `entries`: the entry count and the limit). */
  bytes: number;
  maxBytes: number;
  /** The largest files (and layers), largest first, at most LARGEST_FILES_SHOWN. */
  largest: SizedItem[];
  /** One paragraph: Lambda's error, the sizes, the largest files. */
  message: string;
}

/** A package over one of Lambda's limits. `violation` says which and names the largest files. */
export class DeploymentLimitError extends Error {
  readonly violation: DeploymentLimitViolation;
  constructor(violation: DeploymentLimitViolation) {
    super(violation.message);
    this.name = 'DeploymentLimitError';
    this.violation = violation;
  }
}

/**
 * The first limit the package breaks (the entry count, then the unzipped size: both known before anything is
 * compressed), or
 * undefined when it fits. Pure: no file is read.
 */
export function checkDeploymentLimits(sizes: DeploymentSizes): DeploymentLimitViolation | undefined {
  const maxUnzipped = sizes.maxUnzippedBytes ?? MAX_UNZIPPED_BYTES;
  const maxZipped = sizes.maxZippedBytes ?? MAX_ZIPPED_BYTES;
  const layers = sizes.layers ?? [];
  const files = sizes.files ?? [];
  const layerBytes = layers.reduce((sum, layer) => sum + layer.size, 0);
  const total = sizes.unzippedBytes + layerBytes;
  const maxEntries = sizes.maxEntries ?? MAX_PACKAGE_ENTRIES;
  if (sizes.entries !== undefined && sizes.entries > maxEntries) {
    const message =
      `InvalidParameterValueException: ${tooManyEntriesMessage(sizes.entries, maxEntries)} ` +
      `(lambkin serve refuses such a package; Lambda counts sizes only, but no ` +
      `real package comes near it: look for a folder that should not be in it, such as a cache or a build output).`;
    return { code: 'InvalidParameterValueException', limit: 'entries', bytes: sizes.entries, maxBytes: maxEntries, largest: [], message };
  }
  if (total > maxUnzipped) {
    const largest = largestItems([...files, ...layers.map((layer) => ({ name: `layer ${layer.name}`, size: layer.size }))]);
    const counted = layers.length === 0 ? '' : ` (the package ${formatBytes(sizes.unzippedBytes)} and ${layers.length} layer(s) ${formatBytes(layerBytes)})`;
    const message =
      `InvalidParameterValueException: ${unzippedSizeMessage(maxUnzipped)}: ` +
      `the package unzips to ${formatBytes(total)}${counted}, over Lambda's limit of ${formatBytes(maxUnzipped)} ` +
      `(250 MB, layers included).${largestText(largest)}`;
    return { code: 'InvalidParameterValueException', limit: 'unzipped', bytes: total, maxBytes: maxUnzipped, largest, message };
  }
  if (sizes.zippedBytes !== undefined && sizes.zippedBytes > maxZipped) {
    const largest = largestItems(files);
    const message =
      `RequestEntityTooLargeException: the zipped package is over Lambda's limit of ${formatBytes(maxZipped)} ` +
      `(50 MB) for a direct upload (Lambda would answer "${zippedSizeMessage(maxZipped)}"): ${sizes.zippedIncomplete ? 'already ' : ''}${formatBytes(sizes.zippedBytes)}` +
      `${sizes.zippedIncomplete ? ' when writing stopped' : ''}. ` +
      `Trim it, or upload it through S3 (S3Bucket/S3Key), where the unzipped limit alone applies.${largestText(largest, 'unzipped sizes')}`;
    return { code: 'RequestEntityTooLargeException', limit: 'zipped', bytes: sizes.zippedBytes, maxBytes: maxZipped, largest, message };
  }
  return undefined;
}

/** Throws a DeploymentLimitError for the first limit broken. */
export function assertDeploymentLimits(sizes: DeploymentSizes): void {
  const violation = checkDeploymentLimits(sizes);
  if (violation) throw new DeploymentLimitError(violation);
}

/** The `count` largest items, largest first (ties by name, so the message is stable). */
export function largestItems(items: readonly SizedItem[], count = LARGEST_FILES_SHOWN): SizedItem[] {
  return [...items].sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, count);
}

/** `52428800 bytes (50.0 MiB)`: the exact count Lambda's messages use, and a readable one. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytes} bytes (${value.toFixed(1)} ${units[unit]})`;
}

function largestText(largest: SizedItem[], what = 'sizes'): string {
  if (largest.length === 0) return '';
  const lines = largest.map((item) => `\n  ${formatBytes(item.size).padEnd(28)} ${item.name}`);
  return `\nLargest files (${what}):${lines.join('')}`;
}
