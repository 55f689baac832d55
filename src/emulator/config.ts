// The emulator's settings, read the way AWS's Runtime Interface Emulator reads them (flags, then variables), so
// that scripts written for the RIE work unchanged. Unknown flags are ignored, as the RIE does.
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from '../http/browser-guard.ts';
import { DEFAULT_IDENTITY, functionArn } from '../runtime-api/function-arn.ts';
import { RUNTIME_DIR, TASK_ROOT } from '../runtime-api/runtime-variables.ts';

export interface EmulatorConfig {
  /** Where callers invoke: host and port of `/2015-03-31/functions/function/invocations`. */
  invokeHost: string;
  invokePort: number;
  /** Where the runtime reaches the Runtime API (AWS_LAMBDA_RUNTIME_API). */
  runtimeApiHost: string;
  runtimeApiPort: number;
  logLevel: string;
  /** The bootstrap command: explicit from the arguments, or undefined to discover one. */
  command: string[] | undefined;
  handler: string | undefined;
  functionName: string;
  functionVersion: string;
  memorySizeMb: number;
  timeoutMs: number;
  region: string;
  taskRoot: string;
  runtimeDir: string;
  /** Host names callers may use beyond the always-safe ones (LAMBKIN_ALLOWED_HOSTS); see src/http/browser-guard.ts. */
  allowedHosts: string[];
  /**
   * Invokes the environment takes at once: AWS_LAMBDA_MAX_CONCURRENCY, which Lambda Managed Instances set (the
   * runtime inherits the variable and runs that many at once); 1, classic Lambda, when unset.
   */
  maxConcurrency: number;
}

/** A user's mistake in flags or variables, reported in one clear line. */
export class EmulatorConfigError extends Error {
  override name = 'EmulatorConfigError';
}

const VALUE_FLAGS = new Set(['runtime-interface-emulator-address', 'runtime-api-address', 'log-level']);

function parseAddress(flag: string, value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const host = colon > 0 ? value.slice(0, colon).replace(/^\[|\]$/g, '') : '';
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EmulatorConfigError(`--${flag} must be host:port with a port from 0 (any free port) to 65535, got '${value}'`);
  }
  return { host, port };
}

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  const value = positiveNumber(name, raw, fallback);
  if (!Number.isInteger(value)) throw new EmulatorConfigError(`${name} must be a whole number, got '${raw}'`);
  return value;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new EmulatorConfigError(`${name} must be a positive number, got '${raw}'`);
  return value;
}

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): EmulatorConfig {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // Flags come before the bootstrap command; everything from the first positional on belongs to the command.
    if (positional.length === 0 && arg.startsWith('-')) {
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      if (eq !== -1) flags.set(name, body.slice(eq + 1));
      else if (VALUE_FLAGS.has(name)) {
        const value = argv[++i];
        if (value === undefined) throw new EmulatorConfigError(`--${name} needs a value`);
        flags.set(name, value);
      }
      continue;
    }
    positional.push(arg);
  }

  const invoke = parseAddress('runtime-interface-emulator-address', flags.get('runtime-interface-emulator-address') ?? '0.0.0.0:8080');
  const runtimeApi = parseAddress('runtime-api-address', flags.get('runtime-api-address') ?? '127.0.0.1:9001');
  const timeoutSeconds = positiveNumber('AWS_LAMBDA_FUNCTION_TIMEOUT', env.AWS_LAMBDA_FUNCTION_TIMEOUT, 300);
  const memorySizeMb = positiveNumber('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, 3008);

  // With two or more arguments the last one is the handler (`bootstrap index.handler`); the command runs whole.
  const argHandler = positional.length >= 2 ? positional[positional.length - 1] : undefined;
  return {
    invokeHost: invoke.host,
    invokePort: invoke.port,
    runtimeApiHost: runtimeApi.host,
    runtimeApiPort: runtimeApi.port,
    logLevel: flags.get('log-level') ?? env.LOG_LEVEL ?? 'info',
    command: positional.length > 0 ? positional : undefined,
    handler: argHandler ?? env.AWS_LAMBDA_FUNCTION_HANDLER ?? env._HANDLER,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME || 'test_function',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    memorySizeMb,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_IDENTITY.region,
    taskRoot: env.LAMBDA_TASK_ROOT || TASK_ROOT,
    runtimeDir: env.LAMBDA_RUNTIME_DIR || RUNTIME_DIR,
    allowedHosts: parseAllowedHosts(env[ALLOWED_HOSTS_ENV]),
    maxConcurrency: positiveInteger('AWS_LAMBDA_MAX_CONCURRENCY', env.AWS_LAMBDA_MAX_CONCURRENCY, 1),
  };
}

/** The ARN every invoke carries: the service's account (one for lambkin), in the container's region. */
export function invokedFunctionArn(config: EmulatorConfig): string {
  return functionArn({ ...DEFAULT_IDENTITY, region: config.region }, config.functionName);
}
