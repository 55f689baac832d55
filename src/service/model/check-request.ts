// What every request goes through after routing and before its operation runs, as AWS's front end does: the API
// model's constraints (one ValidationException naming every violation), then whose function an ARN names.
import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceIdentity } from '../../runtime-api/function-arn.ts';
import { checkFunctionHome } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { validationException } from '../lambda-error.ts';
import type { RouteMatch } from '../router.ts';
import { inputViolations, takesJsonBody, validationMessage } from './validate-input.ts';

export function checkRequest(route: RouteMatch, body: Buffer, identity: ServiceIdentity, headers: IncomingHttpHeaders = {}): void {
  // A body that is not a JSON object is refused first (InvalidRequestContentException), as the operation would.
  const input = takesJsonBody(route.operation) && body.length > 0 ? parseJsonObject(body) : undefined;
  const violations = inputViolations(route.operation, {
    path: {
      FunctionName: route.functionName,
      LayerName: route.layerName,
      VersionNumber: route.layerVersion,
      Name: route.aliasName,
      Resource: route.resource,
      UUID: route.uuid,
      StatementId: route.statementId,
    },
    query: route.query,
    headers,
    ...(input ? { body: input } : {}),
  });
  if (violations.length > 0) throw validationException(validationMessage(violations));
  const functionName = route.functionName ?? (route.operation === 'CreateFunction' ? input?.FunctionName : undefined);
  if (typeof functionName === 'string') checkFunctionHome(functionName, identity);
}
