// Lambda's limits on a zip deployment package (function code and layers), and the words for breaking them, in one
// place: the service refuses what breaks them (src/service/storage/zip-extract.ts; said in src/service/lambda-error.ts)
// and `lambkin package` / `lambkin layer` check them before writing (src/packaging/deployment-limits.ts). Plain
// constants and strings: both sides import this module, neither imports the other.

/** Lambda's limit on a zip uploaded directly (CodeSizeZipped): 50 MB. */
export const MAX_ZIPPED_BYTES = 52_428_800;
/** Lambda's limit on a function's unzipped code, its layers included (CodeSizeUnzipped): 250 MB. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

/**
 * lambkin's own limit on the entries (files, folders, links) of one zip. Lambda bounds packages by size only, but
 * every entry costs the service a file (and its metadata) to create: a 9.5 MB zip of 100,001 empty files took 40 s
 * and 465 MB to unpack before this limit. Chosen so that real packages never reach it: this repository's own
 * node_modules (TypeScript, esbuild, vitest, the AWS SDK v3 clients and a Node.js binary; 332 MB on disk, more than
 * Lambda's 250 MB) holds 12,874 entries (10,863 files, 2,011 folders), and a package at the limit would have to
 * fill 250 MB with entries averaging 2.6 KB. Counted from the zip's end-of-central-directory record, before
 * anything is read or written.
 */
export const MAX_PACKAGE_ENTRIES = 100_000;

/** Lambda's words (InvalidParameterValueException) for a package over the unzipped limit. */
export const unzippedSizeMessage = (maxUnzippedBytes: number) => `Unzipped size must be smaller than ${maxUnzippedBytes} bytes`;
/** Lambda's words for a zip sent inline over its limit (413 RequestEntityTooLargeException). */
export const zippedSizeMessage = (maxZippedBytes: number) => `Zipped size must be smaller than ${maxZippedBytes} bytes`;

/** The words for a package over the entry limit (an InvalidParameterValueException, as Lambda's own limits are). */
export const tooManyEntriesMessage = (entryCount: number, maxEntries: number) =>
  `Deployment package has too many entries: ${entryCount} files and folders, over lambkin's limit of ${maxEntries}`;
