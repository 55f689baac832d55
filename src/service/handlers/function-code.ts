// The Code of CreateFunction and UpdateFunctionCode: a base64 zip (Zip) or a local image (Image).
import { createHash } from 'node:crypto';
import { repositoryOf, type ResolvedImage } from '../../environments/image-facts.ts';
import type { ImageCode, PackageType, ZipCode } from '../function-record.ts';
import type { FunctionInvoker } from '../invoker.ts';
import type { FunctionStore } from '../storage/function-store.ts';
import { invalidParameter } from '../lambda-error.ts';

export interface CodeSource {
  ZipFile?: unknown;
  ImageUri?: unknown;
  S3Bucket?: unknown;
}

/**
 * Checks and stores a function's new code. An image is resolved by `images` (the service's invoker) before the
 * answer, as Lambda resolves the tag to a digest in CreateFunction's and UpdateFunctionCode's own answer (their
 * CodeSha256 is already the digest: test_lambda_api.snapshot.json, test_lambda_image_crud) and refuses a missing
 * image there, with a 400.
 */
export async function storeCode(
  store: FunctionStore,
  packageType: PackageType,
  source: CodeSource,
  images?: Pick<FunctionInvoker, 'resolveImage'>,
): Promise<ZipCode | ImageCode> {
  if (packageType === 'Image') {
    if (source.ZipFile !== undefined || source.S3Bucket !== undefined) {
      throw invalidParameter('Please provide ImageUri when the intended function PackageType is Image.');
    }
    if (typeof source.ImageUri !== 'string' || source.ImageUri === '') {
      throw invalidParameter('Please provide ImageUri when the intended function PackageType is Image.');
    }
    return imageCode(source.ImageUri, await images?.resolveImage?.(source.ImageUri));
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

/**
 * An image function's Code: the URI as given, and the image it resolved to. Without one (an invoker that runs no
 * images, lambkin serve's own registration) the URI's SHA-256 stands in for the digest, in the same shape.
 */
export function imageCode(imageUri: string, resolved?: ResolvedImage): ImageCode {
  const digest = resolved?.digest ?? createHash('sha256').update(imageUri).digest('hex');
  const resolvedImageUri = resolved?.resolvedImageUri ?? `${repositoryOf(imageUri)}@sha256:${digest}`;
  return { kind: 'image', imageUri, sha256: digest, size: 0, resolvedImageUri };
}
