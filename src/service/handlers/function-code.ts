// The Code of CreateFunction and UpdateFunctionCode: a base64 zip (Zip) or a local image (Image).
import { createHash } from 'node:crypto';
import type { ImageCode, PackageType, ZipCode } from '../function-record.ts';
import type { FunctionStore } from '../storage/function-store.ts';
import { invalidParameter } from '../lambda-error.ts';

export interface CodeSource {
  ZipFile?: unknown;
  ImageUri?: unknown;
  S3Bucket?: unknown;
}

export async function storeCode(store: FunctionStore, packageType: PackageType, source: CodeSource): Promise<ZipCode | ImageCode> {
  if (packageType === 'Image') {
    if (source.ZipFile !== undefined || source.S3Bucket !== undefined) {
      throw invalidParameter('Please provide ImageUri when the intended function PackageType is Image.');
    }
    if (typeof source.ImageUri !== 'string' || source.ImageUri === '') {
      throw invalidParameter('Please provide ImageUri when the intended function PackageType is Image.');
    }
    return imageCode(source.ImageUri);
  }
  if (source.ImageUri !== undefined) {
    throw invalidParameter("Please don't provide ImageUri when the intended function PackageType is Zip.");
  }
  if (source.S3Bucket !== undefined) {
    throw invalidParameter("lambkin serve takes a function's code as Code.ZipFile; S3 locations are not supported.");
  }
  if (typeof source.ZipFile !== 'string' || source.ZipFile === '') {
    throw invalidParameter('Please provide a source for function code.');
  }
  return store.putZip(Buffer.from(source.ZipFile, 'base64'));
}

/** An image function's Code: the URI, and its SHA-256 for CodeSha256 (the image's digest is not resolved). */
export function imageCode(imageUri: string): ImageCode {
  return { kind: 'image', imageUri, sha256: createHash('sha256').update(imageUri).digest('hex'), size: 0 };
}
