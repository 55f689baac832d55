// The checks Lambda makes on a function's settings, with Lambda's own messages.
// The names Lambda reserves are the environments' to know: they set them.
import { RESERVED_VARIABLES } from '../environments/container-spec.ts';
import type { ImageConfig } from './function-record.ts';
import { invalidParameter, invalidValue } from './lambda-error.ts';
import { AWS_SUPPORTED_RUNTIMES } from './model/aws-runtimes.ts';
import { DEPRECATED_RUNTIMES, deprecatedRuntimeMessage, SUPPORTED_RUNTIMES } from './runtimes.ts';

export const TIMEOUT_RANGE = { min: 1, max: 900 };
export const MEMORY_RANGE = { min: 128, max: 10_240 };
/** All variables together, measured as Lambda measures them: their JSON. */
export const MAX_ENVIRONMENT_BYTES = 4_096;

const constraint = invalidValue;

export function checkTimeout(value: unknown): number {
  return checkInteger(value, 'timeout', TIMEOUT_RANGE);
}

export function checkMemorySize(value: unknown): number {
  return checkInteger(value, 'memorySize', MEMORY_RANGE);
}

function checkInteger(value: unknown, field: string, range: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw constraint(value, field, 'Member must be an integer');
  if (value < range.min) throw constraint(value, field, `Member must have value greater than or equal to ${range.min}`);
  if (value > range.max) throw constraint(value, field, `Member must have value less than or equal to ${range.max}`);
  return value;
}

/**
 * A function's Runtime: one AWS has retired (runtimes.ts) or does not support is refused in AWS's words (no
 * "1 validation error detected" here, and "or be a valid ARN"); one AWS supports and lambkin does not run yet says so.
 */
export function checkRuntime(value: unknown): string {
  if (typeof value === 'string' && DEPRECATED_RUNTIMES.includes(value)) throw invalidParameter(deprecatedRuntimeMessage(value));
  if (typeof value !== 'string' || !AWS_SUPPORTED_RUNTIMES.includes(value)) {
    throw invalidParameter(
      `Value ${String(value)} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_SUPPORTED_RUNTIMES.join(', ')}] or be a valid ARN`,
    );
  }
  if (!SUPPORTED_RUNTIMES.includes(value)) {
    throw invalidParameter(`lambkin serve does not support the runtime ${value} yet: it runs ${SUPPORTED_RUNTIMES.join(' and ')}.`);
  }
  return value;
}

export function checkEnvironment(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const variables = (value as { Variables?: unknown }).Variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw invalidParameter('Environment.Variables must be a map of strings');
  }
  const entries = Object.entries(variables as Record<string, unknown>);
  // The names' pattern was checked against the API model before (a ValidationException).
  for (const [key, item] of entries) {
    if (typeof item !== 'string') throw invalidParameter(`Environment variable ${key} must be a string`);
  }
  const reserved = entries.map(([key]) => key).filter((key) => RESERVED_VARIABLES.has(key));
  if (reserved.length > 0) {
    throw invalidParameter(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const measured = JSON.stringify(variables);
  if (Buffer.byteLength(measured) > MAX_ENVIRONMENT_BYTES) {
    throw invalidParameter(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return variables as Record<string, string>;
}

export function checkImageConfig(value: unknown): ImageConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter('ImageConfig must be an object');
  const { EntryPoint, Command, WorkingDirectory } = value as Record<string, unknown>;
  const config: ImageConfig = {};
  if (EntryPoint !== undefined) config.EntryPoint = checkStringList(EntryPoint, 'imageConfig.entryPoint');
  if (Command !== undefined) config.Command = checkStringList(Command, 'imageConfig.command');
  if (WorkingDirectory !== undefined) {
    if (typeof WorkingDirectory !== 'string') throw constraint(WorkingDirectory, 'imageConfig.workingDirectory', 'Member must be a string');
    config.WorkingDirectory = WorkingDirectory;
  }
  return config;
}

function checkStringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw constraint(value, field, 'Member must be a list of strings');
  return value as string[];
}

export function checkString(value: unknown, field: string, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw constraint(value, field, 'Member must be a string');
  return value;
}
