// Settings checked the same way by CreateFunction and UpdateFunctionConfiguration.
import { invalidParameter } from '../lambda-error.ts';

const ARCHITECTURES = ['x86_64', 'arm64'];
export const EPHEMERAL_STORAGE_RANGE = { min: 512, max: 10_240 };

export function checkArchitectures(value: unknown): string[] {
  if (value === undefined || value === null) return ['x86_64'];
  if (!Array.isArray(value) || value.length !== 1 || !ARCHITECTURES.includes(value[0])) {
    throw invalidParameter(
      `1 validation error detected: Value '${JSON.stringify(value)}' at 'architectures' failed to satisfy constraint: ` +
        'Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]',
    );
  }
  return value as string[];
}

export function checkEphemeralStorage(value: unknown): number {
  if (value === undefined || value === null) return EPHEMERAL_STORAGE_RANGE.min;
  const size = (value as { Size?: unknown }).Size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < EPHEMERAL_STORAGE_RANGE.min || size > EPHEMERAL_STORAGE_RANGE.max) {
    throw invalidParameter(
      `1 validation error detected: Value '${String(size)}' at 'ephemeralStorage.size' failed to satisfy constraint: ` +
        `Member must have value between ${EPHEMERAL_STORAGE_RANGE.min} and ${EPHEMERAL_STORAGE_RANGE.max}`,
    );
  }
  return size;
}
