// AddPermission, GetPolicy and RemovePermission through the real @aws-sdk/client-lambda (and the AWS CLI when this
// machine has it): the statements and documents AWS writes for each Principal form and condition, RevisionId, AWS's
// statuses and words for every refusal (LocalStack's test_lambda_api.snapshot.json, TestLambdaPermissions and
// TestLambdaRevisions, recorded against AWS), a policy per version and alias, and policies that survive a restart and
// go with their function, version or alias.
import {
  AddPermissionCommand,
  type AddPermissionCommandInput,
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetPolicyCommand,
  PublishVersionCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { policyFor } from '../src/iam/resource-policy.ts';
import { makeZip } from '../tools/zip.ts';
import { createNodeFunction } from './support/lambda-fixtures.ts';
import { failure, noInvoker, useLocalService } from './support/local-service.ts';

const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const ACCOUNT = '123456789012';
const BUCKET = 'arn:aws:s3:::test-bucket';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NO_RESOURCE = 'The resource you requested does not exist.';
const REVISION_MISMATCH = 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id';

/** The AWS CLI is tested when this machine has it (it is not a dependency). */
const awsCli = await execa('aws', ['--version'], { reject: false }).then(
  (result) => result.exitCode === 0,
  () => false,
);

const local = useLocalService('lambkin-permissions-', () => ({ invoker: noInvoker('permission tests') }));

const zip = () => makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "ok";' }]);
const createFunction = (name = 'fn') => createNodeFunction(local.lambda, name, zip());

type AddInput = Omit<AddPermissionCommandInput, 'FunctionName'> & { FunctionName?: string };
const add = (input: AddInput) => local.lambda.send(new AddPermissionCommand({ FunctionName: 'fn', ...input }));
/** AddPermission's Statement, parsed. */
const addStatement = async (input: AddInput) => JSON.parse((await add(input)).Statement!) as unknown;
const getPolicy = (qualifier?: string, functionName = 'fn') => local.lambda.send(new GetPolicyCommand({ FunctionName: functionName, Qualifier: qualifier }));
/** GetPolicy's document, parsed, and its RevisionId. */
async function policy(qualifier?: string) {
  const answer = await getPolicy(qualifier);
  return { document: JSON.parse(answer.Policy!) as { Statement: { Sid: string }[] }, revisionId: answer.RevisionId! };
}
const remove = (statementId: string, extra: { Qualifier?: string; RevisionId?: string; FunctionName?: string } = {}) =>
  local.lambda.send(new RemovePermissionCommand({ FunctionName: 'fn', StatementId: statementId, ...extra }));

/** What a refusal shows a user: its status, its name and its message. */
async function refusal(promise: Promise<unknown>) {
  const error = await failure(promise);
  return { status: error.$metadata.httpStatusCode, name: error.name, message: error.message };
}

const s3Statement = (resource = FN_ARN, sid = 's3') => ({
  Sid: sid,
  Effect: 'Allow',
  Principal: { Service: 's3.amazonaws.com' },
  Action: 'lambda:InvokeFunction',
  Resource: resource,
  Condition: { ArnLike: { 'AWS:SourceArn': BUCKET } },
});
/** The s3 statement of AWS's recordings, with `extra` (a qualifier, a RevisionId) added. */
const addS3 = (extra: Partial<AddInput> = {}) =>
  add({ StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: BUCKET, ...extra });

describe('AddPermission and GetPolicy: the documents AWS writes', () => {
  it('answers 201 with the statement as a JSON string, and GetPolicy shows it in the default document', async () => {
    await createFunction();
    const added = await addS3();
    expect(added.$metadata.httpStatusCode).toBe(201);
    expect(typeof added.Statement).toBe('string');
    expect(JSON.parse(added.Statement!)).toEqual(s3Statement());
    const got = await getPolicy();
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(JSON.parse(got.Policy!)).toEqual({ Version: '2012-10-17', Id: 'default', Statement: [s3Statement()] });
    expect(got.RevisionId).toMatch(UUID);
  });

  it('writes each Principal form and condition as AWS does (TestLambdaPermissions::test_add_lambda_permission_fields)', async () => {
    await createFunction();
    const userArn = 'arn:aws:iam::123456789012:user/alice';
    expect(await addStatement({ StatementId: 'wilcard', Action: 'lambda:InvokeFunction', Principal: '*', SourceAccount: ACCOUNT })).toEqual({
      Sid: 'wilcard',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN,
      Condition: { StringEquals: { 'AWS:SourceAccount': ACCOUNT } },
    });
    expect(await addStatement({ StatementId: 'lambda', Action: 'lambda:InvokeFunction', Principal: 'lambda.amazonaws.com', SourceAccount: ACCOUNT })).toEqual({
      Sid: 'lambda',
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN,
      Condition: { StringEquals: { 'AWS:SourceAccount': ACCOUNT } },
    });
    expect(await addStatement({ StatementId: 'account-id', Action: 'lambda:InvokeFunction', Principal: '210987654321' })).toEqual({
      Sid: 'account-id',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::210987654321:root' },
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN,
    });
    expect(await addStatement({ StatementId: 'user-arn', Action: 'lambda:InvokeFunction', Principal: userArn, SourceAccount: ACCOUNT })).toEqual({
      Sid: 'user-arn',
      Effect: 'Allow',
      Principal: { AWS: userArn },
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN,
      Condition: { StringEquals: { 'AWS:SourceAccount': ACCOUNT } },
    });
    expect(
      await addStatement({
        StatementId: 'urlPermission',
        Action: 'lambda:InvokeFunctionUrl',
        Principal: '*',
        SourceArn: BUCKET,
        SourceAccount: ACCOUNT,
        PrincipalOrgID: 'o-1234567890',
        FunctionUrlAuthType: 'NONE',
      }),
    ).toEqual({
      Sid: 'urlPermission',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:InvokeFunctionUrl',
      Resource: FN_ARN,
      Condition: {
        StringEquals: { 'AWS:SourceAccount': ACCOUNT, 'lambda:FunctionUrlAuthType': 'NONE', 'aws:PrincipalOrgID': 'o-1234567890' },
        ArnLike: { 'AWS:SourceArn': BUCKET },
      },
    });
    const token = 'amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
    expect(await addStatement({ StatementId: 'alexaSkill', Action: 'lambda:InvokeFunction', Principal: '*', EventSourceToken: token })).toEqual({
      Sid: 'alexaSkill',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:InvokeFunction',
      Resource: FN_ARN,
      Condition: { StringEquals: { 'lambda:EventSourceToken': token } },
    });
    // The document holds them all, in the order they were added.
    const { document } = await policy();
    expect(document.Statement.map((statement) => statement.Sid)).toEqual(['wilcard', 'lambda', 'account-id', 'user-arn', 'urlPermission', 'alexaSkill']);
  });

  it('accepts lambda:* and * as the Action', async () => {
    await createFunction();
    expect(await addStatement({ StatementId: 'all', Action: 'lambda:*', Principal: ACCOUNT })).toMatchObject({ Action: 'lambda:*' });
    expect(await addStatement({ StatementId: 'star', Action: '*', Principal: ACCOUNT })).toMatchObject({ Action: '*' });
  });

  it('adds no statement when a function URL with AuthType NONE is created (the console does that, not the API)', async () => {
    await createFunction();
    await local.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'fn', AuthType: 'NONE' }));
    expect(await refusal(getPolicy())).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    await add({ StatementId: 'FunctionURLAllowPublicAccess', Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' });
    expect((await policyFor(local.service.store.policies, 'fn'))?.Statement).toEqual([
      {
        Sid: 'FunctionURLAllowPublicAccess',
        Effect: 'Allow',
        Principal: '*',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: FN_ARN,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
      },
    ]);
  });
});

