// What every request goes through after routing and before its operation runs, as AWS's front end does: the API
// model's constraints (one ValidationException naming every violation), then whose function an ARN names.
import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceIdentity } from '../../runtime-api/function-arn.ts';
import { checkFunctionHome } from '../function-name.ts';
import { validationException } from '../lambda-error.ts';
import type { RouteMatch } from '../router.ts';
import { inputViolations, takesJsonBody, validationMessage } from './validate-input.ts';

export function checkRequest(route: RouteMatch, body: Buffer, identity: ServiceIdentity, headers: IncomingHttpHeaders = {}): void {
  const input = takesJsonBody(route.operation) ? jsonObject(body) : undefined;
  // A body that is not JSON is the operation's to refuse (InvalidRequestContentException), before any constraint.
  if (input === null) return;
  const violations = inputViolations(route.operation, {
    path: { FunctionName: route.functionName, LayerName: route.layerName, VersionNumber: route.layerVersion },
    query: route.query,
    headers,
    ...(input ? { body: input } : {}),
  });
  if (violations.length > 0) throw validationException(validationMessage(violations));
  const functionName = route.functionName ?? (route.operation === 'CreateFunction' ? input?.FunctionName : undefined);
  if (typeof functionName === 'string') checkFunctionHome(functionName, identity);
}

/** The body as a JSON object; undefined when empty (or not an object: the handler says so), null when not JSON. */
function jsonObject(body: Buffer): Record<string, unknown> | undefined | null {
  if (body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}
