// Settings checked the same way by CreateFunction and UpdateFunctionConfiguration (and layers' architectures).
import { invalidParameter, invalidValue } from '../lambda-error.ts';

/** The instruction set architectures Lambda offers (a function's Architectures, a layer's CompatibleArchitectures). */
export const ARCHITECTURES: readonly string[] = ['x86_64', 'arm64'];
/** A function's when its request names none. */
export const DEFAULT_ARCHITECTURES: readonly string[] = ['x86_64'];
export const EPHEMERAL_STORAGE_RANGE = { min: 512, max: 10_240 };
/** A function's /tmp when its request names no size. */
export const DEFAULT_EPHEMERAL_STORAGE_MB = EPHEMERAL_STORAGE_RANGE.min;

/** Runtime, Handler and Layers belong to Zip functions: Lambda refuses them for an Image function, in these words. */
export const imageFunctionSettingsRefused = () =>
  invalidParameter("Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.");

/** The Architectures of a request; undefined when it names none (the function gets DEFAULT_ARCHITECTURES). */
export function checkArchitectures(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length !== 1 || !ARCHITECTURES.includes(value[0])) {
    throw invalidValue(
      JSON.stringify(value),
      'architectures',
      'Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]',
    );
  }
  return value as string[];
}

export function checkEphemeralStorage(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_EPHEMERAL_STORAGE_MB;
  const size = (value as { Size?: unknown }).Size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < EPHEMERAL_STORAGE_RANGE.min || size > EPHEMERAL_STORAGE_RANGE.max) {
    throw invalidValue(size, 'ephemeralStorage.size', `Member must have value between ${EPHEMERAL_STORAGE_RANGE.min} and ${EPHEMERAL_STORAGE_RANGE.max}`);
  }
  return size;
}
