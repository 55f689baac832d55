// The FunctionName path parameter, in all the forms Lambda accepts: `name`, `name:qualifier`,
// `123456789012:function:name[:qualifier]` and `arn:aws:lambda:region:account:function:name[:qualifier]`.
import { invalidParameter, invalidValue } from './lambda-error.ts';

export interface FunctionRef {
  name: string;
  /** The qualifier written into the name, if any. */
  qualifier?: string;
}

const NAME = '[a-zA-Z0-9-_]{1,64}';
const QUALIFIER = '(?:\\$LATEST|[a-zA-Z0-9-_]{1,128})';
const PATTERNS = [
  new RegExp(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\\d{12}:function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^\\d{12}:function:(${NAME})(?::(${QUALIFIER}))?$`),
  new RegExp(`^(${NAME})(?::(${QUALIFIER}))?$`),
];

/** Parses an already URL-decoded FunctionName. */
export function parseFunctionName(value: string): FunctionRef {
  for (const pattern of PATTERNS) {
    const match = pattern.exec(value);
    if (match) return match[2] === undefined ? { name: match[1]! } : { name: match[1]!, qualifier: match[2] };
  }
  throw invalidValue(
    value,
    'functionName',
    'Member must satisfy regular expression pattern: ' +
      '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
  );
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
