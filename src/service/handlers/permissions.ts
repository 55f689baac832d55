// AddPermission, GetPolicy and RemovePermission: the resource-based policy of a function, of a published version or
// of an alias (src/iam/resource-policy.ts builds the statements). The API model has checked the statement id, the
// Action (lambda:X, lambda:* or *), the Qualifier and the conditions' patterns; what is left needs the stored
// function. Messages and the order they are checked in are AWS's (test_lambda_api.snapshot.json,
// TestLambdaPermissions and TestLambdaRevisions::test_function_revisions_permissions).
//
// RevisionId: a policy has its own, new at each change, which GetPolicy shows. A RevisionId given to AddPermission
// or RemovePermission must be that one, or the one the resource (the function, version or alias) has now: before the
// first statement there is no policy, and AWS then compares with the resource's (the function's RevisionId from
// GetFunction). Unlike AWS, a change to the policy leaves the resource's own RevisionId as it is.
import { randomUUID } from 'node:crypto';
import { isVersionNumber, LATEST } from '../../invocation/resolve-function.ts';
import { buildStatement, type PermissionInput, policyDocument, policyQualifier, type StoredPolicy } from '../../iam/resource-policy.ts';
import { aliasArn } from '../alias-configuration.ts';
import { functionArn, type FunctionRecord } from '../function-record.ts';
import { parseFunctionName, resolveQualifier } from '../function-name.ts';
import { parseJsonObject } from '../http-io.ts';
import { functionNotFound, invalidParameter, LambdaError, resourceConflict, resourceNotFound } from '../lambda-error.ts';
import type { OperationHandler, ServiceContext, ServiceRequest } from './context.ts';

/** An alias name: never digits only (those are versions). */
const ALIAS_NAME = /^(?!\d+$)[a-zA-Z0-9-_]+$/;

/** The resource a policy request names: the function, and the qualifier whose policy it is (undefined: unqualified). */
interface PolicyTarget {
  latest: FunctionRecord;
  qualifier: string | undefined;
  /** The RevisionId the resource itself has now. */
  resourceRevisionId: string;
  resourceArn: string;
}

function requestedQualifier(request: ServiceRequest): { name: string; qualifier: string | undefined } {
  const ref = parseFunctionName(request.functionName ?? '');
  return { name: ref.name, qualifier: resolveQualifier(ref, request.query.get('Qualifier')) };
}

/** The version or alias `qualifier` of `latest`, as AddPermission and RemovePermission name a missing one. */
async function resolveTarget(context: ServiceContext, latest: FunctionRecord, requested: string | undefined): Promise<PolicyTarget> {
  const qualifier = policyQualifier(requested);
  const arn = functionArn(context.identity, latest.name, qualifier);
  if (qualifier === undefined) return { latest, qualifier, resourceRevisionId: latest.revisionId, resourceArn: arn };
  if (isVersionNumber(qualifier)) {
    const version = await context.store.getVersion(latest.name, Number(qualifier));
    if (!version) throw functionNotFound(arn);
    return { latest, qualifier, resourceRevisionId: version.revisionId, resourceArn: arn };
  }
  if (ALIAS_NAME.test(qualifier)) {
    const alias = await context.store.aliases.get(latest.name, qualifier);
    if (!alias) throw resourceNotFound(`Cannot find alias arn: ${aliasArn(context.identity, latest.name, qualifier)}`);
    return { latest, qualifier, resourceRevisionId: alias.revisionId, resourceArn: arn };
  }
  // Allowed by the Qualifier's pattern (a `$` in it), but neither a version nor an alias.
  throw functionNotFound(arn);
}

/** Refuses a change written against another revision of the policy (or of its resource, before it had one). */
function checkPolicyRevision(target: PolicyTarget, current: StoredPolicy | undefined, revisionId: unknown): void {
  if (revisionId === undefined || revisionId === null || revisionId === '') return;
  if (revisionId === current?.revisionId || revisionId === target.resourceRevisionId) return;
  throw new LambdaError(
    412,
    'PreconditionFailedException',
    'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
  );
}

const optionalString = (value: unknown) => (typeof value === 'string' ? value : undefined);

export const addPermission: OperationHandler = async (context, request) => {
  const { name, qualifier } = requestedQualifier(request);
  if (qualifier === LATEST) throw invalidParameter('We currently do not support adding policies for $LATEST.');
  const latest = await context.store.get(name);
  if (!latest) throw functionNotFound(functionArn(context.identity, name));
  const target = await resolveTarget(context, latest, qualifier);
  const body = parseJsonObject(request.body);
  const input: PermissionInput = {
    StatementId: String(body.StatementId),
    Action: String(body.Action),
    Principal: String(body.Principal),
  };
  for (const member of ['SourceArn', 'SourceAccount', 'PrincipalOrgID', 'EventSourceToken', 'FunctionUrlAuthType'] as const) {
    const value = optionalString(body[member]);
    if (value !== undefined) input[member] = value;
  }
  if (typeof body.InvokedViaFunctionUrl === 'boolean') input.InvokedViaFunctionUrl = body.InvokedViaFunctionUrl;
  let added: string | undefined;
  await context.store.policies.change(latest.name, target.qualifier, (current) => {
    checkPolicyRevision(target, current, body.RevisionId);
    const statements = current?.statements ?? [];
    if (statements.some((statement) => statement.Sid === input.StatementId)) {
      throw resourceConflict(
        `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
      );
    }
    const statement = buildStatement(input, target.resourceArn);
    added = JSON.stringify(statement);
    return { revisionId: randomUUID(), statements: [...statements, statement] };
  });
  return { status: 201, json: { Statement: added } };
};

export const getPolicy: OperationHandler = async (context, request) => {
  const { name, qualifier } = requestedQualifier(request);
  const notFound = () => resourceNotFound('The resource you requested does not exist.');
  const latest = await context.store.get(name);
  if (!latest) throw notFound();
  // A version or alias that does not exist has no policy: the same answer.
  const policy = await context.store.policies.get(latest.name, policyQualifier(qualifier));
  if (!policy) throw notFound();
  return { status: 200, json: { Policy: JSON.stringify(policyDocument(policy.statements)), RevisionId: policy.revisionId } };
};

export const removePermission: OperationHandler = async (context, request) => {
  const { name, qualifier } = requestedQualifier(request);
  const latest = await context.store.get(name);
  if (!latest) throw resourceNotFound(`No policy found for: ${functionArn(context.identity, name)}`);
  const target = await resolveTarget(context, latest, qualifier);
  const statementId = request.statementId ?? '';
  await context.store.policies.change(latest.name, target.qualifier, (current) => {
    if (!current) throw resourceNotFound('No policy is associated with the given resource.');
    const statements = current.statements.filter((statement) => statement.Sid !== statementId);
    if (statements.length === current.statements.length) throw resourceNotFound(`Statement ${statementId} is not found in resource policy.`);
    checkPolicyRevision(target, current, request.query.get('RevisionId'));
    // The last statement gone, the policy goes (GetPolicy: 404).
    return { revisionId: randomUUID(), statements };
  });
  return { status: 204 };
};
