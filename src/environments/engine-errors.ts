// What the Docker backend refuses before asking the engine, and the engine's failures in the words a Lambda caller
// expects (a missing image is the function's problem, a dead engine is ours).
import type { EnvironmentSpec } from './backend.ts';
import { LambdaEnvironmentError } from './errors.ts';
import { engineMessage, engineStatus, isEngineUnreachable } from '../docker/errors.ts';

/** A spec the engine would refuse, or that makes no environment. */
export function validate(spec: EnvironmentSpec): void {
  const invalid = (message: string) => new LambdaEnvironmentError('InvalidParameterValueException', message);
  if (!spec.functionName) throw invalid('functionName is required');
  if (!spec.image) throw invalid(`No image for function ${spec.functionName}`);
  if (!Number.isInteger(spec.memorySizeMb) || spec.memorySizeMb < 6) {
    // Docker refuses memory limits under 6 MB; Lambda's own floor (128) is the service's to enforce.
    throw invalid(`MemorySize must be a whole number of MB, at least 6: ${spec.memorySizeMb}`);
  }
  if (!(spec.timeoutSeconds > 0)) throw invalid(`Timeout must be positive: ${spec.timeoutSeconds}`);
}

/** An engine failure in the words a Lambda caller expects. */
export function translateEngineError(error: unknown, phase: 'prepare' | 'create' | 'start', spec?: EnvironmentSpec): Error {
  if (error instanceof LambdaEnvironmentError) return error;
  const message = engineMessage(error);
  if (isEngineUnreachable(error)) {
    return new LambdaEnvironmentError('ServiceException', `Docker engine unreachable: ${message}`, { cause: error });
  }
  const status = engineStatus(error);
  if (spec && phase === 'create' && status === 404 && /no such image/i.test(message)) {
    return new LambdaEnvironmentError('ResourceNotFoundException', `Image ${spec.image} not found locally: build it first`, { cause: error });
  }
  if (spec && status === 400) {
    return new LambdaEnvironmentError('InvalidParameterValueException', `Cannot ${phase} a container for ${spec.functionName}: ${message}`, { cause: error });
  }
  const what = spec ? `${phase} a container for ${spec.functionName}` : 'reach the Docker engine';
  return new LambdaEnvironmentError('ServiceException', `Cannot ${what}: ${message}`, { cause: error });
}
