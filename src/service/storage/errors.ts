// What the stores refuse, in storage's own terms: no HTTP status, no Lambda error type. The Lambda API says each
// in Lambda's words (asLambdaError in src/service/lambda-error.ts); other callers (lambkin serve registering its
// image functions) see them as they are.

/** A refusal by a store: the caller's input, not a fault of the store. */
export abstract class StorageRefusal extends Error {}

/** A function of this name is stored already. */
export class FunctionAlreadyExists extends StorageRefusal {
  readonly functionName: string;
  constructor(functionName: string) {
    super(`a function named ${functionName} exists already`);
    this.name = 'FunctionAlreadyExists';
    this.functionName = functionName;
  }
}

/** An alias of this name exists already for the function. */
export class AliasAlreadyExists extends StorageRefusal {
  readonly functionName: string;
  readonly aliasName: string;
  constructor(functionName: string, aliasName: string) {
    super(`function ${functionName} has an alias named ${aliasName} already`);
    this.name = 'AliasAlreadyExists';
    this.functionName = functionName;
    this.aliasName = aliasName;
  }
}

/** A deployment package (function code or layer) that cannot be unpacked as it is. */
export class InvalidZip extends StorageRefusal {
  /** What is wrong with it; absent when the zip cannot be read at all. */
  readonly reason: string | undefined;
  constructor(reason?: string) {
    super(reason === undefined ? 'the zip cannot be read' : `the zip cannot be unpacked: ${reason}`);
    this.name = 'InvalidZip';
    this.reason = reason;
  }
}

/** A package whose directory declares more entries than the store's limit (counted before anything is read). */
export class TooManyZipEntries extends StorageRefusal {
  readonly entryCount: number;
  readonly maxEntries: number;
  constructor(entryCount: number, maxEntries: number) {
    super(`the zip holds ${entryCount} entries, over the limit of ${maxEntries}`);
    this.name = 'TooManyZipEntries';
    this.entryCount = entryCount;
    this.maxEntries = maxEntries;
  }
}

/** A package that unzips to more than the store's limit (what its central directory declares). */
export class UnzippedSizeTooLarge extends StorageRefusal {
  readonly unzippedBytes: number;
  readonly maxUnzippedBytes: number;
  constructor(unzippedBytes: number, maxUnzippedBytes: number) {
    super(`the zip unzips to ${unzippedBytes} bytes, over the limit of ${maxUnzippedBytes}`);
    this.name = 'UnzippedSizeTooLarge';
    this.unzippedBytes = unzippedBytes;
    this.maxUnzippedBytes = maxUnzippedBytes;
  }
}
