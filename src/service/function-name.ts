// The FunctionName path parameter, in all the forms Lambda accepts: `name`, `name:qualifier`,
// `123456789012:function:name[:qualifier]`, `region:123456789012:function:name[:qualifier]` and
// `arn:aws:lambda:region:account:function:name[:qualifier]`. The API model's pattern has been checked before (a
// ValidationException); what is left is the service's own: whose function it is, and the name's length.
import type { ServiceIdentity } from '../runtime-api/function-arn.ts';
import { invalidParameter, invalidValue, otherAccount, otherRegion, validationError } from './lambda-error.ts';
import { LAMBDA_MODEL } from './model/lambda-model.ts';

export interface FunctionRef {
  name: string;
  /** The qualifier written into the name, if any. */
  qualifier?: string;
}

/** A function's name (without ARN or qualifier) is at most 64 characters; the model allows 140 for the whole ARN. */
const MAX_NAME_LENGTH = 64;
// Invoke's pattern also allows a dot, which no function's name has: such a name is not found.
// Invoke's pattern also allows a dot, which no function's name has: such a name is simply not found.
const NAME = '[a-zA-Z0-9-_.]+';
const QUALIFIER = '(?:\\$LATEST|[a-zA-Z0-9-_]+)';
// Groups: region, account, name, qualifier.
const PATTERNS = [
  new RegExp(`^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\\d{12}):function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^(?:([a-z0-9-]+):)?(\\d{12}):function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^()()(${NAME})(?::(${QUALIFIER}))?$`),
];

/**
 * Refuses a FunctionName that names a function of another region (404) or account (403) than `identity`, the
 * service's, as Lambda answers them; any other FunctionName passes (parseFunctionName reads it).
 */
export function checkFunctionHome(value: string, identity: ServiceIdentity): void {
  const match = PATTERNS.map((pattern) => pattern.exec(value)).find((found) => found !== null);
  if (!match) return;
  const [, region, account] = match;
  if (region && region !== identity.region) throw otherRegion(region, identity.region);
  if (account && account !== identity.accountId) throw otherAccount();
}

/** Parses an already URL-decoded FunctionName (its region and account checked before, by checkFunctionHome). */
export function parseFunctionName(value: string): FunctionRef {
  for (const pattern of PATTERNS) {
    const match = pattern.exec(value);
    if (!match) continue;
    const [, , , name = '', qualifier] = match;
    if (name.length > MAX_NAME_LENGTH) {
      throw invalidValue(name, 'functionName', `Member must have length less than or equal to ${MAX_NAME_LENGTH}`);
    }
    return qualifier === undefined ? { name } : { name, qualifier };
  }
  // A form the operation's own pattern let through that names no function lambkin can hold (the CLI's names, too).
  throw validationError(value, 'functionName', `Member must satisfy regular expression pattern: ${LAMBDA_MODEL.shapes.FunctionName!.pattern}`);
}

/**
 * The one qualifier a request names: from the FunctionName, from ?Qualifier=, or both when they agree.
 * Lambda refuses two that differ.
 */
export function resolveQualifier(ref: FunctionRef, queryQualifier: string | null): string | undefined {
  const fromQuery = queryQualifier === null || queryQualifier === '' ? undefined : queryQualifier;
  if (ref.qualifier !== undefined && fromQuery !== undefined && ref.qualifier !== fromQuery) {
    throw invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return ref.qualifier ?? fromQuery;
}
