// A function's resource-based policies: one per qualifier (the unqualified function, each published version, each
// alias), each a list of statements as AddPermission writes them. The statement and document shapes are AWS's
// (LocalStack's test_lambda_api.snapshot.json, TestLambdaPermissions, recorded against AWS). An authoriser reads a
// qualifier's document through policyFor.
import { invalidParameter } from '../service/lambda-error.ts';

/** A statement's Principal: a service, an account's or IAM principal's ARN, or anyone. */
export type PolicyPrincipal = { Service: string } | { AWS: string } | '*';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: PolicyPrincipal;
  Action: string;
  /** The function's ARN, qualified by the version or alias the policy belongs to. */
  Resource: string;
  /** Operator (StringEquals, ArnLike, Bool) to condition key to value. */
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Id: 'default';
  Statement: PolicyStatement[];
}

/** A qualifier's stored policy: its statements in the order they were added, and the RevisionId it has now. */
export interface StoredPolicy {
  revisionId: string;
  statements: PolicyStatement[];
}

export interface PolicyStore {
  /** The policy of `qualifier` (undefined: the unqualified function); undefined when it has no statement. */
  get(functionName: string, qualifier: string | undefined): Promise<StoredPolicy | undefined>;
  /**
   * Replaces the policy of `qualifier` with what `change` makes of the current one (undefined: none), read and
   * written in one step; `change` answering undefined removes the policy. `change` may throw to leave it as it is.
   */
  change(functionName: string, qualifier: string | undefined, change: (current: StoredPolicy | undefined) => StoredPolicy | undefined): Promise<void>;
  /** Removes the policy of one qualifier, or (qualifier absent) every policy of the function. */
  deleteAll(functionName: string, qualifier?: string): Promise<void>;
}

/** What AddPermission asks for (its body's members). */
export interface PermissionInput {
  StatementId: string;
  Action: string;
  Principal: string;
  SourceArn?: string;
  SourceAccount?: string;
  PrincipalOrgID?: string;
  EventSourceToken?: string;
  FunctionUrlAuthType?: string;
  InvokedViaFunctionUrl?: boolean;
}

const ACCOUNT_ID = /^\d{12}$/;
// Service principals: `s3.amazonaws.com`, China's `*.amazonaws.com.cn`, and Alexa's `alexa-appkit.amazon.com`.
const SERVICE = /^[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|amazon\.com)$/;
const IAM_ARN = /^arn:aws[a-zA-Z-]*:iam::\d{12}:.+$/;

/** The Principal a statement gets for AddPermission's Principal; AWS's 400 for anything else. */
export function principalOf(principal: string): PolicyPrincipal {
  if (principal === '*') return '*';
  if (SERVICE.test(principal)) return { Service: principal };
  if (ACCOUNT_ID.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (IAM_ARN.test(principal)) return { AWS: principal };
  throw invalidParameter('The provided principal was invalid. Please check the principal and try again.');
}

/** The statement AddPermission adds to the policy of the resource `resourceArn`, with its members in AWS's order. */
export function buildStatement(input: PermissionInput, resourceArn: string): PolicyStatement {
  const stringEquals: Record<string, string> = {};
  if (input.SourceAccount !== undefined) stringEquals['AWS:SourceAccount'] = input.SourceAccount;
  if (input.FunctionUrlAuthType !== undefined) stringEquals['lambda:FunctionUrlAuthType'] = input.FunctionUrlAuthType;
  if (input.PrincipalOrgID !== undefined) stringEquals['aws:PrincipalOrgID'] = input.PrincipalOrgID;
  if (input.EventSourceToken !== undefined) stringEquals['lambda:EventSourceToken'] = input.EventSourceToken;
  const condition: Record<string, Record<string, string>> = {};
  if (Object.keys(stringEquals).length > 0) condition.StringEquals = stringEquals;
  if (input.SourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': input.SourceArn };
  // No AWS recording shows this one's operator; Bool is how IAM compares a boolean key.
  if (input.InvokedViaFunctionUrl !== undefined) condition.Bool = { 'lambda:InvokedViaFunctionUrl': String(input.InvokedViaFunctionUrl) };
  return {
    Sid: input.StatementId,
    Effect: 'Allow',
    Principal: principalOf(input.Principal),
    Action: input.Action,
    Resource: resourceArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/** The document GetPolicy shows (as a JSON string) for a policy's statements. */
export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Id: 'default', Statement: statements };
}

/** The stored qualifier: the unqualified function and `$LATEST` are the same resource. */
export const policyQualifier = (qualifier: string | undefined): string | undefined => (qualifier === '$LATEST' ? undefined : qualifier);

/**
 * The resource policy of a function's `qualifier` (a version number or an alias name; absent or `$LATEST`: the
 * unqualified function), as GetPolicy shows it; undefined when it has no statement. For authorisers: a statement's
 * Resource is the qualified ARN it was added for.
 */
export async function policyFor(policies: PolicyStore, functionName: string, qualifier?: string): Promise<PolicyDocument | undefined> {
  const stored = await policies.get(functionName, policyQualifier(qualifier));
  return stored ? policyDocument(stored.statements) : undefined;
}
