// DeadLetterConfig on CreateFunction and UpdateFunctionConfiguration: the SQS queue or SNS topic a failed
// asynchronous event goes to. Part of a version's configuration (FunctionRecord.deadLetterTargetArn). The model has
// checked the ARN's pattern (`arn:...` or empty); what is left is Lambda's own refusal of other services and regions.
// AWS's messages: "ARNs must start with 'arn:'" as recorded by users' reports of CreateFunction with an empty
// TargetArn (cloud-custodian#1990); the service and region ones as AWS words them for CloudFormation users.
import type { ServiceIdentity } from './function-record.ts';
import { invalidParameter } from './lambda-error.ts';

const DEAD_LETTER_SERVICES = new Set(['sqs', 'sns']);

/** What a request's DeadLetterConfig asks: a target to set, none to remove, or no change. */
export type DeadLetterChange = { set: string } | { remove: true } | undefined;

/**
 * CreateFunction's and UpdateFunctionConfiguration's DeadLetterConfig. `{}` (no TargetArn) changes nothing, as AWS's
 * recorded answer to an update with `{}` still shows the queue (LocalStack's test_lambda_destinations.snapshot.json,
 * test_dead_letter_queue, delete_dlq); an empty TargetArn removes it on an update and is refused on a create.
 */
export function deadLetterChange(value: unknown, identity: ServiceIdentity, creating: boolean): DeadLetterChange {
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  const target = (value as { TargetArn?: unknown }).TargetArn;
  if (target === undefined || target === null) return undefined;
  const arn = String(target);
  if (arn === '' && !creating) return { remove: true };
  if (!arn.startsWith('arn:')) throw invalidParameter(`Invalid dead letter queue ARN: ARNs must start with 'arn:': ${arn}`);
  const [, , service, region] = arn.split(':');
  if (!DEAD_LETTER_SERVICES.has(service ?? '')) {
    throw invalidParameter('Invalid dead letter queue ARN: The service specified by the TargetArn is not supported for dead letter configuration.');
  }
  if (region !== identity.region) {
    throw invalidParameter(
      "Invalid dead letter queue ARN: The resource specified by the TargetArn must be in the same region as the Lambda function it's associated with.",
    );
  }
  return { set: arn };
}

/** FunctionConfiguration's DeadLetterConfig: shown only when the version has one. */
export function deadLetterConfigJson(targetArn: string | undefined): { TargetArn: string } | undefined {
  return targetArn ? { TargetArn: targetArn } : undefined;
}