describe('refusals, in AWS words', () => {
  it('refuses bad input with 400s before the function is looked up where AWS does (TestLambdaPermissions::test_permission_exceptions)', async () => {
    await createFunction();
    expect(await refusal(add({ StatementId: 'example.com', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' }))).toEqual({
      status: 400,
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
    });
    expect(await refusal(add({ StatementId: 's', Action: 's3:GetObject', Principal: 's3.amazonaws.com' }))).toEqual({
      status: 400,
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 's3:GetObject' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
    });
    expect(await refusal(add({ StatementId: 'lambda', Action: 'lambda:InvokeFunction', Principal: 'invalid.nonaws.com', SourceAccount: ACCOUNT }))).toEqual({
      status: 400,
      name: 'InvalidParameterValueException',
      message: 'The provided principal was invalid. Please check the principal and try again.',
    });
    for (const principal of ['12345', 'arn:aws:s3:::bucket', 'someone']) {
      expect((await refusal(add({ StatementId: 'p', Action: 'lambda:InvokeFunction', Principal: principal }))).name).toBe('InvalidParameterValueException');
    }
    expect(await refusal(addS3({ FunctionName: 'fn:alias-not-42', Qualifier: '42' }))).toEqual({
      status: 400,
      name: 'InvalidParameterValueException',
      message: 'The derived qualifier from the function name does not match the specified qualifier.',
    });
    expect(await refusal(addS3({ FunctionName: 'fn:$LATEST', Qualifier: '$LATEST' }))).toEqual({
      status: 400,
      name: 'InvalidParameterValueException',
      message: 'We currently do not support adding policies for $LATEST.',
    });
    expect(await refusal(addS3({ Qualifier: 'invalid-qualifier-with-?-char' }))).toEqual({
      status: 400,
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    });
    // Nothing was added by any of them.
    expect(await refusal(getPolicy())).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
  });

  it('answers 404 for what does not exist, as AWS words each', async () => {
    await createFunction();
    const notFound = (message: string) => ({ status: 404, name: 'ResourceNotFoundException', message });
    expect(await refusal(getPolicy(undefined, 'doesnotexist'))).toEqual(notFound(NO_RESOURCE));
    expect(await refusal(getPolicy('77'))).toEqual(notFound(NO_RESOURCE));
    expect(await refusal(addS3({ FunctionName: 'doesnotexist' }))).toEqual(notFound(`Function not found: ${FN_ARN.replace(/fn$/, 'doesnotexist')}`));
    expect(await refusal(remove('s3'))).toEqual(notFound('No policy is associated with the given resource.'));
    expect(await refusal(addS3({ FunctionName: 'fn:alias-doesnotexist' }))).toEqual(notFound(`Cannot find alias arn: ${FN_ARN}:alias-doesnotexist`));
    expect(await refusal(addS3({ Qualifier: '42' }))).toEqual(notFound(`Function not found: ${FN_ARN}:42`));
    expect(await refusal(addS3({ Qualifier: 'valid-with-$-but-doesnotexist' }))).toEqual(
      notFound(`Function not found: ${FN_ARN}:valid-with-$-but-doesnotexist`),
    );
    await addS3();
    expect(await refusal(addS3())).toEqual({
      status: 409,
      name: 'ResourceConflictException',
      message: 'The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.',
    });
    expect(await refusal(remove('s3', { FunctionName: 'doesnotexist' }))).toEqual(notFound(`No policy found for: ${FN_ARN.replace(/fn$/, 'doesnotexist')}`));
    expect(await refusal(remove('s3', { Qualifier: 'alias-doesnotexist' }))).toEqual(notFound(`Cannot find alias arn: ${FN_ARN}:alias-doesnotexist`));
    expect(await refusal(remove('non-existent'))).toEqual(notFound('Statement non-existent is not found in resource policy.'));
  });
});

describe('RemovePermission and RevisionId', () => {
  it('removes one statement at a time; with the last one the policy is gone (TestLambdaPermissions::test_remove_multi_permissions)', async () => {
    await createFunction();
    await add({ StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' });
    await add({ StatementId: 'sqs', Action: 'lambda:InvokeFunction', Principal: 'sqs.amazonaws.com', SourceArn: BUCKET });
    expect((await policy()).document.Statement.map((statement) => statement.Sid)).toEqual(['s3', 'sqs']);
    const removed = await remove('sqs');
    expect(removed.$metadata.httpStatusCode).toBe(204);
    expect((await policy()).document.Statement).toEqual([
      { Sid: 's3', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: FN_ARN },
    ]);
    await remove('s3', { RevisionId: (await policy()).revisionId });
    expect(await refusal(getPolicy())).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    expect(await refusal(remove('s3'))).toEqual({
      status: 404,
      name: 'ResourceNotFoundException',
      message: 'No policy is associated with the given resource.',
    });
  });

  it('gives the policy a new RevisionId at every change, and refuses a stale one with 412', async () => {
    await createFunction();
    const functionRevision = (await local.lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Configuration!.RevisionId!;
    // Before the first statement the function's RevisionId is the one to give (TestLambdaRevisions).
    expect(await refusal(addS3({ RevisionId: 'wrong' }))).toEqual({ status: 412, name: 'PreconditionFailedException', message: REVISION_MISMATCH });
    await addS3({ RevisionId: functionRevision });
    const first = (await policy()).revisionId;
    expect(first).not.toBe(functionRevision);
    await add({ StatementId: 's3_2', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', RevisionId: first });
    const second = (await policy()).revisionId;
    expect(second).not.toBe(first);
    expect(await refusal(add({ StatementId: 's3_3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', RevisionId: first }))).toEqual({
      status: 412,
      name: 'PreconditionFailedException',
      message: REVISION_MISMATCH,
    });
    expect(await refusal(remove('s3', { RevisionId: first }))).toEqual({ status: 412, name: 'PreconditionFailedException', message: REVISION_MISMATCH });
    expect((await policy()).document.Statement.map((statement) => statement.Sid)).toEqual(['s3', 's3_2']);
    await remove('s3', { RevisionId: second });
    expect((await policy()).revisionId).not.toBe(second);
  });
});

describe('a policy per qualifier', () => {
  it('keeps the function, each version and each alias apart, each with its own Resource (TestLambdaPermissions::test_lambda_permission_fn_versioning)', async () => {
    await createFunction();
    await addS3();
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    // Publishing copies no policy to the version.
    expect(await refusal(getPolicy('1'))).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    // The same statement id again, for the version (its name and the Qualifier agreeing).
    await addS3({ FunctionName: 'fn:1', Qualifier: '1' });
    expect((await policy('1')).document.Statement).toEqual([s3Statement(`${FN_ARN}:1`)]);
    const alias = await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'permission-alias', FunctionVersion: '1' }));
    expect(await refusal(addS3({ Qualifier: 'permission-alias', RevisionId: 'wrong' }))).toEqual({
      status: 412,
      name: 'PreconditionFailedException',
      message: REVISION_MISMATCH,
    });
    await addS3({ FunctionName: 'fn:permission-alias', Qualifier: 'permission-alias', RevisionId: alias.RevisionId! });
    expect((await policy('permission-alias')).document.Statement).toEqual([s3Statement(`${FN_ARN}:permission-alias`)]);
    // The unqualified function's policy is unchanged; $LATEST reads it too.
    expect((await policy()).document.Statement).toEqual([s3Statement()]);
    expect((await policy('$LATEST')).document.Statement).toEqual([s3Statement()]);
    // Removing from one qualifier leaves the others.
    await remove('s3', { Qualifier: '1' });
    expect(await refusal(getPolicy('1'))).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    expect((await policy('permission-alias')).document.Statement).toHaveLength(1);
    expect((await policy()).document.Statement).toHaveLength(1);
    // The authoriser's view matches GetPolicy's, qualifier by qualifier.
    expect(await policyFor(local.service.store.policies, 'fn', 'permission-alias')).toEqual((await policy('permission-alias')).document);
    expect(await policyFor(local.service.store.policies, 'fn', '$LATEST')).toEqual((await policy()).document);
    expect(await policyFor(local.service.store.policies, 'fn', '1')).toBeUndefined();
  });

  it('a deleted alias or version takes its policy with it; one made again under the same name starts without', async () => {
    await createFunction();
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
    await addS3({ Qualifier: 'live' });
    await addS3({ Qualifier: '1' });
    await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    await local.lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
    expect(await refusal(getPolicy('live'))).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    await local.lambda.send(new DeleteAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn', Qualifier: '1' }));
    expect(await policyFor(local.service.store.policies, 'fn', '1')).toBeUndefined();
  });
});

describe('policies in the data dir', () => {
  it('survive a restart, and go with DeleteFunction (a function made again under the name has none)', async () => {
    await createFunction();
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await addS3();
    await addS3({ Qualifier: '1' });
    const before = await policy();
    await local.restart();
    expect(await policy()).toEqual(before);
    expect((await policy('1')).document.Statement).toEqual([s3Statement(`${FN_ARN}:1`)]);
    await local.lambda.send(new DeleteFunctionCommand({ FunctionName: 'fn' }));
    expect(await refusal(getPolicy())).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    await createFunction();
    await local.lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    expect(await refusal(getPolicy())).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
    expect(await refusal(getPolicy('1'))).toEqual({ status: 404, name: 'ResourceNotFoundException', message: NO_RESOURCE });
  });
});

describe('the AWS CLI', () => {
  it.skipIf(!awsCli)('adds, reads and removes a permission', { timeout: 30_000 }, async () => {
    await createFunction();
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '' };
    const aws = (...args: string[]) => execa('aws', ['lambda', ...args, '--endpoint-url', local.service.endpoint], { env, reject: false });
    const added = await aws(
      'add-permission',
      '--function-name',
      'fn',
      '--statement-id',
      's3',
      '--action',
      'lambda:InvokeFunction',
      '--principal',
      's3.amazonaws.com',
      '--source-arn',
      BUCKET,
    );
    expect(added.exitCode).toBe(0);
    expect(JSON.parse((JSON.parse(added.stdout) as { Statement: string }).Statement)).toEqual(s3Statement());
    const got = await aws('get-policy', '--function-name', 'fn');
    expect(JSON.parse((JSON.parse(got.stdout) as { Policy: string }).Policy)).toEqual({ Version: '2012-10-17', Id: 'default', Statement: [s3Statement()] });
    expect((await aws('remove-permission', '--function-name', 'fn', '--statement-id', 's3')).exitCode).toBe(0);
    const gone = await aws('get-policy', '--function-name', 'fn');
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toContain('ResourceNotFoundException');
    expect(gone.stderr).toContain(NO_RESOURCE);
  });
});
